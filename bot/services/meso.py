"""MESO sets: two or three offers worth about the same to us, put to the buyer at once.

The rules: the offers of a set must be equivalent (their values to us within a
tolerance, and really different from each other); each set remembers which offer the
buyer chose, and the choices across sets show what the buyer values.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from enum import StrEnum
from functools import cache
from importlib.resources import files
from typing import Any

import yaml
from sqlalchemy import select, update
from sqlalchemy.orm import Session, joinedload, selectinload

from bot.services.accounts import (
    AccountShown,
    find_account,
    get_account,
    get_or_create_account,
)
from bot.services.errors import NotAllowed, NotFound, UsageError
from bot.services.governance import DebriefShown, Plan, latest_debrief, plan_of
from bot.services.prep import MAX_VALUE, PERIODS, Points, Prep, current_prep
from bot.services.shown import Shown, copied
from storage.models import MesoOffer, MesoSet, NegotiationSettings
from storage.upsert import add_or_read_winner

DEFAULT_TOLERANCE_PCT = 5.0
MAX_TOLERANCE_PCT = 50.0
MAX_OFFERS = 3
MAX_LABEL = 20
MAX_OFFER_TEXT = 500
# How many of each period a year holds: values per month, quarter or year convert.
PER_YEAR = {"month": 12, "quarter": 4, "year": 1}
# How many decided sets the revealed priorities look back over.
PRIORITY_HISTORY = 20

_PHRASE_SPLIT = re.compile(r"[,;+\n]|\s+(?:and|with|plus)\s+", re.IGNORECASE)


@dataclass(frozen=True)
class OfferContent:
    """What one offer puts on the table: its label, its parts, and its value to us; a
    stored offer keeps these in columns of the same names."""

    label: str
    terms: str | None = None  # price or commercial terms
    scope: str | None = None  # SLA tier or scope
    cadence: str | None = None  # review cadence
    extras: str | None = None
    value_to_us: float | None = None

    def content(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(OfferContent)}


@dataclass(frozen=True)
class OfferSpec(OfferContent):
    """One offer as written: a label and its terms, each part optional but not all."""

    # What value_to_us is counted per ("month", "quarter", "year", or "" when not said).
    period: str = ""

    def __post_init__(self) -> None:
        if self.period not in PERIODS:
            raise ValueError(f"unknown period {self.period!r}")
        if not self.label or len(self.label) > MAX_LABEL:
            raise UsageError(f"Offer labels are 1 to {MAX_LABEL} characters.")
        if not any(self.parts):
            raise UsageError(f"Offer {self.label} says nothing: give it terms.")
        if any(len(part) > MAX_OFFER_TEXT for part in self.parts):
            raise UsageError(f"Each part of an offer can be up to {MAX_OFFER_TEXT} characters.")
        if self.value_to_us is not None and not 0 <= self.value_to_us <= MAX_VALUE:
            raise UsageError("An offer's value is a number from 0 up.")

    @property
    def parts(self) -> tuple[str, ...]:
        return tuple(p for p in (self.terms, self.scope, self.cadence, self.extras) if p)


def phrases(parts: Sequence[str | None]) -> dict[str, str]:
    """The separate terms in an offer's text: folded key -> the words as written."""
    found: dict[str, str] = {}
    for part in parts:
        for piece in _PHRASE_SPLIT.split(part or ""):
            words = " ".join(piece.split()).strip(" .")
            if words:
                found.setdefault(words.casefold(), words)
    return found


@dataclass(frozen=True, kw_only=True)
class Offer(OfferContent, Shown):
    """A stored offer as a message shows it."""

    position: int


@dataclass(frozen=True)
class OfferSet:
    """A stored MESO set as a message shows it: plain values, read inside the session."""

    id: int
    account: AccountShown
    created_by: str
    created_at: datetime
    tolerance_pct: float
    chosen_label: str | None
    offers: tuple[Offer, ...]
    # What the values are counted per ("" when not said); when it was shared by button.
    value_period: str = ""
    shared_at: datetime | None = None

    @property
    def team_id(self) -> str:
        return self.account.team_id

    @property
    def account_id(self) -> int:
        return self.account.id

    @classmethod
    def of(cls, row: MesoSet) -> OfferSet:
        offers = tuple(Offer.of(offer) for offer in row.offers)
        return copied(cls, row, account=AccountShown.of(row.account), offers=offers)


