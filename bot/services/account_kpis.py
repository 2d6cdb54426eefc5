"""An account's KPIs beyond the buyer's ratings: when it renews and whether it did
(retention), repeat purchases, and referrals it gave us.

A relationship that works shows in what the buyer does, not only in what they say:
they renew, they buy again, they send us someone. The team records these with
`/rapport account ACCOUNT renewal: DATE`, `renewed: yes|no`, `repeat: WHAT` and
`referral: WHO`, or brings them in with `rapport import` (a CRM's renewal date, its
outcome, and counts of purchases and referrals). The account card shows them; the
weekly digest sums them up: of the renewals that fell due this quarter, how many
renewed (the retention rate), and the week's and the quarter's repeat purchases and
referrals.

An account has at most one renewal still open (a date ahead, or one passed with no
outcome yet): `renewal:` sets or moves it, `renewed:` closes it with its outcome (one
dated today when none was on file; said again the same day, the same one), after
which the next `renewal:` opens the next.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session

from bot.services import account_state
from bot.services.errors import UsageError
from bot.services.fields import reads_as_nothing
from storage.models import Account, AccountKpi, AccountStage, KpiKind, RenewalOutcome

MAX_NOTE = 300
_YES = frozenset({"yes", "y", "renewed", "true", "retained", "kept", "1"})
_NO = frozenset({"no", "n", "not renewed", "false", "churned", "lost", "lapsed", "cancelled", "0"})


def read_renewed(text: str, *, usage: str | None = None) -> bool:
    """Whether they renewed, as people say it (`yes`, `no`, `churned`…)."""
    said = " ".join(text.split()).casefold()
    if said in _YES:
        return True
    if said in _NO:
        return False
    raise UsageError(
        f"I read `renewed: {text[:40]}`; write `renewed: yes` or `renewed: no`.",
        usage=usage,
        key="renewed",
    )


def clean_note(text: str, key: str) -> str:
    """What `repeat:` or `referral:` records; `none` and its like record nothing, so
    they are refused rather than counted as a purchase or a referral named "none"."""
    note = " ".join(text.split())
    if reads_as_nothing(note):
        example = "20 more seats" if key == "repeat" else "their CFO's peer at Initech"
        raise UsageError(
            f"`{key}: {note[:40]}` would record nothing. Say what it was, as in "
            f"`{key}: {example}`; with nothing to record, leave `{key}:` out.",
            key=key,
        )
    if len(note) > MAX_NOTE:
        raise UsageError(
            f"Keep `{key}:` under {MAX_NOTE} characters; yours has {len(note):,}.", key=key
        )
    return note


@dataclass(frozen=True)
class KpiInput:
    """What one `/rapport account` line records: a renewal's date, its outcome, a repeat
    purchase, a referral (None: not said)."""

    renewal_on: date | None = None
    renewed: bool | None = None
    # What was bought again; whom they sent us.
    repeat: str | None = None
    referral: str | None = None

    @property
    def names(self) -> tuple[str, ...]:
        """What it records, as the card's "Updated …" line says it."""
        said = (
            ("renewal outcome", self.renewed),
            ("renewal date", self.renewal_on),
            ("repeat purchase", self.repeat),
            ("referral", self.referral),
        )
        return tuple(name for name, value in said if value is not None)


def check_stage(account: Account, given: KpiInput) -> str | None:
    """Whether `given` fits the account's stage, before anything is written.

    A lost account has nothing ahead: a renewal date, a renewal won or a purchase
    again would say it is back in play, which `/rapport won` or `reopen` says (and
    plans for); so they are refused (AccountIsLost). That it did not renew, or a
    referral, may still be recorded. A prospect may carry a customer's numbers (a CRM
    import leaves every account a prospect), so it is recorded, with the returned
    line: how to mark it a customer.
    """
    active = given.renewed is True or given.renewal_on is not None or given.repeat is not None
    if active:
        account_state.require_live(account, "record a renewal or a purchase ahead on it")
    if (given.renewed is True or given.repeat is not None) and (account.stage == AccountStage.OPEN):
        return (
            f"{account.name} is still a prospect here. If they are a customer, "
            f"`/rapport won {account.name}` marks it so and plans its check-ins."
        )
    return None


def _open_renewal(session: Session, account: Account) -> AccountKpi | None:
    return session.scalar(
        select(AccountKpi)
        .where(
            AccountKpi.team_id == account.team_id,
            AccountKpi.account_id == account.id,
            AccountKpi.kind == KpiKind.RENEWAL,
            AccountKpi.outcome.is_(None),
        )
        .order_by(AccountKpi.day, AccountKpi.id)
        .limit(1)
    )


def _renewal_on(session: Session, account: Account, day: date) -> AccountKpi | None:
    return session.scalar(
        select(AccountKpi).where(
            AccountKpi.team_id == account.team_id,
            AccountKpi.account_id == account.id,
            AccountKpi.kind == KpiKind.RENEWAL,
            AccountKpi.day == day,
        )
    )


