"""The relationship's rhythm after a deal: QBRs, post-sale check-ins, touches, pauses.

Each source row keeps a `next_nudge_at` (or `touch_nudge_at`) pointing at its next
reminder, so the sweep finds work through an index and never scans whole tables
(`lock_due_qbrs`, `lock_due_checkins`, `lock_due_touches`, at the end with the
other reads grouping makes).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Protocol, TypeVar

from dateutil.relativedelta import relativedelta
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.services import account_state
from bot.services.accounts import AccountShown, ShownWithAccount, account_by_id
from bot.services.calendar import WorkCalendar
from bot.services.dates import CONTACT, DayReader
from bot.services.errors import NotFound, UsageError
from bot.services.followups import PlannedNudge, close_once, note_activity
from storage.models import Account, AccountStage, CheckIn, Nudge, Qbr, QbrCadence, Touch
from storage.reads import lock_due_rows, plain_rows
from storage.uninstalls import serving
from storage.upsert import among

QBR_LEAD_DAYS = 7

# Days after the win for the first check-ins, then the repeat interval, by
# relationship type. Closer relationships get an earlier, denser rhythm.
CHECKIN_PLANS: dict[str | None, tuple[tuple[int, ...], int]] = {
    None: ((7, 30, 90), 91),
    "transactional": ((30, 90), 182),
    "functional": ((7, 30, 90), 91),
    "affiliative": ((7, 30, 90), 91),
    "strategic": ((7, 21, 45, 90), 61),
    "personal": ((7, 21, 45, 90), 45),
}
CHECKIN_LABELS = {7: "one-week", 21: "three-week", 30: "one-month", 45: "six-week", 90: "90-day"}

# Days between touches: (ideal, maximum). Past the ideal an account is cooling and
# shows in digests and App Home; past the maximum its owner is nudged.
TOUCH_INTERVALS: dict[str | None, tuple[int, int]] = {
    None: (30, 60),
    "transactional": (90, 180),
    "functional": (30, 60),
    "affiliative": (14, 30),
    "strategic": (7, 21),
    "personal": (7, 14),
}


def next_review(day: date, cadence: str) -> date:
    return day + (
        relativedelta(months=3) if cadence == QbrCadence.QUARTER else relativedelta(months=1)
    )


# --- QBRs -----------------------------------------------------------------------

# A QBR held within this many days either side of its date was held on schedule;
# one still unanswered this long after its date is counted as missed.
QBR_WINDOW_DAYS = 7


@dataclass(frozen=True)
class QbrReminder:
    """One reminder about a QBR: its slot (unique per review), kind and day."""

    slot: str
    kind: str  # qbr_lead (a draft agenda ahead), qbr_eve, qbr_after, qbr_lapsed
    day: date
    at: datetime

    @property
    def ahead(self) -> bool:
        return self.kind in ("qbr_lead", "qbr_eve")


@dataclass(frozen=True, slots=True)
class QbrShown(ShownWithAccount):
    """A review schedule as a message shows it, with its account: plain values, read
    while its session is open."""

    id: int
    account: AccountShown
    next_on: date
    cadence: str
    lead_days: int
    last_held_on: date | None
    held_count: int


def qbr_reminders(qbr: Qbr, calendar: WorkCalendar) -> list[QbrReminder]:
    """Every reminder of the review on `qbr.next_on`, in time order, each on a working
    day of the owner: a draft agenda `lead_days` ahead (the working day on or before),
    a reminder on the last working day before the review, the question whether it took
    place on the first working day after, and, with no answer by the end of its
    window, the note that it was counted as missed."""
    on = qbr.next_on
    eve = calendar.working_day_before(on)
    lead = calendar.on_or_before(on - timedelta(days=qbr.lead_days))
    after = asked_on(qbr, calendar)
    lapse = calendar.working_day_after(on + timedelta(days=QBR_WINDOW_DAYS), 1)
    days = [("lead", "qbr_lead", lead)] if lead < eve else []
    days += [("eve", "qbr_eve", eve), ("after", "qbr_after", after), ("lapse", "qbr_lapsed", lapse)]
    return [
        QbrReminder(f"{name}:{on}", kind, day, calendar.opening(day)) for name, kind, day in days
    ]


def reminders_ahead(qbr: Qbr, calendar: WorkCalendar, now: datetime) -> list[QbrReminder]:
    """The reminders still to come before the review (none when it is too close)."""
    return [r for r in qbr_reminders(qbr, calendar) if r.ahead and r.at > now]


def asked_on(qbr: Qbr, calendar: WorkCalendar) -> date:
    """The working day after the review, when its owner is asked whether it happened."""
    return calendar.working_day_after(qbr.next_on, 1)


def arm_qbr(qbr: Qbr, calendar: WorkCalendar, now: datetime) -> None:
    if qbr.dropped_at is not None or (
        qbr.account is not None and not account_state.schedules(qbr.account.stage)
    ):
        qbr.next_nudge_at = None
        return
    upcoming = [r.at for r in qbr_reminders(qbr, calendar) if r.at > now]
    qbr.next_nudge_at = min(upcoming) if upcoming else None


def fit_lead_days(on: date, calendar: WorkCalendar, now: datetime) -> int:
    """Days ahead of the review for its draft agenda: a week, or fewer when the
    review is nearer than that, so the agenda comes on the first working day still
    ahead (lead times shrink; none is left when that day is the review's own)."""
    usual = calendar.on_or_before(on - timedelta(days=QBR_LEAD_DAYS))
    if calendar.opening(usual) > now:
        return QBR_LEAD_DAYS
    opens = calendar.next_open(now)
    first = opens.astimezone(calendar.tz).date()
    if opens <= now:  # working hours already under way: from the next working day
        first = calendar.working_day_after(first, 1)
    return max((on - first).days, 0)


def qbr_by_id(session: Session, *, team_id: str, qbr_id: int) -> Qbr | None:
    """The team's QBR a button names; None when it is gone or another team's."""
    return session.scalar(select(Qbr).where(Qbr.team_id == team_id, Qbr.id == qbr_id))


def live_qbr(session: Session, account: Account) -> Qbr | None:
    """The account's review schedule, unless a loss dropped it."""
    return session.scalar(
        select(Qbr).where(
            Qbr.team_id == account.team_id,
            Qbr.account_id == account.id,
            account_state.QBR_LIVE,
        )
    )


def review_asked(session: Session, *, team_id: str, nudge_id: int) -> date | None:
    """The review a QBR reminder is about: its slot is `<step>:<planned date>`."""
    nudge = session.get(Nudge, nudge_id)
    if nudge is None or nudge.team_id != team_id:
        return None
    try:
        return date.fromisoformat(nudge.slot.partition(":")[2])
    except ValueError:
        return None


def _require_live_review(qbr: Qbr, doing: str) -> None:
    # A review built without its account (as in unit tests) has no stage to ask about.
    if qbr.account is not None:
        account_state.require_live(qbr.account, doing)


def held_on_schedule(review_on: date, held_on: date) -> bool:
    return abs((held_on - review_on).days) <= QBR_WINDOW_DAYS


def schedule_qbr(
    session: Session,
    *,
    account: Account,
    next_on: date,
    cadence: str,
    user_id: str,
    calendar: WorkCalendar,
    now: datetime,
) -> Qbr:
    """Set the account's next review (on the day asked, even one that is not a working
    day: the reminders around it are what the calendar places)."""
    account_state.require_live(account, "plan a QBR with it")
    if next_on < calendar.today(now):
        raise UsageError("The next QBR can't be in the past.")
    qbr = session.scalar(
        select(Qbr).where(Qbr.team_id == account.team_id, Qbr.account_id == account.id)
    )
    if qbr is None:
        qbr = Qbr(
            team_id=account.team_id,
            account_id=account.id,
            created_by=user_id,
            lead_days=QBR_LEAD_DAYS,
            held_count=0,
            on_time_count=0,
            missed_count=0,
        )
        session.add(qbr)
    qbr.account = account
    qbr.cadence = cadence
    # A review rhythm a loss dropped starts again from the day asked.
    qbr.dropped_at = None
    _set_review(qbr, next_on, calendar, now)
    session.flush()
    return qbr


def _set_review(qbr: Qbr, on: date, calendar: WorkCalendar, now: datetime) -> None:
    qbr.next_on = on
    qbr.lead_days = fit_lead_days(on, calendar, now)
    arm_qbr(qbr, calendar, now)


def review_after(base: date, cadence: str, today: date) -> date:
    """The first review after `base` by the cadence that is still ahead of `today`
    (before the calendar moves it to a working day)."""
    following = next_review(base, cadence)
    while following <= today:
        following = next_review(following, cadence)
    return following


def roll_base(review_on: date, held_on: date) -> date:
    """What the next review counts from: its planned date when held on schedule (the
    rhythm holds), else the day it was actually held."""
    return review_on if held_on_schedule(review_on, held_on) else held_on


def _roll(qbr: Qbr, *, base: date, calendar: WorkCalendar, now: datetime) -> None:
    """On to the review after `base` by the cadence, on the owner's next working day."""
    following = review_after(base, qbr.cadence, calendar.today(now))
    _set_review(qbr, calendar.on_or_after(following), calendar, now)


def plan_qbr(qbr: Qbr, calendar: WorkCalendar, now: datetime) -> list[PlannedNudge]:
    account = qbr.account
    if not account_state.schedules(account.stage) or qbr.dropped_at is not None:
        qbr.next_nudge_at = None
        return []
    due = [r for r in qbr_reminders(qbr, calendar) if r.at <= now]
    if not due:
        arm_qbr(qbr, calendar, now)
        return []
    # After downtime only the latest reminder still makes sense.
    latest = due[-1]
    if latest.kind == "qbr_lapsed":
        if account_state.is_paused(account, calendar.today(now)):
            # Reviews lapse on the owner's working days, not while the account rests.
            assert account.paused_until is not None
            qbr.next_nudge_at = calendar.opening(calendar.on_or_after(account.paused_until))
            return []
        qbr.missed_count += 1
        _roll(qbr, base=qbr.next_on, calendar=calendar, now=now)
    else:
        arm_qbr(qbr, calendar, now)
    return [
        PlannedNudge(
            latest.kind, f"qbr:{qbr.id}", latest.slot, account.owner_id, qbr.account_id, latest.at
        )
    ]


def is_answered(slot: str, next_on: date) -> bool:
    """A reminder about a review that has since been held, moved or skipped.

    The note that a review lapsed is about one already rolled on: it stays true."""
    return not slot.startswith("lapse:") and not slot.endswith(str(next_on))


def mark_qbr_held(
    qbr: Qbr, *, review_on: date, today: date, calendar: WorkCalendar, now: datetime
) -> bool:
    """Roll to the next review; False if that review was already answered.

    Held within its window (a week either side), it counts as held on schedule and
    the next one follows from its planned date; held further off, the next one
    follows from the day it was held."""
    _require_live_review(qbr, "mark a QBR with it held")
    if qbr.next_on != review_on or qbr.dropped_at is not None:
        return False
    qbr.last_held_on = today
    qbr.held_count += 1
    if held_on_schedule(review_on, today):
        qbr.on_time_count += 1
    _roll(qbr, base=roll_base(review_on, today), calendar=calendar, now=now)
    return True


def mark_qbr_skipped(qbr: Qbr, *, review_on: date, calendar: WorkCalendar, now: datetime) -> bool:
    """It did not take place: counted as missed, on to the next one by the cadence."""
    if qbr.next_on != review_on or qbr.dropped_at is not None:
        return False
    qbr.missed_count += 1
    _roll(qbr, base=review_on, calendar=calendar, now=now)
    return True


def move_qbr(qbr: Qbr, *, review_on: date, to: date, calendar: WorkCalendar, now: datetime) -> bool:
    """The review was put off to `to` (today or later); False if already answered."""
    _require_live_review(qbr, "move a QBR with it")
    if qbr.next_on != review_on or to < calendar.today(now) or qbr.dropped_at is not None:
        return False
    _set_review(qbr, to, calendar, now)
    return True


def note_extra_review(qbr: Qbr, *, today: date) -> None:
    """A review held today that was not the scheduled one: the next agenda counts
    results from today; the schedule and its record stay as they are."""
    qbr.last_held_on = today


# --- check-ins ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CheckInShown(ShownWithAccount):
    """A check-in as a message shows it, with its account."""

    id: int
    account: AccountShown
    label: str
    due_on: date


def checkin_label(days: int) -> str:
    return CHECKIN_LABELS.get(days, "regular")


def schedule_checkins(
    session: Session, account: Account, *, calendar: WorkCalendar, now: datetime
) -> list[CheckIn]:
    """The won account's first check-ins, counted from today (bot.services.lifecycle.win)."""
    today = calendar.today(now)
    offsets, _ = CHECKIN_PLANS.get(account.relationship_type, CHECKIN_PLANS[None])
    planned = [
        _add_checkin(session, account, today + timedelta(days=d), checkin_label(d), calendar)
        for d in offsets
    ]
    session.flush()
    return planned


def first_checkin_wanted(account: Account, today: date) -> date:
    """Where the plan puts a won account's first check-in, before the calendar moves it."""
    offsets, _ = CHECKIN_PLANS.get(account.relationship_type, CHECKIN_PLANS[None])
    return today + timedelta(days=offsets[0])


def checkin_day(session: Session, account: Account, wanted: date, calendar: WorkCalendar) -> date:
    """The owner's first working day from `wanted` on that has no check-in yet (a long
    time away can push two check-ins towards the same day)."""
    taken = set(
        session.scalars(
            select(CheckIn.due_on).where(
                CheckIn.team_id == account.team_id,
                CheckIn.account_id == account.id,
                CheckIn.due_on >= wanted,
                # A day whose check-in a loss dropped is free again.
                CheckIn.dropped_at.is_(None),
            )
        )
    )
    day = calendar.on_or_after(wanted)
    while day in taken:
        day = calendar.working_day_after(day, 1)
    return day


def _add_checkin(
    session: Session, account: Account, wanted: date, label: str, calendar: WorkCalendar
) -> CheckIn:
    due_on = checkin_day(session, account, wanted, calendar)
    dropped = session.scalar(
        select(CheckIn).where(
            CheckIn.team_id == account.team_id,
            CheckIn.account_id == account.id,
            CheckIn.due_on == due_on,
        )
    )
    if dropped is not None:
        # A check-in a loss dropped on that day is taken up again (one row a day).
        dropped.done_at = None
        dropped.done_by = None
        dropped.dropped_at = None
        dropped.label = label
        dropped.next_nudge_at = calendar.opening(due_on)
        return dropped
    checkin = CheckIn(
        team_id=account.team_id,
        account_id=account.id,
        due_on=due_on,
        label=label,
        next_nudge_at=calendar.opening(due_on),
    )
    checkin.account = account
    session.add(checkin)
    return checkin


def plan_checkin(
    session: Session, checkin: CheckIn, calendar: WorkCalendar, now: datetime
) -> list[PlannedNudge]:
    checkin.next_nudge_at = None
    account = checkin.account
    if checkin.done_at is not None or account.stage != AccountStage.WON:
        # Check-ins follow a win; a lost (or reopened) account plans none.
        return []
    _continue_series(session, checkin, calendar)
    return [
        PlannedNudge(
            "checkin",
            f"checkin:{checkin.id}",
            f"due:{checkin.due_on}",
            account.owner_id,
            account.id,
            calendar.opening(checkin.due_on),
        )
    ]


def _continue_series(session: Session, checkin: CheckIn, calendar: WorkCalendar) -> None:
    """After the last planned check-in, keep going on the type's repeat interval."""
    account = checkin.account
    later = session.scalar(
        select(CheckIn.id).where(
            CheckIn.team_id == account.team_id,
            CheckIn.account_id == account.id,
            CheckIn.due_on > checkin.due_on,
            # What a loss dropped is not a plan any more.
            CheckIn.dropped_at.is_(None),
        )
    )
    if later is None:
        _, repeat = CHECKIN_PLANS.get(account.relationship_type, CHECKIN_PLANS[None])
        _add_checkin(session, account, checkin.due_on + timedelta(days=repeat), "regular", calendar)


def checkin_by_id(session: Session, *, team_id: str, checkin_id: int) -> CheckIn | None:
    """The team's check-in a button names; None when it is gone or another team's."""
    return session.scalar(
        select(CheckIn).where(CheckIn.team_id == team_id, CheckIn.id == checkin_id)
    )


def mark_checkin_done(
    session: Session, checkin: CheckIn, *, user_id: str, calendar: WorkCalendar, now: datetime
) -> bool:
    if not close_once(checkin, user_id=user_id, now=now):
        return False
    _continue_series(session, checkin, calendar)
    log_touch(
        session,
        checkin.account,
        user_id=user_id,
        note=f"{checkin.label} check-in",
        now=now,
        calendar=calendar,
    )
    return True


# --- touches and pauses ---------------------------------------------------------


def touch_intervals_for(relationship_type: str | None) -> tuple[int, int]:
    """(ideal, maximum) days between touches for a relationship type (None: untyped)."""
    return TOUCH_INTERVALS.get(relationship_type, TOUCH_INTERVALS[None])


def touch_intervals(account: Account) -> tuple[int, int]:
    return touch_intervals_for(account.relationship_type)


def arm_touch_clock(account: Account, *, since: datetime) -> None:
    if not account_state.schedules(account.stage):
        account.touch_nudge_at = None
        return
    _, maximum = touch_intervals(account)
    account.touch_nudge_at = since + timedelta(days=maximum)


@dataclass(frozen=True)
class TouchNote:
    """A touch's note as typed, and the day it ends with, if one that has been."""

    note: str
    day: date | None


def read_touch_note(note: str, reader: DayReader) -> TouchNote:
    """`call with their CFO yesterday`, `lunch on tue`, `3 Dec`: a note that ends with a
    day gone by (the reader's last-contact reading: `tue` is the latest Tuesday) was
    that day's touch, and the day leaves the note. A day still ahead (`agreed to talk
    again next tue`) is what comes next, not when they spoke: it stays in the note."""
    words = note.split()
    ending = reader.date_at_end(note) if len(words) > 1 else None
    said, typed = (ending.before, ending.day) if ending else ("", note)
    if not typed or len(typed.split()) > 5:
        return TouchNote(note, None)
    try:
        day = reader.read(typed, CONTACT)
    except UsageError:
        return TouchNote(note, None)
    return TouchNote(said, day)


def log_touch(
    session: Session,
    account: Account,
    *,
    user_id: str,
    note: str | None,
    now: datetime,
    calendar: WorkCalendar,
    permalink: str | None = None,
    on: date | None = None,
) -> Touch:
    """Log a touch now, or on the day `on` (an earlier one: noon of that day, the
    logger's time); the stay-in-touch clock runs from the latest touch."""
    account_state.require_live(account, "start its stay-in-touch clock again")
    at = (
        now
        if on is None or on >= calendar.today(now)
        else datetime.combine(on, time(12, 0), tzinfo=calendar.tz).astimezone(now.tzinfo)
    )
    touch = Touch(
        team_id=account.team_id,
        account_id=account.id,
        user_id=user_id,
        note=note or None,
        at=at,
        permalink=permalink,
    )
    session.add(touch)
    latest = max(at, account.last_touch_at or at)
    account.last_touch_at = latest
    arm_touch_clock(account, since=latest)
    note_activity(
        session, team_id=account.team_id, account_id=account.id, day=calendar.today(now), now=now
    )
    session.flush()
    return touch


def log_touch_for_nudge(
    session: Session,
    *,
    team_id: str,
    account_id: int,
    nudge_id: int,
    user_id: str,
    now: datetime,
    calendar: WorkCalendar,
) -> bool:
    """ "I was in touch" on a stay-in-touch nudge: log a touch, unless one was logged
    since the nudge was planned (a second click logs no other). False: nothing logged."""
    nudge = session.get(Nudge, nudge_id)
    if nudge is None or nudge.team_id != team_id:
        return False
    try:
        account = account_by_id(session, team_id=team_id, account_id=account_id)
    except NotFound:
        return False  # gone since: the DM is redrawn as it stands, nothing said
    if account.last_touch_at is not None and account.last_touch_at >= nudge.created_at:
        return False
    log_touch(session, account, user_id=user_id, note=None, now=now, calendar=calendar)
    return True


class TouchDates(Protocol):
    """What `last_touched` reads: an `Account`, or a row with its three columns."""

    @property
    def last_touch_at(self) -> datetime | None: ...
    @property
    def won_at(self) -> datetime | None: ...
    @property
    def created_at(self) -> datetime: ...


def last_touched(account: TouchDates) -> datetime:
    """When the account was last touched: its latest logged touch, else its win, else
    its creation. The stay-in-touch clock, quiet days and cooling count from it."""
    return account.last_touch_at or account.won_at or account.created_at


# `last_touched` in SQL, for grouping, which reads accounts as plain rows.
LAST_TOUCHED = func.coalesce(Account.last_touch_at, Account.won_at, Account.created_at)


def days_quiet(last: datetime, now: datetime) -> int:
    """Whole days since `last` (`last_touched`), none before it."""
    return max((now - last).days, 0)


def days_since_touch(account: TouchDates, now: datetime) -> int:
    return days_quiet(last_touched(account), now)


def plan_touch(account: Account, now: datetime) -> list[PlannedNudge]:
    account.touch_nudge_at = None
    if not account_state.schedules(account.stage):
        return []
    return [
        PlannedNudge(
            "touch",
            f"account:{account.id}",
            f"since:{last_touched(account).date().isoformat()}",
            account.owner_id,
            account.id,
            now,
        )
    ]


def touched_since(slot: str, last: datetime) -> bool:
    """Whether an account was touched after a stay-in-touch nudge about it was planned
    (the nudge's `slot` names the day it counted from; `last` is `last_touched` now):
    then the nudge needs nobody, and its DM says it was touched."""
    return not slot.endswith(last.date().isoformat())


# --- the sweep's reads (bot/scheduler/plan.py, group.py) ----------------------------

_Scheduled = TypeVar("_Scheduled", Qbr, CheckIn)


def _lock_due(
    session: Session, model: type[_Scheduled], now: datetime, limit: int
) -> Sequence[_Scheduled]:
    due: Sequence[_Scheduled] = lock_due_rows(session, model, now=now, limit=limit)
    return due


def lock_due_qbrs(session: Session, *, now: datetime, limit: int) -> Sequence[Qbr]:
    """Up to `limit` QBRs with a reminder due by `now`, with their accounts, locked
    for this transaction (another worker's skipped)."""
    return _lock_due(session, Qbr, now, limit)


def lock_due_checkins(session: Session, *, now: datetime, limit: int) -> Sequence[CheckIn]:
    """Up to `limit` check-ins with a reminder due by `now`, as `lock_due_qbrs`."""
    return _lock_due(session, CheckIn, now, limit)


def lock_due_touches(session: Session, *, now: datetime, limit: int) -> Sequence[Account]:
    """Up to `limit` accounts whose stay-in-touch nudge is due by `now`, locked for
    this transaction (another worker's skipped)."""
    return session.scalars(
        select(Account)
        .where(Account.touch_nudge_at <= now, serving(Account.team_id))
        .order_by(Account.touch_nudge_at, Account.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()


def done_checkins_among(session: Session, ids: Sequence[int]) -> set[int]:
    """Those of the check-ins `ids` that are done."""
    return {
        checkin_id
        for (checkin_id,) in plain_rows(
            session,
            select(CheckIn.id).where(among(session, CheckIn.id, ids), CheckIn.done_at.is_not(None)),
        )
    }


def qbr_days(session: Session, ids: Sequence[int]) -> dict[int, date]:
    """The next review day of each of the QBRs `ids` (`is_answered` reads it)."""
    return dict(plain_rows(session, select(Qbr.id, Qbr.next_on).where(among(session, Qbr.id, ids))))


@dataclass
class NudgedAccount:
    """What grouping reads of a nudge's account (`bot/scheduler/group.py`)."""

    owner_id: str
    stage: str
    paused_until: date | None
    since: datetime  # `last_touched`


def nudged_accounts(session: Session, ids: Sequence[int]) -> dict[int, NudgedAccount]:
    """The accounts `ids` as grouping reads them, one query, by id."""
    rows = plain_rows(
        session,
        select(
            Account.id,
            Account.owner_id,
            Account.stage,
            Account.paused_until,
            LAST_TOUCHED,
        ).where(among(session, Account.id, ids)),
    )
    return {
        aid: NudgedAccount(owner, stage, paused, since) for aid, owner, stage, paused, since in rows
    }