def offer_phrases(offer: OfferSpec | Offer) -> dict[str, str]:
    return phrases((offer.terms, offer.scope, offer.cadence, offer.extras))


# --- equivalence -------------------------------------------------------------------------


class IssueKind(StrEnum):
    SINGLE = "single"  # only one offer: no choice at all
    IDENTICAL = "identical"  # two offers that differ in nothing
    VALUE_GAP = "value_gap"  # worth more than the tolerance apart to us
    UNVALUED = "unvalued"  # some offers carry a value and these do not


@dataclass(frozen=True)
class OfferGap:
    """One offer out of line: how far its value to us sits from the middle offer's."""

    label: str
    value: float
    pct_from_middle: float  # + richer for us than the middle, - poorer

    @property
    def richer_for_us(self) -> bool:
        return self.pct_from_middle > 0


@dataclass(frozen=True)
class Issue:
    kind: IssueKind
    labels: tuple[str, ...]  # the offers out of line
    # For a value gap: every offer outside the tolerance band, and which way it is off.
    gaps: tuple[OfferGap, ...] = ()


@dataclass(frozen=True)
class Equivalence:
    tolerance_pct: float
    issues: tuple[Issue, ...]
    # How far apart the highest and lowest values are, as a percent of the lowest;
    # None when fewer than two offers carry a value.
    spread_pct: float | None
    valued: bool  # every offer carries a value to us

    @property
    def ok(self) -> bool:
        return not self.issues


def spread_of(values: Sequence[float]) -> float:
    low, high = min(values), max(values)
    if high == low:
        return 0.0
    base = low if low > 0 else high
    return (high - low) / base * 100


def offer_gaps(
    labels: Sequence[str], values: Sequence[float], *, tolerance_pct: float
) -> tuple[OfferGap, ...]:
    """The offers out of line, each with which way it is off.

    The tolerance is a band as wide as the tolerance, centred on the middle (median)
    value: every offer outside it is named, so with 100k / 130k / 90k at 5% both the
    richer B and the poorer C are. Should no single offer leave the band while the
    spread still exceeds the tolerance (values just over it, on a low base), the ones
    furthest from the middle are named, so a failed check always names someone.
    """
    middle = statistics.median(values)
    base = abs(middle) or max(abs(v) for v in values) or 1.0
    offsets = [(v - middle) / base * 100 for v in values]
    half = tolerance_pct / 2
    named = [i for i, off in enumerate(offsets) if abs(off) > half]
    if not named:
        furthest = max(abs(off) for off in offsets)
        named = [i for i, off in enumerate(offsets) if abs(off) == furthest]
    return tuple(OfferGap(labels[i], values[i], offsets[i]) for i in named)


def check_equivalence(
    offers: Sequence[OfferSpec | Offer], *, tolerance_pct: float = DEFAULT_TOLERANCE_PCT
) -> Equivalence:
    """Are these offers a fair MESO: several, really different, and worth the same to us?"""
    issues: list[Issue] = []
    if len(offers) < 2:
        issues.append(Issue(IssueKind.SINGLE, tuple(o.label for o in offers)))
    seen: dict[frozenset[str], str] = {}
    for offer in offers:
        key = frozenset(offer_phrases(offer))
        if key in seen:
            issues.append(Issue(IssueKind.IDENTICAL, (seen[key], offer.label)))
        else:
            seen[key] = offer.label
    valued = [o for o in offers if o.value_to_us is not None]
    unvalued = tuple(o.label for o in offers if o.value_to_us is None)
    if valued and unvalued:
        issues.append(Issue(IssueKind.UNVALUED, unvalued))
    spread: float | None = None
    if len(valued) >= 2:
        values = [float(o.value_to_us) for o in valued if o.value_to_us is not None]
        spread = spread_of(values)
        if spread > tolerance_pct:
            gaps = offer_gaps([o.label for o in valued], values, tolerance_pct=tolerance_pct)
            issues.append(Issue(IssueKind.VALUE_GAP, tuple(g.label for g in gaps), gaps))
    return Equivalence(
        tolerance_pct=tolerance_pct,
        issues=tuple(issues),
        spread_pct=spread,
        valued=bool(offers) and not unvalued,
    )


