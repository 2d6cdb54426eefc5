"""Negotiation prep: the one-page plan written before a negotiation with an account.

It holds the one question the negotiation should settle, both sides' best alternative
to a deal (BATNA) as far as known, the target, the walk-away (reservation) point and
the opening anchor as values to us, the people on their side, the issues ranked for
us and guessed for them, and the tradeables we can give cheaply or want back.

An account has one prep per negotiation over time: the latest one not closed is "the
prep" (`current_prep`), and starting the next negotiation closes it. Other features
read it from here: /meso can hold its offers against the walk-away point and the anchor,
and the account card says whether there is one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import Session

from bot.services import accounts
from bot.services.accounts import AccountShown
from bot.services.errors import NotFound, UsageError
from bot.services.governance import DebriefShown, latest_debrief
from bot.services.shown import copied
from storage.models import NegotiationPrep
from storage.upsert import add_or_read_winner

# One page: with every field at these limits (and hostile text escaped), the shown prep
# with the last debrief stays under Slack's ~13k characters a message
# (tests/test_coaching_render.py draws it).
MAX_QUESTION = 300
MAX_TEXT = 500
MAX_PEOPLE = 5
MAX_ROLE = 80
MAX_CARES = 160
# Issues and tradeables: one a line, a handful each.
MAX_ITEMS = 8
MAX_ITEM = 100
# The ceiling of a value to us, a prep's point or a MESO offer's (bot/services/meso.py
# reads both from here, as it reads the prep for its equivalence check).
MAX_VALUE = 1e12
# What a value can be counted per: "" is a total, or a value whose period was not said.
PERIODS = ("", "month", "quarter", "year")
# The account (or the prep) a form names, deleted since it opened.
ACCOUNT_GONE = "That account or its prep is no longer there. Run `/rapport prep ACCOUNT` again."


@dataclass(frozen=True)
class Person:
    """Someone on their side: their role, what they care about, whether they decide."""

    role: str
    cares: str | None = None
    decides: bool = False


@dataclass(frozen=True)
class Points:
    """Target, walk-away and opening anchor, as values to us (what /meso's `value:`
    counts), all counted per `period` ("month", "quarter", "year", or "" for a total)."""

    target: float | None = None
    reservation: float | None = None
    anchor: float | None = None
    period: str = ""

    def __post_init__(self) -> None:
        if self.period not in PERIODS:
            raise ValueError(f"unknown period {self.period!r}")


@dataclass(frozen=True)
class PrepFields:
    """What a prep says, already read by whoever collected it; `check_points` holds the
    rule that spans fields."""

    question: str
    our_batna: str | None = None
    their_batna: str | None = None
    points: Points = field(default_factory=Points)
    value_notes: str | None = None
    people: tuple[Person, ...] = ()
    our_issues: tuple[str, ...] = ()
    their_issues: tuple[str, ...] = ()
    we_can_give: tuple[str, ...] = ()
    we_want: tuple[str, ...] = ()


def check_points(points: Points) -> None:
    """The three points in the order a seller's are: anchor ≥ target ≥ walk-away.

    A problem names the point to change (`key`: "reservation" or "anchor") and the
    values as they were read."""
    target, reservation, anchor = points.target, points.reservation, points.anchor
    if reservation is not None and target is not None and reservation > target:
        raise UsageError(
            f"I read the walk-away point as {reservation:,.0f} and the target as "
            f"{target:,.0f}. The walk-away is the least you would accept, so it sits at "
            "or below the target.",
            key="reservation",
        )
    floor = target if target is not None else reservation
    if anchor is not None and floor is not None and anchor < floor:
        named = "target" if target is not None else "walk-away point"
        raise UsageError(
            f"I read the opening anchor as {anchor:,.0f} and the {named} as {floor:,.0f}. "
            f"The anchor is where you open, so it sits at or above the {named}.",
            key="anchor",
        )


@dataclass(frozen=True)
class Prep:
    """One negotiation's prep as messages and other features read it (plain values)."""

    id: int
    account_id: int
    # 1 for the account's first negotiation, 2 for the next…
    number: int
    question: str
    our_batna: str | None
    their_batna: str | None
    points: Points
    value_notes: str | None
    people: tuple[Person, ...]
    our_issues: tuple[str, ...]
    their_issues: tuple[str, ...]
    we_can_give: tuple[str, ...]
    we_want: tuple[str, ...]
    opened_by: str
    opened_at: datetime
    updated_by: str
    updated_at: datetime
    closed_at: datetime | None

    @property
    def reservation(self) -> float | None:
        """The walk-away point: an offer worth less than this to us is not one to make."""
        return self.points.reservation

    @property
    def anchor(self) -> float | None:
        return self.points.anchor

    @property
    def deciders(self) -> tuple[Person, ...]:
        return tuple(person for person in self.people if person.decides)

    @property
    def missing(self) -> tuple[str, ...]:
        """The parts not written yet, as a reminder says them."""
        parts = (
            ("our BATNA", self.our_batna),
            ("the walk-away point", self.points.reservation is not None),
            ("the opening anchor", self.points.anchor is not None),
            ("who decides on their side", self.deciders),
            ("the issues", self.our_issues),
            ("the tradeables", self.we_can_give or self.we_want),
        )
        return tuple(name for name, written in parts if not written)

    @classmethod
    def of(cls, row: NegotiationPrep, number: int) -> Prep:
        return copied(
            cls,
            row,
            number=number,
            points=Points(
                target=row.target_value,
                reservation=row.reservation_value,
                anchor=row.anchor_value,
                period=row.value_period if row.value_period in PERIODS else "",
            ),
            people=tuple(_person(raw) for raw in row.people or () if isinstance(raw, dict)),
            our_issues=tuple(row.our_issues or ()),
            their_issues=tuple(row.their_issues or ()),
            we_can_give=tuple(row.we_can_give or ()),
            we_want=tuple(row.we_want or ()),
        )


