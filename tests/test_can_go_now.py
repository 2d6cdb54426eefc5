"""The pipeline's decisions, each written once, tested directly: "can this nudge go
now?" (`group.can_go_now`, asked by planning's write-once path and by grouping alike)
and escalation's rules (`followups.escalation_target`, `followups.closed_reason`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.config import Settings
from bot.scheduler import group, plan
from bot.scheduler.batches import Calendars
from bot.scheduler.group import CANCEL, GO, LATER, Hours, Verdict, can_go_now
from bot.services import followups
from storage.db import SessionFactory
from storage.models import Account, Commitment, Nudge, NudgeStatus, UserPrefs
from tests.conftest import at
from tests.test_workers import seed_due_commitments

NOW = at("2026-11-27T09:00:00")  # a Friday, 09:00 UTC: working hours have just begun
SATURDAY = at("2026-11-28T10:00:00")
MONDAY_OPENS = at("2026-11-30T09:00:00")
TEAM = "T0ACME"
ALICE, BOB = "U0000000", "U0000001"


@pytest.fixture
def hours_at(db: SessionFactory, settings: Settings) -> Iterator[Any]:
    """`Hours` for one batch at an instant, over a real session (prefs, days off)."""
    with db() as session:

        def make(now: datetime, *, zones_settled: bool = True) -> Hours:
            return Hours(Calendars(session, settings), now, zones_settled=zones_settled)

        yield make


def fresh_zone(db: SessionFactory, user_id: str, *, fetched: datetime) -> None:
    with db.begin() as session:
        session.add(UserPrefs(team_id=TEAM, user_id=user_id, slack_tz_fetched_at=fetched))


def ask(hours: Hours, recipient: str = ALICE, **account: Any) -> Verdict:
    facts: dict[str, Any] = {
        "stage": "open",
        "owner_id": ALICE,
        "paused_until": None,
        "closed": False,
    }
    facts.update(account)
    return can_go_now(hours, TEAM, recipient, **facts)


def test_an_open_nudge_in_working_hours_goes(hours_at: Any) -> None:
    assert ask(hours_at(NOW)) == GO


def test_a_nudge_that_stopped_being_true_is_cancelled(hours_at: Any) -> None:
    hours = hours_at(NOW)
    assert ask(hours, closed=True) == CANCEL, "done, snoozed, answered or touched since"
    assert ask(hours, stage="lost") == CANCEL, "a lost account schedules nothing"
    assert ask(hours, stage=None) == CANCEL, "its account is gone"
    # Cancelled whatever the hours: nobody waits for a nudge that will never go.
    assert ask(hours_at(SATURDAY), closed=True) == CANCEL


def test_outside_the_recipients_hours_it_waits_for_them(hours_at: Any) -> None:
    assert ask(hours_at(SATURDAY)) == Verdict(until=MONDAY_OPENS)
    assert ask(hours_at(at("2026-11-27T07:00:00"))) == Verdict(until=NOW)


def test_a_paused_account_waits_for_the_owners_first_hour_after_the_pause(
    hours_at: Any,
) -> None:
    hours = hours_at(NOW)
    assert ask(hours, paused_until=date(2026, 11, 30)) == Verdict(until=MONDAY_OPENS)
    # The pause is over (it ended today or before): the nudge goes.
    assert ask(hours, paused_until=date(2026, 11, 27)) == GO
    assert ask(hours, paused_until=date(2026, 11, 2)) == GO
    # A recipient outside their hours waits for them first, paused or not.
    assert ask(hours_at(SATURDAY), paused_until=date(2026, 11, 30)).until == MONDAY_OPENS


def test_a_stale_time_zone_is_asked_again_after_the_lookups(
    db: SessionFactory, hours_at: Any
) -> None:
    fresh_zone(db, BOB, fetched=NOW - timedelta(hours=1))
    fresh_zone(db, ALICE, fetched=NOW - timedelta(days=3))
    planning = hours_at(NOW, zones_settled=False)
    assert ask(planning, ALICE) == LATER, "stale: grouping decides after the lookup"
    assert ask(planning, "U0000009") == LATER, "never looked up"
    assert ask(planning, BOB) == GO, "looked up an hour ago"
    assert ask(planning, "C0SALES") == GO, "a channel has no time zone to look up"
    # Grouping runs after the sweep's lookups: whoever is still stale follows the
    # team's default zone rather than wait.
    assert ask(hours_at(NOW), ALICE) == GO


def test_planning_writes_once_exactly_what_the_rule_lets_go(
    db: SessionFactory, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Planning's write-once path asks `can_go_now` and nothing else: here a pause
    that ended and one that has not, a fresh zone and a stale one."""
    seed_due_commitments(db, 4)
    owners = [f"U{i:07d}" for i in range(4)]
    for owner in owners[:3]:
        fresh_zone(db, owner, fetched=NOW - timedelta(hours=1))
    with db.begin() as session:
        session.execute(
            update(Account)
            .where(Account.owner_id == owners[1])
            .values(paused_until=date(2026, 11, 20))  # over
        )
        session.execute(
            update(Account)
            .where(Account.owner_id == owners[2])
            .values(paused_until=date(2026, 12, 7))  # not yet
        )
    asked: Counter[str] = Counter()
    rule = group.can_go_now

    def spy(hours: Hours, team_id: str, recipient: str, **facts: Any) -> Verdict:
        verdict = rule(hours, team_id, recipient, **facts)
        asked["go" if verdict.go else "not"] += 1
        return verdict

    monkeypatch.setattr(plan, "can_go_now", spy)
    plan.plan_due(db, settings, now=NOW, grouping=group.Grouping())

    with db() as session:
        status = {n.recipient: n.status for n in session.scalars(select(Nudge).order_by(Nudge.id))}
    assert status == {
        owners[0]: NudgeStatus.GROUPED,  # fresh zone, in hours
        owners[1]: NudgeStatus.GROUPED,  # its pause is over
        owners[2]: NudgeStatus.PENDING,  # paused till next month: grouping waits
        owners[3]: NudgeStatus.PENDING,  # zone unknown: grouping, after the lookup
    }
    assert asked == Counter({"go": 2, "not": 2}), "asked once a planned nudge"