# --- against the prep --------------------------------------------------------------------


def converted(value: float, period: str, to: str) -> float | None:
    """`value` counted per `period`, counted per `to` instead; None when one of the two
    is a total (or not said) and the other is not: they do not convert."""
    if period == to:
        return value
    if period in PER_YEAR and to in PER_YEAR:
        return value * PER_YEAR[period] / PER_YEAR[to]
    return None


@dataclass(frozen=True)
class OfferAgainstPrep:
    """One valued offer held against the prep's points."""

    label: str
    value: float  # as the offer counts it
    in_prep_terms: float  # counted per the prep's period
    below_walk_away: bool
    # How far from the opening anchor, as a percent of it: + above, - below; None
    # without an anchor (or with an anchor of 0, which no offer can be a share of).
    from_anchor_pct: float | None


@dataclass(frozen=True)
class PrepCheck:
    """A set's offers against the account's current negotiation prep: below its walk-away
    point (not to be put to the buyer as it stands), and how far each sits from its
    opening anchor. Values over different periods are compared only when they convert
    (per month, quarter or year); a total and a value per period do not."""

    prep_number: int  # which negotiation with the account the prep is about
    points: Points  # the prep's walk-away point, anchor and target, and their period
    offers_period: str  # the set's
    comparable: bool
    offers: tuple[OfferAgainstPrep, ...] = ()

    @property
    def has_points(self) -> bool:
        return self.points.reservation is not None or self.points.anchor is not None

    @property
    def below(self) -> tuple[OfferAgainstPrep, ...]:
        """The offers worth less to us than the walk-away point."""
        return tuple(offer for offer in self.offers if offer.below_walk_away)

    @property
    def converted(self) -> bool:
        """The offers count per another period than the prep, converted to its own."""
        return self.comparable and self.offers_period != self.points.period


def check_against_prep(
    offers: Sequence[OfferSpec | Offer], offers_period: str, prep: Prep
) -> PrepCheck:
    """Each valued offer against the prep's walk-away point and anchor."""
    points = prep.points
    comparable = converted(1.0, offers_period, points.period) is not None
    check = PrepCheck(prep.number, points, offers_period, comparable)
    if not check.comparable or not check.has_points:
        return check
    held: list[OfferAgainstPrep] = []
    for offer in offers:
        if offer.value_to_us is None:
            continue
        value = converted(offer.value_to_us, offers_period, points.period)
        assert value is not None
        anchor = points.anchor
        held.append(
            OfferAgainstPrep(
                label=offer.label,
                value=offer.value_to_us,
                in_prep_terms=value,
                below_walk_away=points.reservation is not None and value < points.reservation,
                from_anchor_pct=(value - anchor) / anchor * 100 if anchor else None,
            )
        )
    return replace(check, offers=tuple(held))


# --- one period for the set ---------------------------------------------------------------


def check_periods(offers: Sequence[OfferSpec]) -> None:
    """Refuse values that cannot be compared: a total (or a value whose period is not
    said) beside a value per month, quarter or year. Periods that convert are fine."""
    valued = [offer for offer in offers if offer.value_to_us is not None]
    if len({bool(offer.period) for offer in valued}) < 2:
        return
    read = ", ".join(
        f"{offer.label} {_amount_words(offer.value_to_us or 0.0, offer.period)}" for offer in valued
    )
    raise UsageError(
        f"I read {read}: a value with no period and a value per month, quarter or year "
        "do not compare. Give each value its period (`value: 10k/mo`, `value: 120k/yr`), "
        "or none of them."
    )


def _amount_words(value: float, period: str) -> str:
    number = f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{number} a {period}" if period else f"{number} with no period"


class PeriodReason(StrEnum):
    """Why a set's values are shown per the period they are."""

    AS_TYPED = "as_typed"  # every valued offer was typed per it (or no offer has a value)
    PREP = "prep"  # the prep counts its walk-away point and anchor per it
    MOST = "most"  # most offers were typed per it
    FIRST = "first"  # as many were typed per another: the first offer's


