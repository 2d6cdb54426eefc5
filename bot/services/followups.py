"""Follow-up commitments: making one (`add_commitment`), its nudge ladder, done,
snooze, reassign.

The ladder for a commitment we made: a reminder on the due day, a nudge once it is
unkept, a second nudge two working days later, then the owner's manager (or the
account's channel) four working days later. Any activity logged on the account moves
the ladder's starting day to that day: the owner is clearly on it.

Escalation is decided here, one function a question, and the sweep asks: *when* is
the ladder (`ESCALATE_AFTER`, `_last_step_of`); *to whom* is `escalation_target`;
*whether a nudge about a commitment is still sent* is `closed_reason` (and its SQL
twin `closed_by`), which grouping's one "can this go now?" rule
(`bot/scheduler/group.py`, `can_go_now`) and the DM (`bot/scheduler/compose.py`) read.

The sweep's own reads and writes of commitments are here too, in batches of plain
rows: the due ones (`lock_due`), where their ladders stand (`save_ladders`), and
which of a batch's are closed (`closed_among`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import IntEnum
from typing import Any

from rapidfuzz import fuzz
from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session, joinedload

from bot.services import account_state
from bot.services.accounts import AccountShown, ShownWithAccount, get_or_create_account
from bot.services.calendar import WorkCalendar
from bot.services.dates import end_of_day
from bot.services.errors import UsageError
from storage.models import Account, CheckIn, Commitment, CommitmentDirection, Nudge, NudgeStatus
from storage.reads import plain_rows
from storage.uninstalls import serving
from storage.upsert import among, update_by_id

MAX_COMMITMENT_TEXT = 500
# A promise further out than this is a plan, not a follow-up; it also keeps typos
# such as "9999-12-31" from becoming dates.
MAX_DAYS_AHEAD = 2 * 366
SECOND_NUDGE_AFTER = 2  # working days after the due day (or the latest activity)
ESCALATE_AFTER = 4


@dataclass(frozen=True, slots=True)
class CommitmentShown(ShownWithAccount):
    """A commitment as a message shows it, with its account: plain values, read while
    its session is open."""

    id: int
    account: AccountShown
    what: str
    due_on: date
    direction: str
    owner_id: str
    snoozed_until: datetime | None


@dataclass(slots=True)
class LadderRow:
    """A due commitment as the sweep reads it: plain values, no ORM identity map.

    The second shape of a commitment, kept for the sweep's speed only: the sweep
    reads up to 5,000 due commitments a batch through Core as plain rows, because the
    ORM's per-row loading cost more than the sweep's queries (bench/README.md, "Sweep",
    the first pass). With the account's columns the ladder's decisions need (stage,
    channel, pause). Fields in the order of `LADDER_COLUMNS`, so a row fills it by
    position.
    """

    id: int
    team_id: str
    account_id: int
    owner_id: str
    due_on: date
    due_at: datetime
    direction: str
    ladder_step: int
    ladder_anchor: date | None
    snoozed_until: datetime | None
    done_at: datetime | None
    nudges_sent: int
    stage: str
    channel_id: str | None
    paused_until: date | None
    # Not read: the ladder sets it on every row, so parsing 5,000 stored instants
    # per batch would be thrown away.
    next_nudge_at: datetime | None = None

    def changes(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "ladder_step": self.ladder_step,
            "ladder_anchor": self.ladder_anchor,
            "snoozed_until": self.snoozed_until,
            "nudges_sent": self.nudges_sent,
            "next_nudge_at": self.next_nudge_at,
        }


LADDER_COLUMNS: tuple[InstrumentedAttribute[Any], ...] = (
    Commitment.id,
    Commitment.team_id,
    Commitment.account_id,
    Commitment.owner_id,
    Commitment.due_on,
    Commitment.due_at,
    Commitment.direction,
    Commitment.ladder_step,
    Commitment.ladder_anchor,
    Commitment.snoozed_until,
    Commitment.done_at,
    Commitment.nudges_sent,
    Account.stage,
    Account.channel_id,
    Account.paused_until,
)

# What the ladder reads and moves: a stored commitment, or the sweep's plain row.
OnLadder = Commitment | LadderRow


# --- the sweep's reads and writes (bot/scheduler/plan.py, group.py) -----------------


def lock_due(session: Session, *, now: datetime, limit: int) -> list[LadderRow]:
    """Up to `limit` commitments whose next nudge is due by `now`, with their
    accounts' columns, locked for this transaction (FOR UPDATE SKIP LOCKED: another
    worker's batch is skipped, not waited for)."""
    found = plain_rows(
        session,
        select(*LADDER_COLUMNS)
        .join(Account, Account.id == Commitment.account_id)
        .where(Commitment.next_nudge_at <= now, serving(Commitment.team_id))
        .order_by(Commitment.next_nudge_at, Commitment.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=Commitment),
    )
    return [LadderRow(*row) for row in found]