def _person(raw: dict[str, Any]) -> Person:
    return Person(
        role=str(raw.get("role") or ""),
        cares=str(raw["cares"]) if raw.get("cares") else None,
        decides=bool(raw.get("decides")),
    )


@dataclass(frozen=True)
class PrepView:
    """An account's prep as `/rapport prep ACCOUNT` shows it."""

    account: AccountShown
    prep: Prep | None
    # The account's latest debrief, whatever negotiation it was about: what the last
    # round taught is what the next one should start from.
    last_debrief: DebriefShown | None


@dataclass(frozen=True)
class SavedPrep:
    view: PrepView
    # True: a new negotiation's prep (the one before it, if any, is now closed).
    started: bool
    closed: Prep | None = None


def _number(session: Session, row: NegotiationPrep) -> int:
    """Which negotiation with the account `row` is: 1 for the first."""
    return (
        session.scalar(
            select(func.count()).where(
                NegotiationPrep.team_id == row.team_id,
                NegotiationPrep.account_id == row.account_id,
                NegotiationPrep.id <= row.id,
            )
        )
        or 1
    )


def _open(team_id: str, account_id: int) -> tuple[ColumnElement[bool], ...]:
    """The account's preps not closed: the current one (and, after two people started
    one at the same moment, the other)."""
    return (
        NegotiationPrep.team_id == team_id,
        NegotiationPrep.account_id == account_id,
        NegotiationPrep.closed_at.is_(None),
    )


def _current_row(session: Session, *, team_id: str, account_id: int) -> NegotiationPrep | None:
    latest = (NegotiationPrep.opened_at.desc(), NegotiationPrep.id.desc())
    return session.scalar(
        select(NegotiationPrep).where(*_open(team_id, account_id)).order_by(*latest).limit(1)
    )