@dataclass(frozen=True)
class InOnePeriod:
    """A set's offers with every value counted per one period, and how it was chosen."""

    period: str
    reason: PeriodReason
    offers: tuple[OfferSpec, ...]
    # The offers whose values were converted, as they were typed.
    retyped: tuple[OfferSpec, ...] = ()


def in_one_period(offers: Sequence[OfferSpec], prep_period: str | None = None) -> InOnePeriod:
    """Count every offer's value per one period: the prep's (when there is a prep whose
    points are per a period), else the one most offers were typed per, else the first
    offer's. Call check_periods first: a total and a period never meet here."""
    check_periods(offers)
    typed = [offer.period for offer in offers if offer.value_to_us is not None and offer.period]
    if not typed:
        return InOnePeriod("", PeriodReason.AS_TYPED, tuple(offers))
    counts = Counter(typed)
    if prep_period:
        period, reason = prep_period, PeriodReason.PREP
    else:
        # most_common keeps first-seen order among ties: the first offer's period wins.
        period, times = counts.most_common(1)[0]
        tied = sum(1 for count in counts.values() if count == times) > 1
        reason = PeriodReason.FIRST if tied else PeriodReason.MOST
    if set(typed) == {period}:
        reason = PeriodReason.AS_TYPED
    shown: list[OfferSpec] = []
    retyped: list[OfferSpec] = []
    for offer in offers:
        if offer.value_to_us is None or offer.period in ("", period):
            shown.append(offer)
            continue
        value = converted(offer.value_to_us, offer.period, period)
        assert value is not None  # both are periods: they convert
        retyped.append(offer)
        shown.append(replace(offer, value_to_us=value, period=period))
    return InOnePeriod(period, reason, tuple(shown), tuple(retyped))


# --- the team's tolerance -----------------------------------------------------------------


def check_tolerance(tolerance_pct: float) -> float:
    if not 0 <= tolerance_pct <= MAX_TOLERANCE_PCT:
        raise UsageError(
            f"`tolerance:` is a percentage from 0 to {MAX_TOLERANCE_PCT:g}.", key="tolerance"
        )
    return tolerance_pct


def team_tolerance(session: Session, *, team_id: str) -> float:
    settings = session.get(NegotiationSettings, team_id)
    return settings.meso_tolerance_pct if settings is not None else DEFAULT_TOLERANCE_PCT


def set_team_tolerance(
    session: Session,
    *,
    team_id: str,
    tolerance_pct: float,
    user_id: str,
    is_workspace_admin: bool,
    now: datetime,
) -> float:
    """Change the team's tolerance: a rule for everyone's offers, so admins and owners only."""
    check_tolerance(tolerance_pct)
    if not is_workspace_admin:
        current = team_tolerance(session, team_id=team_id)
        raise NotAllowed(
            "Only a Slack workspace admin or owner can change this team's MESO tolerance. "
            f"It stays at {current:g}%; ask an admin to run `/meso tolerance: "
            f"{tolerance_pct:g}%` if it should change."
        )
    settings = NegotiationSettings.for_change(session, team_id=team_id, user_id=user_id, now=now)
    settings.meso_tolerance_pct = tolerance_pct
    session.flush()
    return tolerance_pct


# --- sets and choices ---------------------------------------------------------------------


@dataclass(frozen=True)
class Built:
    meso: OfferSet
    equivalence: Equivalence
    previous: OfferSet | None  # the latest earlier set the buyer chose from
    created: bool  # False: the same form was submitted before
    # What the set is read beside: its offers against the account's current prep (None:
    # no prep), the governance plan that goes with every offer, and what the latest
    # debrief said the next set should include.
    against_prep: PrepCheck | None = None
    plan: Plan | None = None
    last_debrief: DebriefShown | None = None
    # How the values came to be counted per the set's one period, when the set was
    # just built from typed offers (None: read back from storage).
    periods: InOnePeriod | None = None

    @property
    def needs_confirmation(self) -> bool:
        """Sharing it waits for a deliberate yes: an offer is below the walk-away point."""
        return self.against_prep is not None and bool(self.against_prep.below)