def save_ladders(session: Session, rows: Sequence[LadderRow]) -> None:
    """Write back where each commitment's ladder stands (`LadderRow.changes`)."""
    update_by_id(session, Commitment, [c.changes() for c in rows])


def closed_among(session: Session, ids: Sequence[int], now: datetime) -> set[int]:
    """Those of the commitments `ids` closed at `now` (`closed_by`)."""
    return {
        commitment_id
        for (commitment_id,) in plain_rows(
            session,
            select(Commitment.id).where(among(session, Commitment.id, ids), closed_by(now)),
        )
    }


class LadderStep(IntEnum):
    DUE = 0
    UNKEPT = 1
    SECOND = 2
    ESCALATE = 3
    FINISHED = 4


@dataclass(frozen=True)
class PlannedNudge:
    """A nudge the sweep should write: who, about what, from when."""

    kind: str
    subject: str
    slot: str
    recipient: str
    account_id: int | None
    due_at: datetime


def subject_of(commitment: OnLadder) -> str:
    return f"commitment:{commitment.id}"


def step_instant(commitment: OnLadder, step: int, calendar: WorkCalendar) -> datetime | None:
    return _instant(commitment, step, _last_step_of(commitment.direction), calendar)


# The steps as plain ints for the sweep's per-row work: comparing with IntEnum members
# goes through the enum class on every access.
_DUE, _UNKEPT, _SECOND, _ESCALATE, _FINISHED = (int(step) for step in LadderStep)
_SLOT_NAMES = {int(step): step.name.lower() for step in LadderStep}
_THEIRS = CommitmentDirection.THEIRS.value


def _last_step_of(direction: str) -> int:
    # Nobody escalates a buyer's promise to our own manager.
    return _UNKEPT if direction == _THEIRS else _ESCALATE


def _instant(commitment: OnLadder, step: int, last: int, calendar: WorkCalendar) -> datetime | None:
    if step > last:
        return None
    if step == _DUE:
        return calendar.opening(commitment.due_on)
    if step == _UNKEPT:
        return commitment.due_at
    anchor = commitment.ladder_anchor or commitment.due_on
    after = SECOND_NUDGE_AFTER if step == _SECOND else ESCALATE_AFTER
    return calendar.opening(calendar.working_day_after(anchor, after))


def start_ladder(commitment: OnLadder, calendar: WorkCalendar, now: datetime) -> None:
    """Set the first step: the due-day reminder, unless the due day has already begun."""
    step = LadderStep.DUE
    first = step_instant(commitment, step, calendar)
    if first is not None and first <= now:
        step = LadderStep.UNKEPT
    commitment.ladder_step = step
    commitment.next_nudge_at = step_instant(commitment, step, calendar)


