"""The relationship's rhythm after a deal: QBRs, post-sale check-ins, touches, pauses.

Each source row keeps a `next_nudge_at` (or `touch_nudge_at`) pointing at its next
reminder, so the sweep finds work through an index and never scans whole tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from dateutil.relativedelta import relativedelta
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.errors import UsageError
from bot.services.calendar import WorkCalendar
from bot.services.followups import PlannedNudge, note_activity
from storage.models import Account, AccountStage, Commitment
from storage.scheduling_models import CheckIn, Nudge, NudgeStatus, Qbr, QbrCadence, Touch

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


def qbr_reminders(qbr: Qbr, calendar: WorkCalendar) -> list[tuple[str, datetime]]:
    """(slot, instant) of the lead-time reminder and the day-before reminder."""
    lead = qbr.next_on - timedelta(days=qbr.lead_days)
    eve = qbr.next_on - timedelta(days=1)
    reminders = [(f"lead:{qbr.next_on}", calendar.opening(lead))]
    if eve > lead:
        reminders.append((f"eve:{qbr.next_on}", calendar.opening(eve)))
    return reminders


def arm_qbr(qbr: Qbr, calendar: WorkCalendar, now: datetime) -> None:
    upcoming = [at for _, at in qbr_reminders(qbr, calendar) if at > now]
    qbr.next_nudge_at = min(upcoming) if upcoming else None


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
        )
        session.add(qbr)
    qbr.account = account
    qbr.next_on = next_on
    qbr.cadence = cadence
    arm_qbr(qbr, calendar, now)
    session.flush()
    return qbr


def plan_qbr(qbr: Qbr, calendar: WorkCalendar, now: datetime) -> list[PlannedNudge]:
    due = [(slot, at) for slot, at in qbr_reminders(qbr, calendar) if at <= now]
    arm_qbr(qbr, calendar, now)
    if not due or qbr.account.stage == AccountStage.LOST:
        return []
    # After downtime only the latest reminder still makes sense.
    slot, at = due[-1]
    kind = "qbr_eve" if slot.startswith("eve:") else "qbr_lead"
    return [PlannedNudge(kind, f"qbr:{qbr.id}", slot, qbr.account.owner_id, qbr.account_id, at)]


def mark_qbr_held(
    qbr: Qbr, *, review_on: date, today: date, calendar: WorkCalendar, now: datetime
) -> bool:
    """Roll to the next review; False if that review was already marked held."""
    if qbr.next_on != review_on:
        return False
    qbr.last_held_on = today
    qbr.held_count += 1
    if today <= review_on + timedelta(days=7):
        qbr.on_time_count += 1
    qbr.next_on = next_review(review_on, qbr.cadence)
    while qbr.next_on <= today:
        qbr.next_on = next_review(qbr.next_on, qbr.cadence)
    arm_qbr(qbr, calendar, now)
    return True


# --- check-ins ----------------------------------------------------------------


def checkin_label(days: int) -> str:
    return CHECKIN_LABELS.get(days, "regular")


def mark_won(
    session: Session, account: Account, *, calendar: WorkCalendar, now: datetime
) -> list[CheckIn]:
    """The deal is won: schedule its check-ins (idempotent: a second `won` adds none)."""
    if account.stage == AccountStage.WON:
        return list(_open_checkins(session, account))
    account.stage = AccountStage.WON
    account.won_at = now
    account.lost_at = None
    today = calendar.today(now)
    offsets, _ = CHECKIN_PLANS.get(account.relationship_type, CHECKIN_PLANS[None])
    created = [
        _add_checkin(session, account, today + timedelta(days=d), checkin_label(d), calendar)
        for d in offsets
    ]
    arm_touch_clock(account, since=now)
    session.flush()
    return created


def _add_checkin(
    session: Session, account: Account, due_on: date, label: str, calendar: WorkCalendar
) -> CheckIn:
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


def _open_checkins(session: Session, account: Account) -> Sequence[CheckIn]:
    return session.scalars(
        select(CheckIn)
        .where(
            CheckIn.team_id == account.team_id,
            CheckIn.account_id == account.id,
            CheckIn.done_at.is_(None),
        )
        .order_by(CheckIn.due_on)
    ).all()


def plan_checkin(
    session: Session, checkin: CheckIn, calendar: WorkCalendar, now: datetime
) -> list[PlannedNudge]:
    checkin.next_nudge_at = None
    account = checkin.account
    if checkin.done_at is not None or account.stage != AccountStage.WON:
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
        )
    )
    if later is None:
        _, repeat = CHECKIN_PLANS.get(account.relationship_type, CHECKIN_PLANS[None])
        _add_checkin(session, account, checkin.due_on + timedelta(days=repeat), "regular", calendar)


def mark_checkin_done(
    session: Session, checkin: CheckIn, *, user_id: str, calendar: WorkCalendar, now: datetime
) -> bool:
    if checkin.done_at is not None:
        return False
    checkin.done_at = now
    checkin.done_by = user_id
    checkin.next_nudge_at = None
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


def mark_lost(session: Session, account: Account, *, now: datetime) -> None:
    """The deal is lost: every nudge about the account stops, for good."""
    account.stage = AccountStage.LOST
    account.lost_at = now
    account.touch_nudge_at = None
    team, account_id = account.team_id, account.id
    for model in (Commitment, Qbr, CheckIn):
        session.execute(
            update(model)
            .where(model.team_id == team, model.account_id == account_id)
            .values(next_nudge_at=None)
        )
    session.execute(
        update(Nudge)
        .where(
            Nudge.team_id == team,
            Nudge.account_id == account_id,
            Nudge.status == NudgeStatus.PENDING,
        )
        .values(status=NudgeStatus.CANCELLED)
    )


# --- touches and pauses ---------------------------------------------------------


def touch_intervals(account: Account) -> tuple[int, int]:
    return TOUCH_INTERVALS.get(account.relationship_type, TOUCH_INTERVALS[None])


def arm_touch_clock(account: Account, *, since: datetime) -> None:
    if account.stage == AccountStage.LOST:
        account.touch_nudge_at = None
        return
    _, maximum = touch_intervals(account)
    account.touch_nudge_at = since + timedelta(days=maximum)


def log_touch(
    session: Session,
    account: Account,
    *,
    user_id: str,
    note: str | None,
    now: datetime,
    calendar: WorkCalendar,
    permalink: str | None = None,
) -> Touch:
    touch = Touch(
        team_id=account.team_id,
        account_id=account.id,
        user_id=user_id,
        note=note or None,
        at=now,
        permalink=permalink,
    )
    session.add(touch)
    account.last_touch_at = now
    arm_touch_clock(account, since=now)
    note_activity(
        session, team_id=account.team_id, account_id=account.id, day=calendar.today(now), now=now
    )
    session.flush()
    return touch


def plan_touch(account: Account, now: datetime) -> list[PlannedNudge]:
    account.touch_nudge_at = None
    if account.stage == AccountStage.LOST:
        return []
    since = account.last_touch_at or account.won_at or account.created_at
    return [
        PlannedNudge(
            "touch",
            f"account:{account.id}",
            f"since:{since.date().isoformat()}",
            account.owner_id,
            account.id,
            now,
        )
    ]


def days_since_touch(account: Account, now: datetime) -> int:
    since = account.last_touch_at or account.won_at or account.created_at
    return max((now - since).days, 0)


def pause(account: Account, *, until: date, reason: str, today: date) -> None:
    if until <= today:
        raise UsageError("Pick a date after today for `until:`.")
    account.paused_until = until
    account.pause_reason = reason


def is_paused(account: Account, today: date) -> bool:
    return account.paused_until is not None and today < account.paused_until