def _sets(session: Session, *, team_id: str, account_id: int) -> list[MesoSet]:
    return list(
        session.scalars(
            select(MesoSet)
            .where(MesoSet.team_id == team_id, MesoSet.account_id == account_id)
            .order_by(MesoSet.created_at.desc(), MesoSet.id.desc())
            .options(selectinload(MesoSet.offers), joinedload(MesoSet.account))
            .limit(PRIORITY_HISTORY)
        )
    )


def last_decided(
    session: Session, *, team_id: str, account_id: int, before_id: int | None = None
) -> OfferSet | None:
    query = (
        select(MesoSet)
        .where(
            MesoSet.team_id == team_id,
            MesoSet.account_id == account_id,
            MesoSet.chosen_label.is_not(None),
        )
        .order_by(MesoSet.created_at.desc(), MesoSet.id.desc())
        .options(selectinload(MesoSet.offers), joinedload(MesoSet.account))
        .limit(1)
    )
    if before_id is not None:
        query = query.where(MesoSet.id != before_id)
    found = session.scalar(query)
    return OfferSet.of(found) if found is not None else None


def _check_labels(offers: Sequence[OfferSpec]) -> None:
    if len(offers) > MAX_OFFERS:
        raise UsageError(f"A MESO is two or three offers, not {len(offers)}.")
    labels = [o.label.casefold() for o in offers]
    if len(set(labels)) != len(labels):
        raise UsageError("Give each offer its own label (A, B, C).")


def build_meso(
    session: Session,
    *,
    team_id: str,
    account_name: str,
    user_id: str,
    offers: Sequence[OfferSpec],
    now: datetime,
    tolerance_pct: float | None = None,
    source_key: str | None = None,
) -> Built:
    """Store a set of offers for the account and check they are equivalent."""
    _check_labels(offers)
    if not offers:
        raise UsageError("Write at least one offer, e.g. `A: list price, standard SLA`.")
    tolerance = (
        check_tolerance(tolerance_pct)
        if tolerance_pct is not None
        else team_tolerance(session, team_id=team_id)
    )
    if source_key is not None:
        existing = _by_source(session, team_id=team_id, source_key=source_key)
        if existing is not None:
            return _built(session, existing, created=False)
    account = get_or_create_account(
        session, team_id=team_id, name=account_name, user_id=user_id, now=now
    )
    prep = current_prep(session, team_id=team_id, account_id=account.id)
    periods = in_one_period(offers, prep.points.period if prep else None)
    meso = MesoSet(
        team_id=team_id,
        account=account,
        created_by=user_id,
        created_at=now,
        tolerance_pct=tolerance,
        source_key=source_key,
        value_period=periods.period,
        offers=[
            MesoOffer(team_id=team_id, position=position, **offer.content())
            for position, offer in enumerate(periods.offers)
        ],
    )
    # The same form submitted twice at once: the second gets the first one's set.
    meso, created = add_or_read_winner(
        session,
        meso,
        lambda: _by_source(session, team_id=team_id, source_key=source_key) if source_key else None,
    )
    return replace(_built(session, meso, created=created), periods=periods if created else None)


def _by_source(session: Session, *, team_id: str, source_key: str) -> MesoSet | None:
    return session.scalar(
        select(MesoSet)
        .where(MesoSet.team_id == team_id, MesoSet.source_key == source_key)
        .options(selectinload(MesoSet.offers), joinedload(MesoSet.account))
    )


def _built(session: Session, meso: MesoSet, *, created: bool) -> Built:
    team_id, account_id = meso.team_id, meso.account_id
    previous = last_decided(session, team_id=team_id, account_id=account_id, before_id=meso.id)
    shown = OfferSet.of(meso)
    prep = current_prep(session, team_id=team_id, account_id=account_id)
    return Built(
        meso=shown,
        equivalence=check_equivalence(shown.offers, tolerance_pct=meso.tolerance_pct),
        previous=previous,
        created=created,
        against_prep=(check_against_prep(shown.offers, shown.value_period, prep) if prep else None),
        plan=plan_of(session, team_id=team_id, account_id=account_id),
        last_debrief=latest_debrief(session, team_id=team_id, account_id=account_id),
    )