def add_commitment(
    session: Session,
    *,
    team_id: str,
    account_name: str,
    user_id: str,
    what: str,
    due_on: date,
    calendar: WorkCalendar,
    now: datetime,
    direction: CommitmentDirection = CommitmentDirection.OURS,
) -> Commitment:
    """Record that `what` will be done for (or, `theirs`, by) the account by `due_on`.

    The caller owns it either way: for the buyer's promises, they are the one who
    follows up.
    """
    today = calendar.today(now)
    if due_on < today:
        raise UsageError(f"{due_on:%a} {due_on.day} {due_on:%b %Y} has already passed.")
    if (due_on - today).days > MAX_DAYS_AHEAD:
        raise UsageError("Pick a due date within the next two years.")
    if len(what) > MAX_COMMITMENT_TEXT:
        raise UsageError(f"Keep the follow-up under {MAX_COMMITMENT_TEXT} characters.")
    account = get_or_create_account(
        session, team_id=team_id, name=account_name, user_id=user_id, now=now
    )
    account_state.require_live(account, "track a follow-up on it")
    commitment = Commitment(
        team_id=team_id,
        account=account,
        owner_id=user_id,
        what=what,
        due_on=due_on,
        due_at=end_of_day(due_on, calendar.tz),
        created_by=user_id,
        created_at=now,
        nudges_sent=0,
        direction=direction,
    )
    start_ladder(commitment, calendar, now)
    session.add(commitment)
    session.flush()
    return commitment


_KIND = {
    (CommitmentDirection.OURS, LadderStep.DUE): "followup_due",
    (CommitmentDirection.OURS, LadderStep.UNKEPT): "followup_unkept",
    (CommitmentDirection.OURS, LadderStep.SECOND): "followup_second",
    (CommitmentDirection.OURS, LadderStep.ESCALATE): "followup_escalation",
    (CommitmentDirection.THEIRS, LadderStep.DUE): "theirs_due",
    (CommitmentDirection.THEIRS, LadderStep.UNKEPT): "theirs_unkept",
}
# The same, keyed by the plain values the sweep's rows hold (equal and hashed alike).
_KINDS = {(direction.value, int(step)): kind for (direction, step), kind in _KIND.items()}


def plan(
    commitment: OnLadder,
    calendar: WorkCalendar,
    now: datetime,
    *,
    manager_id: str | None,
    channel_id: str | None,
) -> list[PlannedNudge]:
    """Every nudge due for `commitment` at `now`; moves its ladder on past them.

    Its escalation goes to `escalation_target` (the owner's manager, else the
    account's channel). With neither, the ladder stops at the owner's own reminders:
    the escalation step becomes, once per person, a note on how to give overdue
    follow-ups somewhere to go."""
    planned: list[PlannedNudge] = []
    subject = subject_of(commitment)
    if commitment.done_at is not None:
        commitment.next_nudge_at = None
        return planned
    if commitment.snoozed_until is not None:
        woke = commitment.snoozed_until
        if woke > now:
            commitment.next_nudge_at = woke
            return planned
        planned.append(
            PlannedNudge(
                "followup_snoozed",
                subject,
                f"snooze:{woke.isoformat()}",
                commitment.owner_id,
                commitment.account_id,
                woke,
            )
        )
        commitment.snoozed_until = None
        # The ladder resumes from the snooze's end: what fell due while snoozed is
        # covered by this reminder, and later steps count from that day.
        if commitment.due_at <= woke:
            commitment.ladder_anchor = calendar.today(woke)
        while commitment.ladder_step < LadderStep.FINISHED:
            instant = step_instant(commitment, commitment.ladder_step, calendar)
            if instant is None or instant > woke:
                break
            commitment.ladder_step += 1
    # The sweep runs this for every due commitment, so the loop works on plain ints
    # and strings (enum lookups and constructions were a third of its time). The
    # instant it stops at is the next wake: nothing it reads changes in between, and
    # no snooze is left by now.
    direction = commitment.direction
    last = _last_step_of(direction)
    step = commitment.ladder_step
    instant = _instant(commitment, step, last, calendar) if step < _FINISHED else None
    while instant is not None and instant <= now:
        if step >= _SECOND:
            on = (commitment.ladder_anchor or commitment.due_on).isoformat()
        else:
            on = str(commitment.due_on)
        if step != _ESCALATE:
            planned.append(
                PlannedNudge(
                    _KINDS[(direction, step)],
                    subject,
                    f"{_SLOT_NAMES[step]}:{on}",
                    commitment.owner_id,
                    commitment.account_id,
                    instant,
                )
            )
        elif (
            escalate_to := escalation_target(commitment.owner_id, manager_id, channel_id)
        ) is not None:
            planned.append(
                PlannedNudge(
                    _KINDS[(direction, step)],
                    subject,
                    f"{_SLOT_NAMES[step]}:{on}",
                    escalate_to,
                    commitment.account_id,
                    instant,
                )
            )
        else:
            planned.append(no_escalation_note(commitment.owner_id, commitment.account_id, instant))
        step += 1
        commitment.ladder_step = step
        commitment.nudges_sent += 1
        instant = _instant(commitment, step, last, calendar) if step < _FINISHED else None
    commitment.next_nudge_at = instant
    return planned