def test_grouping_asks_the_same_rule(db: SessionFactory, settings: Settings) -> None:
    """What planning left pending, grouping decides by the same rule: the paused one
    waits for the owner's first hour after the pause, the other goes."""
    seed_due_commitments(db, 2)
    with db.begin() as session:
        session.execute(
            update(Account).where(Account.owner_id == BOB).values(paused_until=date(2026, 11, 30))
        )
    grouping = group.Grouping()
    plan.plan_due(db, settings, now=NOW, grouping=grouping)
    assert group.group_due(db, settings, now=NOW, grouping=grouping) == 1
    with db() as session:
        nudges = {n.recipient: n for n in session.scalars(select(Nudge))}
        assert nudges[ALICE].status == NudgeStatus.GROUPED
        assert nudges[BOB].status == NudgeStatus.PENDING
        assert nudges[BOB].deliver_at == MONDAY_OPENS


def test_escalation_goes_to_the_manager_else_the_channel_never_the_owner() -> None:
    target = followups.escalation_target
    assert target(ALICE, manager_id=BOB, channel_id="C0ACME") == BOB
    assert target(ALICE, manager_id=None, channel_id="C0ACME") == "C0ACME"
    assert target(ALICE, manager_id="", channel_id="C0ACME") == "C0ACME"
    assert target(ALICE, manager_id=None, channel_id=None) is None
    # Their own manager: the owner gets the once-only note, not a channel post.
    assert target(ALICE, manager_id=ALICE, channel_id="C0ACME") is None


def test_a_commitment_is_closed_when_done_or_snoozed_past_now(db: SessionFactory) -> None:
    closed = followups.closed_reason
    assert closed(None, None, NOW) is None
    assert closed(NOW, None, NOW) == "done"
    assert closed(NOW, NOW + timedelta(days=1), NOW) == "done"
    assert closed(None, NOW + timedelta(minutes=1), NOW) == "snoozed"
    assert closed(None, NOW, NOW) is None, "a snooze that ends now has ended"
    # The same rule as SQL, for grouping's batch reads.
    seed_due_commitments(db, 1, 4)
    with db.begin() as session:
        rows = list(session.scalars(select(Commitment).order_by(Commitment.id)))
        rows[1].done_at = NOW
        rows[2].snoozed_until = NOW + timedelta(hours=1)
        rows[3].snoozed_until = NOW
        expected = {c.id for c in rows if closed(c.done_at, c.snoozed_until, NOW) is not None}
        done_and_snoozed = {rows[1].id, rows[2].id}
    with db() as session:
        found = set(session.scalars(select(Commitment.id).where(followups.closed_by(NOW))))
    assert found == expected == done_and_snoozed