def _set_by_id(session: Session, *, team_id: str, meso_id: int) -> MesoSet | None:
    return session.scalar(
        select(MesoSet)
        .where(MesoSet.team_id == team_id, MesoSet.id == meso_id)
        .options(selectinload(MesoSet.offers), joinedload(MesoSet.account))
    )


def built_by_id(session: Session, *, team_id: str, meso_id: int) -> Built:
    """A stored set as its reply shows it, checked again (the prep may have moved)."""
    meso = _set_by_id(session, team_id=team_id, meso_id=meso_id)
    if meso is None:
        raise NotFound("That MESO set is not there any more. Run `/meso ACCOUNT` again.")
    return _built(session, meso, created=True)


def mark_shared(session: Session, *, team_id: str, meso_id: int, now: datetime) -> bool:
    """Note that the set is being posted to the team; False if it was already (two
    clicks on its Share button post it once)."""
    result = session.execute(
        update(MesoSet)
        .where(MesoSet.team_id == team_id, MesoSet.id == meso_id, MesoSet.shared_at.is_(None))
        .values(shared_at=now)
    )
    return bool(getattr(result, "rowcount", 0))


def unmark_shared(session: Session, *, team_id: str, meso_id: int) -> None:
    """The post did not go out: the Share button may try again."""
    session.execute(
        update(MesoSet)
        .where(MesoSet.team_id == team_id, MesoSet.id == meso_id)
        .values(shared_at=None)
    )


def chosen_offer(meso: OfferSet) -> Offer | None:
    if meso.chosen_label is None:
        return None
    return next((o for o in meso.offers if o.label == meso.chosen_label), None)


def record_choice(
    session: Session,
    *,
    team_id: str,
    account_name: str,
    label: str,
    user_id: str,
    now: datetime,
) -> OfferSet:
    """The buyer chose `label` from the account's latest set."""
    account = get_account(session, team_id=team_id, name=account_name)
    latest = next(iter(_sets(session, team_id=team_id, account_id=account.id)), None)
    if latest is None:
        raise NotFound(
            f"There is no MESO set on “{account.name}” yet, so no pick to record. Build "
            f"one first: `/meso {account.name} A: … | B: …`."
        )
    wanted = " ".join(label.split()).casefold()
    offer = next((o for o in latest.offers if o.label.casefold() == wanted), None)
    if offer is None:
        labels = ", ".join(o.label for o in latest.offers)
        raise UsageError(f"The latest set on {account.name} has offers {labels}.")
    return _choose(session, latest, offer, user_id=user_id, now=now)


def record_choice_by_position(
    session: Session, *, team_id: str, meso_id: int, position: int, user_id: str, now: datetime
) -> OfferSet:
    """The buyer chose the offer at `position` of that set (a button on the set's reply)."""
    meso = _set_by_id(session, team_id=team_id, meso_id=meso_id)
    offer = next((o for o in meso.offers if o.position == position), None) if meso else None
    if meso is None or offer is None:
        raise NotFound("That MESO set is not there any more. Run `/meso ACCOUNT` again.")
    return _choose(session, meso, offer, user_id=user_id, now=now)


def _choose(
    session: Session, meso: MesoSet, offer: MesoOffer, *, user_id: str, now: datetime
) -> OfferSet:
    meso.chosen_label = offer.label
    meso.chosen_by = user_id
    meso.chosen_at = now
    session.flush()
    return OfferSet.of(meso)


# --- what the buyer's choices reveal ---------------------------------------------------------


@dataclass(frozen=True)
class PreferredTerm:
    term: str  # as the rep wrote it the last time it was chosen
    times: int  # how many decided sets the buyer chose it in


@dataclass(frozen=True)
class RevealedPriorities:
    decided: int  # sets with a recorded choice
    terms: tuple[PreferredTerm, ...] = ()
    # How often the chosen offer was the one worth most / least to us.
    chose_highest_value: int = 0
    chose_lowest_value: int = 0

    @property
    def any(self) -> bool:
        return self.decided > 0