def escalation_target(owner_id: str, manager_id: str | None, channel_id: str | None) -> str | None:
    """To whom an overdue follow-up of ours escalates: the owner's manager, else the
    account's channel. None when there is neither, or it is the owner themself: then
    the owner gets, once, the note on how to give it somewhere to go."""
    target = manager_id or channel_id
    return target if target is not None and target != owner_id else None


def closed_reason(
    done_at: datetime | None, snoozed_until: datetime | None, now: datetime
) -> str | None:
    """Why a nudge about a commitment needs nobody any more at `now`: "done", or
    "snoozed" (until later); None while it is open. Grouping cancels such a nudge, the
    write-once path never writes it straight into a message, and the DM says why."""
    if done_at is not None:
        return "done"
    if snoozed_until is not None and snoozed_until > now:
        return "snoozed"
    return None


def closed_by(now: datetime) -> ColumnElement[bool]:
    """`closed_reason` as SQL, for grouping, which reads only the closed ones of a batch."""
    return or_(Commitment.done_at.is_not(None), Commitment.snoozed_until > now)


NO_ESCALATION = "no_escalation"


def no_escalation_note(owner_id: str, account_id: int, at: datetime) -> PlannedNudge:
    """The note that an owner's overdue follow-ups reach nobody else. Its key is the
    same for every commitment of theirs, so it is written, and said, once."""
    return PlannedNudge(NO_ESCALATION, f"person:{owner_id}", "once", owner_id, account_id, at)


def first_reminder_day(commitment: OnLadder, calendar: WorkCalendar) -> date | None:
    """The owner's working day the first reminder will actually come on: a due day
    on a weekend, a holiday or time away is reminded of on the next working day."""
    at = commitment.next_nudge_at
    return calendar.next_open(at).astimezone(calendar.tz).date() if at is not None else None


def cancel_pending(session: Session, *, team_id: str, subject: str) -> None:
    """Cancel the nudges still pending about `subject` (a commitment, a check-in)."""
    session.execute(
        update(Nudge)
        .where(
            Nudge.team_id == team_id,
            Nudge.subject == subject,
            Nudge.status == NudgeStatus.PENDING,
        )
        .values(status=NudgeStatus.CANCELLED)
    )


def get_commitment(session: Session, *, team_id: str, commitment_id: int) -> Commitment | None:
    return session.scalar(
        select(Commitment)
        .where(Commitment.team_id == team_id, Commitment.id == commitment_id)
        .options(joinedload(Commitment.account))
    )


def open_commitment_of(
    session: Session, *, team_id: str, user_id: str, commitment_id: int
) -> Commitment | None:
    """The open commitment, if it is `user_id`'s to act on: App Home's Done and Snooze
    change only one's own, and a click on one done or handed on since changes nothing."""
    commitment = get_commitment(session, team_id=team_id, commitment_id=commitment_id)
    if commitment is None or commitment.owner_id != user_id or commitment.done_at is not None:
        return None
    return commitment


