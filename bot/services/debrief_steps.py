"""What a debrief leads to: the improvement steps it suggests (rehearse the QBR readout,
red-team the credit and price-band rules, a role-reversal session), each accepted as a
follow-up of the rep's with one click, once, due on a working day that suits it.

The due days: the readout is rehearsed on the working day before the account's next
QBR, when one is planned and that day has not passed (else within two working weeks,
time to draft it); the credit rules are red-teamed within three working days, while the
deal's terms are fresh; the role-reversal session, which needs a colleague's hour, within
a working week. All on the working days of the rep who accepts them, who owns them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import get_args

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from bot.services import account_state, followups, rhythm
from bot.services.accounts import AccountShown
from bot.services.calendar import WorkCalendar
from bot.services.errors import NotFound
from bot.services.governance import (
    DebriefShown,
    SavedDebrief,
    debrief_count,
    latest_debrief_row,
)
from messages.ids import DebriefStep
from messages.phrases import debrief_followup
from storage.models import Account, Debrief, DebriefFollowup

# In the order a debrief shows them (the values its buttons carry).
STEPS: tuple[str, ...] = get_args(DebriefStep)
RED_TEAM_WITHIN = 3  # working days
ROLE_REVERSAL_WITHIN = 5
READOUT_WITHOUT_QBR = 10
GONE = "That debrief is not there any more. `/rapport account ACCOUNT` shows the latest one."


def due_day(step: str, calendar: WorkCalendar, today: date, next_qbr: date | None) -> date:
    """When a step accepted `today` is due (see the module's docstring)."""
    if step == "readout":
        if next_qbr is not None:
            eve = calendar.working_day_before(next_qbr)
            if eve >= today:
                return eve
        return calendar.working_day_after(today, READOUT_WITHOUT_QBR)
    within = RED_TEAM_WITHIN if step == "red_team" else ROLE_REVERSAL_WITHIN
    return calendar.working_day_after(today, within)


@dataclass(frozen=True)
class StepShown:
    """One improvement step of a debrief, and the follow-up it became (None: not yet)."""

    step: str
    what: str
    due_on: date | None = None
    accepted_by: str | None = None
    accepted_at: datetime | None = None
    done: bool = False
    # This click found it recorded already (two clicks, or an old card's button).
    again: bool = False

    @property
    def accepted(self) -> bool:
        return self.accepted_by is not None


@dataclass(frozen=True)
class DebriefSteps:
    """A debrief's improvement steps as a message shows them."""

    debrief_id: int
    account: AccountShown
    steps: tuple[StepShown, ...]

    @property
    def can_track(self) -> bool:
        """A lost account tracks no follow-ups (it says how to bring it back)."""
        return account_state.schedules(self.account.stage)

    @property
    def open(self) -> tuple[StepShown, ...]:
        return tuple(step for step in self.steps if not step.accepted)


def _shown(step: str, row: DebriefFollowup | None) -> StepShown:
    if row is None:
        return StepShown(step=step, what=debrief_followup(step))
    commitment = row.commitment
    return StepShown(
        step=step,
        what=commitment.what if commitment is not None else debrief_followup(step),
        due_on=commitment.due_on if commitment is not None else None,
        accepted_by=row.accepted_by,
        accepted_at=row.accepted_at,
        done=commitment is None or commitment.done_at is not None,
    )


def _steps_of(session: Session, debrief: Debrief) -> DebriefSteps:
    rows = {
        row.step: row
        for row in session.scalars(
            select(DebriefFollowup)
            .where(
                DebriefFollowup.team_id == debrief.team_id,
                DebriefFollowup.debrief_id == debrief.id,
            )
            .options(joinedload(DebriefFollowup.commitment))
        )
    }
    return DebriefSteps(
        debrief_id=debrief.id,
        account=AccountShown.of(debrief.account),
        steps=tuple(_shown(step, rows.get(step)) for step in STEPS),
    )


def _debrief(session: Session, *, team_id: str, debrief_id: int, lock: bool = False) -> Debrief:
    query = select(Debrief).where(Debrief.team_id == team_id, Debrief.id == debrief_id)
    if lock:
        # Two clicks at once on PostgreSQL queue here; the second finds the first's step.
        query = query.with_for_update()
    debrief = session.scalar(query)
    if debrief is None:
        raise NotFound(GONE)
    return debrief


def debrief_steps(session: Session, *, team_id: str, debrief_id: int) -> DebriefSteps:
    return _steps_of(session, _debrief(session, team_id=team_id, debrief_id=debrief_id))


def latest_steps(session: Session, *, team_id: str, account_id: int) -> DebriefSteps | None:
    """The steps of the account's latest debrief; None before its first."""
    latest = latest_debrief_row(session, team_id=team_id, account_id=account_id)
    return _steps_of(session, latest) if latest is not None else None


def saved_debrief(session: Session, *, team_id: str, debrief_id: int) -> SavedDebrief:
    """A debrief as its modal's last screen shows it (redrawn after a step's click)."""
    debrief = _debrief(session, team_id=team_id, debrief_id=debrief_id)
    return SavedDebrief(
        account=AccountShown.of(debrief.account),
        debrief=DebriefShown.of(debrief),
        count=debrief_count(session, team_id=team_id, account_id=debrief.account_id),
    )


@dataclass(frozen=True)
class StepRecorded:
    steps: DebriefSteps
    step: StepShown
    created: bool  # False: it was recorded before, nothing was added


def record_step(
    session: Session,
    *,
    team_id: str,
    debrief_id: int,
    step: str,
    user_id: str,
    calendar: WorkCalendar,
    now: datetime,
) -> StepRecorded:
    """Accept one of a debrief's steps: a follow-up of `user_id`'s, due on the step's day
    in their calendar. Once: a second click finds the first one's follow-up."""
    if step not in STEPS:
        raise NotFound(GONE)
    debrief = _debrief(session, team_id=team_id, debrief_id=debrief_id, lock=True)
    found = session.scalar(
        select(DebriefFollowup).where(
            DebriefFollowup.debrief_id == debrief.id, DebriefFollowup.step == step
        )
    )
    created = found is None
    if found is None:
        account: Account = debrief.account
        account_state.require_live(account, "track a follow-up on it")
        qbr = rhythm.live_qbr(session, account)
        commitment = followups.add_commitment(
            session,
            team_id=team_id,
            account_name=account.name,
            user_id=user_id,
            what=debrief_followup(step),
            due_on=due_day(step, calendar, calendar.today(now), qbr.next_on if qbr else None),
            calendar=calendar,
            now=now,
        )
        session.add(
            DebriefFollowup(
                team_id=team_id,
                debrief=debrief,
                step=step,
                commitment=commitment,
                accepted_by=user_id,
                accepted_at=now,
            )
        )
        session.flush()
    steps = _steps_of(session, debrief)
    shown = next(s for s in steps.steps if s.step == step)
    if not created:
        shown = replace(shown, again=True)
        steps = replace(steps, steps=tuple(shown if s.step == step else s for s in steps.steps))
    return StepRecorded(steps=steps, step=shown, created=created)