def current_prep(session: Session, *, team_id: str, account_id: int) -> Prep | None:
    """The account's prep: the latest negotiation's not yet closed; None when there is none."""
    row = _current_row(session, team_id=team_id, account_id=account_id)
    return Prep.of(row, _number(session, row)) if row is not None else None


def prep_view(session: Session, *, team_id: str, account: AccountShown) -> PrepView:
    return PrepView(
        account=account,
        prep=current_prep(session, team_id=team_id, account_id=account.id),
        last_debrief=latest_debrief(session, team_id=team_id, account_id=account.id),
    )


@dataclass(frozen=True)
class PrepRef:
    """Which prep a form saves: the team's account, and the prep (None: a new one, for
    the account's next negotiation)."""

    team_id: str
    account_id: int
    prep_id: int | None = None


def save_prep(
    session: Session,
    ref: PrepRef,
    fields: PrepFields,
    *,
    user_id: str,
    view_id: str,
    now: datetime,
) -> SavedPrep:
    """Write the prep `ref` names, or (no prep_id) start the account's next negotiation
    with it, closing the one before. The same form submitted twice saves it once."""
    check_points(fields.points)
    team_id, prep_id = ref.team_id, ref.prep_id
    account = accounts.account_by_id(
        session, team_id=team_id, account_id=ref.account_id, gone=ACCOUNT_GONE
    )
    closed: Prep | None = None
    started = False
    if prep_id is not None:
        row = session.scalar(
            select(NegotiationPrep).where(
                NegotiationPrep.team_id == team_id,
                NegotiationPrep.account_id == account.id,
                NegotiationPrep.id == prep_id,
            )
        )
        if row is None:
            raise NotFound(ACCOUNT_GONE)
        _fill(row, fields, user_id, now)
    else:
        row = _by_view(session, team_id=team_id, view_id=view_id)
        if row is None:
            closed = current_prep(session, team_id=team_id, account_id=account.id)
            session.execute(
                update(NegotiationPrep).where(*_open(team_id, account.id)).values(closed_at=now)
            )
            row = NegotiationPrep(
                team_id=team_id,
                account=account,
                opened_by=user_id,
                opened_at=now,
                view_id=view_id or None,
            )
            _fill(row, fields, user_id, now)
            # The same form submitted twice at once: the second fills the first's prep.
            row, started = add_or_read_winner(
                session, row, lambda: _by_view(session, team_id=team_id, view_id=view_id)
            )
        if not started:
            _fill(row, fields, user_id, now)
    session.flush()
    view = PrepView(
        account=AccountShown.of(account),
        prep=Prep.of(row, _number(session, row)),
        last_debrief=latest_debrief(session, team_id=team_id, account_id=account.id),
    )
    return SavedPrep(view=view, started=started, closed=closed)


def _by_view(session: Session, *, team_id: str, view_id: str) -> NegotiationPrep | None:
    if not view_id:
        return None
    return session.scalar(
        select(NegotiationPrep).where(
            NegotiationPrep.team_id == team_id, NegotiationPrep.view_id == view_id
        )
    )


def _fill(row: NegotiationPrep, fields: PrepFields, user_id: str, now: datetime) -> None:
    row.question = fields.question
    row.our_batna = fields.our_batna
    row.their_batna = fields.their_batna
    row.target_value = fields.points.target
    row.reservation_value = fields.points.reservation
    row.anchor_value = fields.points.anchor
    row.value_period = fields.points.period
    row.value_notes = fields.value_notes
    row.people = [
        {"role": person.role, "cares": person.cares, "decides": person.decides}
        for person in fields.people[:MAX_PEOPLE]
    ]
    row.our_issues = list(fields.our_issues[:MAX_ITEMS])
    row.their_issues = list(fields.their_issues[:MAX_ITEMS])
    row.we_can_give = list(fields.we_can_give[:MAX_ITEMS])
    row.we_want = list(fields.we_want[:MAX_ITEMS])
    row.updated_by = user_id
    row.updated_at = now