def close_once(row: Commitment | CheckIn, *, user_id: str, now: datetime) -> bool:
    """Mark a follow-up or check-in done by `user_id` now, its reminders stopped; False
    when it was done already (a second click changes nothing)."""
    if row.done_at is not None:
        return False
    row.done_at, row.done_by, row.next_nudge_at = now, user_id, None
    return True


def mark_done(
    session: Session, commitment: Commitment, *, user_id: str, today: date, now: datetime
) -> bool:
    """Close it; returns False when it was already done (a second click changes nothing)."""
    if not close_once(commitment, user_id=user_id, now=now):
        return False
    commitment.kept_on_time = today <= commitment.due_on
    commitment.snoozed_until = None
    cancel_pending(session, team_id=commitment.team_id, subject=subject_of(commitment))
    return True


@dataclass(frozen=True)
class DoneByCommand:
    """What `/followup ACCOUNT [WHAT] done` did: the follow-up it closed, or the
    caller's open ones on the account it could not choose between (none, or several)."""

    closed: Commitment | None
    open: list[Commitment]
    # How many of the open ones read like what was typed (more than one: it asks).
    matches: int = 0


# How closely `WHAT done` must read like an open follow-up, all of it, to close it
# (rapidfuzz's token_sort_ratio, 0-100): a typo or the words in another order close
# "send pricing", but a part of it does not, so `get it done` (a new follow-up whose
# date was forgotten) never closes "get it signed".
DONE_MATCH = 85


def done_by_command(
    session: Session,
    *,
    team_id: str,
    account_id: int,
    user_id: str,
    what: str,
    today: date,
    now: datetime,
) -> DoneByCommand:
    """Close the caller's one open follow-up on the account that `what` reads like
    (their only one, when `what` is empty; the first due of several written alike).
    Several different ones that fit, or none: nothing is closed, and the caller's open
    ones are returned to choose from. Only one's own,
    as the Done button: someone else's promise is theirs to close."""
    account = session.get(Account, account_id)
    if account is not None:
        # The loss closed them: said as every command on a lost account says it.
        account_state.require_live(account, "close follow-ups on it: the loss closed them")
    mine = open_commitments(session, team_id=team_id, owner_id=user_id, account_id=account_id)
    fits = (
        [c for c in mine if fuzz.token_sort_ratio(what.casefold(), c.what.casefold()) >= DONE_MATCH]
        if what
        else mine
    )
    alike = len({" ".join(c.what.casefold().split()) for c in fits}) == 1
    if not fits or (len(fits) > 1 and not alike):
        return DoneByCommand(closed=None, open=mine, matches=len(fits))
    # Several written alike (the same promise made twice) cannot be told apart by their
    # words: the one due first is closed, the one its reminders are about.
    closed = fits[0]  # open_commitments lists them by due day
    mark_done(session, closed, user_id=user_id, today=today, now=now)
    return DoneByCommand(
        closed=closed, open=[c for c in mine if c is not closed], matches=len(fits)
    )


def snooze_until(choice: str, calendar: WorkCalendar, now: datetime) -> datetime | None:
    """When a snooze picked from a menu ends (`1h`, `3h`, `tomorrow`: the next working
    day's opening, `next_week`: Monday's, or the first working moment after); None
    for anything else ("pick a date", which asks for the day)."""
    if choice == "1h":
        return now + timedelta(hours=1)
    if choice == "3h":
        return now + timedelta(hours=3)
    if choice == "tomorrow":
        return calendar.opening(calendar.working_day_after(calendar.today(now), 1))
    if choice == "next_week":
        today = calendar.today(now)
        monday = today + timedelta(days=7 - today.weekday())
        return calendar.next_open(calendar.opening(monday))
    return None


def snooze_until_day(day: date, calendar: WorkCalendar, now: datetime) -> datetime:
    """When a snooze to a picked day ends: the first working moment from that day's
    start where the person is, and never before now."""
    until = calendar.next_open(datetime.combine(day, time(0, 0), tzinfo=calendar.tz))
    return max(until, now)