def revealed_priorities(session: Session, team_id: str, account_id: int) -> RevealedPriorities:
    """What the buyer's choices across MESO sets say they value.

    A term counts when the chosen offer had it and not every other offer did: picking
    the one offer with monthly reviews says something; picking among offers that all
    have them does not.
    """
    counts: dict[str, int] = {}
    shown: dict[str, str] = {}
    highest = lowest = decided = 0
    for meso in map(OfferSet.of, _sets(session, team_id=team_id, account_id=account_id)):
        chosen = chosen_offer(meso)
        if chosen is None:
            continue
        decided += 1
        others = [o for o in meso.offers if o is not chosen]
        shared = set.intersection(*(set(offer_phrases(o)) for o in others)) if others else set()
        for key, words in offer_phrases(chosen).items():
            if key in shared:
                continue
            counts[key] = counts.get(key, 0) + 1
            shown.setdefault(key, words)  # newest first: the latest wording wins
        values = [o.value_to_us for o in meso.offers]
        if len(meso.offers) > 1 and chosen.value_to_us is not None and None not in values:
            known = [v for v in values if v is not None]
            if max(known) != min(known):
                highest += chosen.value_to_us == max(known)
                lowest += chosen.value_to_us == min(known)
    ranked = sorted(counts, key=lambda key: -counts[key])  # stable: ties stay newest first
    return RevealedPriorities(
        decided=decided,
        terms=tuple(PreferredTerm(term=shown[k], times=counts[k]) for k in ranked[:6]),
        chose_highest_value=highest,
        chose_lowest_value=lowest,
    )


@dataclass(frozen=True)
class Overview:
    account_name: str
    account: AccountShown | None
    latest: OfferSet | None
    previous: OfferSet | None
    priorities: RevealedPriorities
    tolerance_pct: float
    templates: tuple[BundleTemplate, ...] = field(default=())
    # What the next set starts from besides the history: the prep's points, and what
    # the latest debrief said the next set should include.
    prep: Prep | None = None
    last_debrief: DebriefShown | None = None


def meso_overview(session: Session, *, team_id: str, account_name: str) -> Overview:
    """What to start the next set from: the history, the buyer's priorities, templates."""
    account = find_account(session, team_id=team_id, name=account_name)
    tolerance = team_tolerance(session, team_id=team_id)
    if account is None:
        return Overview(
            account_name=account_name,
            account=None,
            latest=None,
            previous=None,
            priorities=RevealedPriorities(decided=0),
            tolerance_pct=tolerance,
            templates=bundle_templates(),
        )
    sets = _sets(session, team_id=team_id, account_id=account.id)
    return Overview(
        account_name=account.name,
        account=AccountShown.of(account),
        latest=OfferSet.of(sets[0]) if sets else None,
        previous=last_decided(session, team_id=team_id, account_id=account.id),
        priorities=revealed_priorities(session, team_id, account.id),
        tolerance_pct=tolerance,
        templates=bundle_templates(),
        prep=current_prep(session, team_id=team_id, account_id=account.id),
        last_debrief=latest_debrief(session, team_id=team_id, account_id=account.id),
    )


# --- built-in bundles ------------------------------------------------------------------------


@dataclass(frozen=True)
class BundleTemplate:
    id: str
    name: str
    offer: OfferSpec


@cache
def bundle_templates() -> tuple[BundleTemplate, ...]:
    text = files("messages").joinpath("library/meso_templates.yaml").read_text("utf-8")
    return tuple(
        BundleTemplate(
            id=raw["id"],
            name=raw["name"],
            offer=OfferSpec(
                label=raw["label"],
                terms=raw.get("terms"),
                scope=raw.get("scope"),
                cadence=raw.get("cadence"),
                extras=raw.get("extras"),
                value_to_us=raw.get("value"),
            ),
        )
        for raw in yaml.safe_load(text)
    )


def template_set(first: str) -> tuple[OfferSpec, ...]:
    """All the templates as A, B, C, with `first` in the first place."""
    templates = bundle_templates()
    chosen = next((t for t in templates if t.id == first), None)
    if chosen is None:
        raise NotFound("That template is not there any more. Run `/meso ACCOUNT` again.")
    ordered = [chosen, *(t for t in templates if t.id != first)]
    return tuple(
        replace(t.offer, label="ABC"[index]) for index, t in enumerate(ordered[:MAX_OFFERS])
    )
