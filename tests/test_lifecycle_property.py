"""For any run of lifecycle commands, nothing is ever scheduled for a lost account.

Hypothesis draws a run of commands (won, lost, reopen, Undo, follow-ups, QBRs,
touches, pauses, sweeps), by the owner or someone else, days apart; each goes
through the same services the commands use (bot.services.*) and the sweep's own
planning. After every step, a lost account has nothing open, nothing armed and
nothing pending, and a sweep writes no nudge about it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.config import Settings
from bot.scheduler.group import Grouping, group_due
from bot.scheduler.plan import plan_due
from bot.services import account_state, followups, lifecycle, people, rhythm
from bot.services.accounts import get_or_create_account
from bot.services.errors import UserFacingError
from storage.db import SessionFactory
from storage.models import (
    Account,
    AccountChange,
    Base,
    CheckIn,
    Commitment,
    Nudge,
    NudgeStatus,
    Qbr,
)
from tests.conftest import at
from tests.fuzzing import FUZZ
from tests.slackkit import ALICE, BOB, TEAM

UTC_ZONE = ZoneInfo("UTC")
START = at("2026-11-23T10:00:00Z")
COMMANDS = (
    "won",
    "lost",
    "reopen",
    "undo",
    "followup",
    "qbr",
    "touch",
    "pause",
    "resume",
    "sweep",
)
steps = st.lists(
    st.tuples(
        st.sampled_from(COMMANDS),
        st.sampled_from((ALICE, BOB)),
        st.integers(min_value=0, max_value=40),  # days after the previous step
        st.integers(min_value=0, max_value=30),  # days ahead, for dates it picks
    ),
    min_size=1,
    max_size=14,
)


def run(
    db: SessionFactory, settings: Settings, command: str, actor: str, now: datetime, ahead: int
) -> None:
    if command == "sweep":
        grouping = Grouping()
        plan_due(db, settings, now=now, grouping=grouping)
        group_due(db, settings, now=now, grouping=grouping)
        return
    with db.begin() as session:
        calendar = people.calendar_of(
            session, team_id=TEAM, user_id=actor, default_tz=UTC_ZONE, country=None
        )
        account = get_or_create_account(session, team_id=TEAM, name="Hooli", user_id=ALICE, now=now)
        today = calendar.today(now)
        if command == "won":
            lifecycle.win(session, account, actor_id=actor, calendar=calendar, now=now)
        elif command == "lost":
            lifecycle.lose(session, account, actor_id=actor, now=now)
        elif command == "reopen":
            lifecycle.reopen(session, account, actor_id=actor, now=now)
        elif command == "undo":
            latest = session.scalar(
                select(AccountChange.id)
                .where(AccountChange.undone_at.is_(None))
                .order_by(AccountChange.id.desc())
                .limit(1)
            )
            if latest is not None:
                lifecycle.undo(
                    session,
                    team_id=TEAM,
                    change_id=latest,
                    user_id=ALICE,
                    calendar=calendar,
                    now=now,
                )
        elif command == "followup":
            followups.add_commitment(
                session,
                team_id=TEAM,
                account_name="Hooli",
                user_id=actor,
                what="send the deck",
                due_on=today + timedelta(days=ahead),
                calendar=calendar,
                now=now,
            )
        elif command == "qbr":
            rhythm.schedule_qbr(
                session,
                account=account,
                next_on=today + timedelta(days=ahead),
                cadence="quarter",
                user_id=actor,
                calendar=calendar,
                now=now,
            )
        elif command == "touch":
            rhythm.log_touch(session, account, user_id=actor, note=None, now=now, calendar=calendar)
        elif command == "pause":
            lifecycle.pause(
                session,
                account,
                until=today + timedelta(days=ahead + 1),
                reason="budget",
                actor_id=actor,
                today=today,
                now=now,
            )
        elif command == "resume":
            lifecycle.resume(session, account, actor_id=actor, now=now)


def assert_nothing_scheduled_if_lost(db: SessionFactory, swept_at: datetime) -> None:
    with db() as session:
        account = session.scalars(select(Account)).one_or_none()
        if account is None or not account_state.is_lost(account.stage):
            return
        assert account.touch_nudge_at is None
        for model in (Commitment, CheckIn):
            still_open = session.scalar(
                select(func.count()).select_from(model).where(model.done_at.is_(None))
            )
            assert still_open == 0, f"an open {model.__name__} on a lost account"
        for armed_model in (Commitment, CheckIn, Qbr):
            armed = session.scalar(
                select(func.count())
                .select_from(armed_model)
                .where(armed_model.next_nudge_at.is_not(None))
            )
            assert armed == 0, f"a {armed_model.__name__} reminder armed on a lost account"
        pending = session.scalar(
            select(func.count()).select_from(Nudge).where(Nudge.status == NudgeStatus.PENDING)
        )
        assert pending == 0
        written_by_sweep = session.scalar(
            select(func.count())
            .select_from(Nudge)
            .where(Nudge.created_at >= swept_at, Nudge.status != NudgeStatus.CANCELLED)
        )
        assert written_by_sweep == 0, "the sweep wrote a nudge about a lost account"


@FUZZ
@given(steps=steps)
def test_nothing_is_ever_scheduled_for_a_lost_account(
    db: SessionFactory, settings: Settings, steps: list[tuple[str, str, int, int]]
) -> None:
    with db.begin() as session:
        for table in reversed(Base.metadata.sorted_tables):
            session.execute(table.delete())
    now = START
    for command, actor, gap, ahead in steps:
        # Steps apart in time, even on one day, so each sweep's nudges are its own.
        now += timedelta(days=gap, minutes=5)
        try:
            run(db, settings, command, actor, now, ahead)
        except UserFacingError:
            pass  # refused (a lost account, a past date, a change made since): nothing written
        # The sweep runs between any two commands, as it does every minute.
        swept_at = now + timedelta(minutes=1)
        run(db, settings, "sweep", actor, swept_at, ahead)
        assert_nothing_scheduled_if_lost(db, swept_at)