def snooze(session: Session, commitment: Commitment, *, until: datetime) -> None:
    commitment.snoozed_until = until
    commitment.next_nudge_at = until
    cancel_pending(session, team_id=commitment.team_id, subject=subject_of(commitment))


def reassign(
    session: Session,
    commitment: Commitment,
    *,
    new_owner: str,
    calendar: WorkCalendar,
    now: datetime,
) -> bool:
    if commitment.owner_id == new_owner or commitment.done_at is not None:
        return False
    commitment.owner_id = new_owner
    cancel_pending(session, team_id=commitment.team_id, subject=subject_of(commitment))
    # The new owner starts from the top of the ladder, counted from today.
    commitment.ladder_anchor = calendar.today(now) if commitment.due_at <= now else None
    start_ladder(commitment, calendar, now)
    return True


def note_activity(
    session: Session, *, team_id: str, account_id: int, day: date, now: datetime
) -> None:
    """Activity on the account restarts the unkept ladder of its overdue commitments."""
    overdue: Sequence[Commitment] = session.scalars(
        select(Commitment).where(
            Commitment.team_id == team_id,
            Commitment.account_id == account_id,
            Commitment.done_at.is_(None),
            Commitment.due_at <= now,
            Commitment.direction == CommitmentDirection.OURS,
        )
    ).all()
    for commitment in overdue:
        commitment.ladder_anchor = day
        if commitment.ladder_step > LadderStep.SECOND:
            commitment.ladder_step = LadderStep.SECOND
        # The next step is recomputed by the sweep from the new anchor.
        commitment.next_nudge_at = now


def open_commitments(
    session: Session,
    *,
    team_id: str,
    owner_id: str | None = None,
    account_id: int | None = None,
    limit: int = 50,
) -> list[Commitment]:
    query = (
        select(Commitment)
        .join(Account, Account.id == Commitment.account_id)
        # A lost account's follow-ups were closed with it; this keeps any that were
        # left open (written before losses closed them) off the lists too.
        .where(Commitment.team_id == team_id, Commitment.done_at.is_(None), account_state.WORKING)
        .options(joinedload(Commitment.account))
        .order_by(Commitment.due_on, Commitment.id)
        .limit(limit)
    )
    if owner_id is not None:
        query = query.where(Commitment.owner_id == owner_id)
    if account_id is not None:
        query = query.where(Commitment.account_id == account_id)
    return list(session.scalars(query))


def kept_since(session: Session, *, team_id: str, account_id: int, since: date | None) -> int:
    """Commitments to the account kept on time since `since` (ever, if None)."""
    query = select(func.count()).where(
        Commitment.team_id == team_id,
        Commitment.account_id == account_id,
        Commitment.kept_on_time.is_(True),
    )
    if since is not None:
        query = query.where(Commitment.due_on >= since)
    return session.scalar(query) or 0


def retime_open(
    session: Session, *, team_id: str, owner_id: str, calendar: WorkCalendar, now: datetime
) -> int:
    """Re-time the owner's open commitments to their (newly known) time zone.

    A due day ends at midnight where the owner is; it was first computed with the
    team's default zone when the owner's own was not known yet.
    """
    moved = 0
    for commitment in open_commitments(session, team_id=team_id, owner_id=owner_id, limit=500):
        due_at = end_of_day(commitment.due_on, calendar.tz)
        if due_at == commitment.due_at:
            continue
        commitment.due_at = due_at
        if commitment.ladder_step <= LadderStep.UNKEPT:
            start_ladder(commitment, calendar, now)
        moved += 1
    return moved


def reliability(session: Session, *, team_id: str, account_id: int) -> tuple[int, int]:
    """(kept on time, closed): how reliably the account's follow-ups were kept."""
    kept, closed = session.execute(
        select(
            func.count().filter(Commitment.kept_on_time.is_(True)),
            func.count(),
        ).where(
            Commitment.team_id == team_id,
            Commitment.account_id == account_id,
            Commitment.done_at.is_not(None),
            Commitment.dropped_at.is_(None),
        )
    ).one()
    return int(kept), int(closed)