def _add(
    session: Session,
    account: Account,
    kind: KpiKind,
    day: date | None,
    *,
    user_id: str,
    now: datetime,
    note: str | None = None,
    outcome: str | None = None,
) -> AccountKpi:
    row = AccountKpi(team_id=account.team_id, account_id=account.id, kind=kind, day=day)
    row.note, row.outcome, row.recorded_by, row.recorded_at = note, outcome, user_id, now
    session.add(row)
    return row


def record(
    session: Session,
    account: Account,
    given: KpiInput,
    *,
    user_id: str,
    today: date,
    now: datetime,
) -> None:
    """Record what `given` says: an outcome closes the open renewal (one dated today
    when none is on file), then a date opens or moves the next; a repeat purchase or
    a referral is one of today's."""
    if given.renewed is not None:
        outcome = RenewalOutcome.RENEWED if given.renewed else RenewalOutcome.NOT_RENEWED
        # None open: the renewal is today's (the same one, when a rep says it twice).
        due = (
            _open_renewal(session, account)
            or _renewal_on(session, account, today)
            or _add(session, account, KpiKind.RENEWAL, today, user_id=user_id, now=now)
        )
        due.outcome, due.recorded_by, due.recorded_at = outcome, user_id, now
        session.flush()
    if given.renewal_on is not None:
        upcoming = _open_renewal(session, account)
        if upcoming is None:
            _add(session, account, KpiKind.RENEWAL, given.renewal_on, user_id=user_id, now=now)
        else:
            upcoming.day, upcoming.recorded_by, upcoming.recorded_at = (
                given.renewal_on,
                user_id,
                now,
            )
    for kind, note in ((KpiKind.REPEAT, given.repeat), (KpiKind.REFERRAL, given.referral)):
        if note is not None:
            _add(session, account, kind, today, user_id=user_id, now=now, note=note)
    session.flush()


# --- what the card shows ---------------------------------------------------------------


@dataclass(frozen=True)
class Done:
    """A repeat purchase or a referral, as the card names the latest."""

    day: date | None
    note: str | None


@dataclass(frozen=True)
class AccountKpis:
    """An account's renewal, retention, repeat purchases and referrals, as its card
    shows them."""

    next_renewal: date | None  # the renewal still open (ahead, or passed unrecorded)
    last_outcome: str | None  # of the latest renewal with one (RenewalOutcome)
    last_renewed_on: date | None
    renewals_decided: int
    renewed: int
    repeats: int
    last_repeat: Done | None
    referrals: int
    last_referral: Done | None

    @property
    def empty(self) -> bool:
        nothing = (self.next_renewal, self.last_outcome, self.repeats, self.referrals)
        return not any(nothing)


def account_kpis(session: Session, *, team_id: str, account_id: int) -> AccountKpis:
    rows = session.execute(
        select(AccountKpi.kind, AccountKpi.day, AccountKpi.outcome, AccountKpi.note)
        .where(AccountKpi.team_id == team_id, AccountKpi.account_id == account_id)
        # Undated ones (imported counts) first, so a dated one is the latest.
        .order_by(AccountKpi.day.is_not(None), AccountKpi.day, AccountKpi.id)
    ).all()
    renewals = [r for r in rows if r.kind == KpiKind.RENEWAL]
    decided = [r for r in renewals if r.outcome is not None]
    waiting = [r.day for r in renewals if r.outcome is None]
    repeats = [Done(r.day, r.note) for r in rows if r.kind == KpiKind.REPEAT]
    referrals = [Done(r.day, r.note) for r in rows if r.kind == KpiKind.REFERRAL]
    return AccountKpis(
        next_renewal=waiting[0] if waiting else None,
        last_outcome=decided[-1].outcome if decided else None,
        last_renewed_on=decided[-1].day if decided else None,
        renewals_decided=len(decided),
        renewed=sum(1 for r in decided if r.outcome == RenewalOutcome.RENEWED),
        repeats=len(repeats),
        last_repeat=repeats[-1] if repeats else None,
        referrals=len(referrals),
        last_referral=referrals[-1] if referrals else None,
    )


# --- what the digest sums up -------------------------------------------------------------


def quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


@dataclass(frozen=True)
class KpiTally:
    """The week's and the quarter's renewals, repeat purchases and referrals, summed
    up over the owners a digest covers."""

    # Renewals that fell due this quarter, up to today, and the outcomes recorded.
    renewals_due: int
    renewed: int
    not_renewed: int
    # Repeat purchases and referrals of the last seven days, and of the quarter.
    repeats_week: int
    repeats_quarter: int
    referrals_week: int
    referrals_quarter: int

    @property
    def retention_pct(self) -> int | None:
        """Of the renewals due whose outcome is known, the share renewed."""
        decided = self.renewed + self.not_renewed
        return round(100 * self.renewed / decided) if decided else None

    @property
    def unrecorded(self) -> int:
        return self.renewals_due - self.renewed - self.not_renewed

    @property
    def empty(self) -> bool:
        return not (self.renewals_due or self.repeats_quarter or self.referrals_quarter)


def tally(rows: Iterable[tuple[str, date, str | None]], today: date) -> KpiTally:
    """(kind, day, outcome) of a team's dated rows from the quarter's start, summed up
    on `today` (the week: its last seven days)."""
    counts = dict.fromkeys(KpiTally.__dataclass_fields__, 0)
    week = today - timedelta(days=6)
    for kind, day, outcome in rows:
        if day > today:
            continue
        if kind == KpiKind.RENEWAL:
            counts["renewals_due"] += 1
            counts["renewed"] += outcome == RenewalOutcome.RENEWED
            counts["not_renewed"] += outcome == RenewalOutcome.NOT_RENEWED
            continue
        name = "repeats" if kind == KpiKind.REPEAT else "referrals"
        counts[f"{name}_quarter"] += 1
        counts[f"{name}_week"] += day >= week
    return KpiTally(**counts)


# --- the export's columns, and an import's counts ----------------------------------------


def _latest_renewal(column: Any) -> ColumnElement[Any]:
    """`column` of the account's renewal as the export writes it: the open one, else
    the latest with an outcome."""
    return (
        select(column)
        .where(
            AccountKpi.team_id == Account.team_id,
            AccountKpi.account_id == Account.id,
            AccountKpi.kind == KpiKind.RENEWAL,
        )
        .order_by(AccountKpi.outcome.is_(None).desc(), AccountKpi.day.desc(), AccountKpi.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def _count_of(kind: KpiKind) -> ColumnElement[int]:
    return (
        select(func.count())
        .where(
            AccountKpi.team_id == Account.team_id,
            AccountKpi.account_id == Account.id,
            AccountKpi.kind == kind,
        )
        .scalar_subquery()
    )


# The accounts table's KPI columns, as `rapport import` reads them back.
EXPORT_COLUMNS: tuple[ColumnElement[Any], ...] = (
    _latest_renewal(AccountKpi.day).label("renewal_on"),
    _latest_renewal(
        case(
            (AccountKpi.outcome == RenewalOutcome.RENEWED.value, "yes"),
            (AccountKpi.outcome == RenewalOutcome.NOT_RENEWED.value, "no"),
            else_=None,
        )
    ).label("renewed"),
    _count_of(KpiKind.REPEAT).label("repeat_purchases"),
    _count_of(KpiKind.REFERRAL).label("referrals"),
)


@dataclass(frozen=True)
class Imported:
    """An import row's KPIs: a renewal with its outcome, and counts (None: the file
    says nothing)."""

    renewal_on: date | None = None
    renewed: bool | None = None
    # How many there have been, as the CRM counts them: no days.
    repeat_purchases: int | None = None
    referrals: int | None = None


def import_changes(
    session: Session, account: Account, given: Imported, *, user_id: str, now: datetime, write: bool
) -> bool:
    """Bring `given` onto the account (with `write`; else only say whether it would
    change anything). A renewal on the file's date takes the file's outcome (a new one,
    or the open renewal moved there when the file gives no outcome). A count above the
    account's adds rows without a day for the difference; one at or below it changes
    nothing, since the rows on file carry their days."""
    changed = False
    if given.renewal_on is not None:
        changed |= _import_renewal(session, account, given, user_id=user_id, now=now, write=write)
    for kind, wanted in (
        (KpiKind.REPEAT, given.repeat_purchases),
        (KpiKind.REFERRAL, given.referrals),
    ):
        have = session.scalar(
            select(func.count()).where(
                AccountKpi.team_id == account.team_id,
                AccountKpi.account_id == account.id,
                AccountKpi.kind == kind,
            )
        )
        missing = (wanted or 0) - (have or 0)
        if missing > 0:
            changed = True
            for _ in range(missing if write else 0):
                _add(session, account, kind, None, user_id=user_id, now=now)
    return changed


def _import_renewal(
    session: Session, account: Account, given: Imported, *, user_id: str, now: datetime, write: bool
) -> bool:
    assert given.renewal_on is not None
    outcome = (
        None
        if given.renewed is None
        else RenewalOutcome.RENEWED
        if given.renewed
        else RenewalOutcome.NOT_RENEWED
    )
    same_day = _renewal_on(session, account, given.renewal_on)
    target = same_day or (_open_renewal(session, account) if outcome is None else None)
    if target is not None and target.day == given.renewal_on:
        if outcome is None or target.outcome == outcome:
            return False
    if write:
        if target is None:
            target = _add(
                session, account, KpiKind.RENEWAL, given.renewal_on, user_id=user_id, now=now
            )
        target.day = given.renewal_on
        if outcome is not None:
            target.outcome = outcome
        target.recorded_by, target.recorded_at = user_id, now
    return True
