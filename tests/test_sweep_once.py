"""Each nudge written once: what can go to its recipient right now is written into
their message while planning; the message is held until grouping has added the rest.

Same promises as before: one message per person per sweep, one nudge per subject in
it, each nudge sent once, and a sweep that dies part-way loses nothing.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.config import Settings
from bot.devtools.localslack import LocalSlack
from bot.scheduler import batches, group, plan
from bot.scheduler.compose import compose
from bot.scheduler.delivery import ClientForTeam, deliver_pending
from bot.scheduler.sweep import sweep
from bot.slackapi import timezones
from bot.slackapi.client import make_client
from storage.db import SessionFactory, engine_of
from storage.models import Commitment, Nudge, NudgeStatus, OutboxMessage, OutboxStatus, UserPrefs
from tests.conftest import BOT_TOKEN, at
from tests.test_workers import delivered, seed_due_commitments

NOW = at("2026-11-27T09:00:00")  # a Friday, in everyone's working hours


def known_time_zones(db: SessionFactory, owners: int, *, fetched: datetime = NOW) -> None:
    """The owners' Slack time zones were looked up recently: their nudges can be
    grouped while they are planned."""
    with db.begin() as session:
        session.add_all(
            UserPrefs(
                team_id="T0ACME",
                user_id=f"U{i:07d}",
                slack_tz_fetched_at=fetched - timedelta(hours=1),
            )
            for i in range(owners)
        )


@pytest.fixture
def written_once(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Counts the nudges planning wrote straight into a message."""
    seen: Counter[str] = Counter()
    original = group._write_grouped

    def spy(*args: Any, **kwargs: Any) -> int:
        written = original(*args, **kwargs)
        seen["nudges"] += written
        return written

    monkeypatch.setattr(group, "_write_grouped", spy)
    return seen


def messages_and_nudges(db: SessionFactory) -> tuple[list[OutboxMessage], list[Nudge]]:
    with db() as session:
        rows = list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        nudges = list(session.scalars(select(Nudge).order_by(Nudge.id)))
        session.expunge_all()
    return rows, nudges


def assert_each_message_names_its_nudges(db: SessionFactory) -> None:
    rows, nudges = messages_and_nudges(db)
    by_outbox: dict[int, list[int]] = {}
    for nudge in nudges:
        if nudge.outbox_id is not None:
            by_outbox.setdefault(nudge.outbox_id, []).append(nudge.id)
    # None: a message whose sweep died before letting it go, named by its nudges.
    named = {row.id: row.payload["nudge_ids"] or by_outbox.get(row.id, []) for row in rows}
    assert named == by_outbox


def test_batches_split_across_people_still_give_one_message_each(
    db: SessionFactory,
    slack: LocalSlack,
    client_for: ClientForTeam,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    written_once: Counter[str],
) -> None:
    owners, each = 12, 3
    seed_due_commitments(db, owners, each)
    known_time_zones(db, owners)
    # Batches of 7 end part-way through people's commitments, in planning and grouping.
    monkeypatch.setattr(batches, "BATCH", 7)

    report = sweep(db, client_for, settings, now=NOW)

    assert written_once["nudges"] == owners * each, "written once, already grouped"
    assert report.planned == owners * each and report.messages == owners
    sent = delivered(slack)
    assert len(sent) == owners and set(sent.values()) == {1}
    rows, nudges = messages_and_nudges(db)
    assert Counter(row.status for row in rows) == {OutboxStatus.SENT: owners}
    assert Counter(n.status for n in nudges) == {NudgeStatus.GROUPED: owners * each}
    assert set(Counter(n.outbox_id for n in nudges).values()) == {each}
    assert_each_message_names_its_nudges(db)

    again = sweep(db, client_for, settings, now=NOW + timedelta(minutes=1))
    assert again.planned == again.messages == 0
    assert len(slack.calls("chat.postMessage")) == owners


def test_a_waiting_nudge_joins_the_message_and_a_newer_one_stands_for_it(
    db: SessionFactory,
    slack: LocalSlack,
    client_for: ClientForTeam,
    settings: Settings,
    written_once: Counter[str],
) -> None:
    seed_due_commitments(db, 1, 2)
    known_time_zones(db, 1)
    with db.begin() as session:
        first, second = session.scalars(select(Commitment).order_by(Commitment.id)).all()
        # Held back from an earlier sweep, due now: one about a commitment that is
        # nudged again now (superseded by the new one), one about another that is not.
        second.next_nudge_at = NOW + timedelta(days=3)
        for commitment, slot in ((first, "earlier:1"), (second, "earlier:2")):
            session.add(
                Nudge(
                    team_id="T0ACME",
                    kind="followup_due",
                    subject=f"commitment:{commitment.id}",
                    slot=slot,
                    recipient=commitment.owner_id,
                    account_id=commitment.account_id,
                    deliver_at=NOW - timedelta(hours=15),
                    status=NudgeStatus.PENDING,
                    created_at=NOW - timedelta(hours=16),
                )
            )

    report = sweep(db, client_for, settings, now=NOW)

    assert written_once["nudges"] == 1
    assert report.messages == 1
    assert len(slack.calls("chat.postMessage")) == 1
    rows, nudges = messages_and_nudges(db)
    assert [n.status for n in nudges] == [
        NudgeStatus.SUPERSEDED,  # the earlier one about the first commitment
        NudgeStatus.GROUPED,  # the earlier one about the second
        NudgeStatus.GROUPED,  # the first commitment's, written now
    ]
    (row,) = rows
    assert row.payload["nudge_ids"] == [nudges[1].id, nudges[2].id]
    assert_each_message_names_its_nudges(db)


def test_a_sweep_that_dies_after_planning_loses_nothing(
    db: SessionFactory,
    slack: LocalSlack,
    client_for: ClientForTeam,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    written_once: Counter[str],
) -> None:
    owners, each = 6, 4
    seed_due_commitments(db, owners, each)
    known_time_zones(db, owners)
    monkeypatch.setattr(batches, "BATCH", 5)
    # Planning commits its batches, then the process dies: grouping never lets go.
    plan.plan_due(db, settings, now=NOW, grouping=group.Grouping())
    assert written_once["nudges"] == owners * each

    # Nobody sends a half-built message while its sweep might still be adding to it.
    report = deliver_pending(db, client_for, now=NOW + timedelta(minutes=1), compose=compose)
    assert report.sent == 0 and slack.calls("chat.postMessage") == []

    # After the hold, the next sweep sends each as it was built, each nudge once.
    sweep(db, client_for, settings, now=NOW + group.HOLD + timedelta(minutes=1))
    sent = delivered(slack)
    assert len(sent) == owners and set(sent.values()) == {1}
    texts = [str(c.args) for c in slack.calls("chat.postMessage")]
    assert all(t.count("send item") == each for t in texts), texts
    rows, nudges = messages_and_nudges(db)
    assert Counter(row.status for row in rows) == {OutboxStatus.SENT: owners}
    assert Counter(n.status for n in nudges) == {NudgeStatus.GROUPED: owners * each}

    sweep(db, client_for, settings, now=NOW + group.HOLD + timedelta(minutes=2))
    assert len(slack.calls("chat.postMessage")) == owners


def test_a_batch_that_fails_to_write_leaves_no_row_locked_and_no_nudge_half_written(
    db: SessionFactory,
    slack: LocalSlack,
    client_for: ClientForTeam,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    owners, each = 12, 3
    seed_due_commitments(db, owners, each)
    known_time_zones(db, owners)
    monkeypatch.setattr(batches, "BATCH", 7)
    write = plan._write_commitments
    writes: list[int] = []

    def second_write_fails(batch: plan.LadderBatch, *args: Any) -> int:
        writes.append(len(batch.due))
        if len(writes) == 2:
            # On PostgreSQL the third batch is being read meanwhile, its rows locked.
            raise RuntimeError("the database went away")
        return write(batch, *args)

    monkeypatch.setattr(plan, "_write_commitments", second_write_fails)
    with pytest.raises(RuntimeError, match="went away"):
        sweep(db, client_for, settings, now=NOW)
    assert engine_of(db).pool.checkedout() == 0, "every batch's transaction ended"
    with db() as session:
        assert session.scalar(select(func.count()).select_from(Nudge)) == 7, "batch 1 only"

    monkeypatch.setattr(plan, "_write_commitments", write)
    later = NOW + group.HOLD + timedelta(minutes=1)
    report = sweep(db, client_for, settings, now=later)

    assert report.planned == owners * each - 7, "nothing skipped as locked, nothing twice"
    rows, nudges = messages_and_nudges(db)
    assert len(nudges) == len({n.subject for n in nudges}) == owners * each
    sent = str([c.args for c in slack.calls("chat.postMessage")])
    assert sorted(sent.count(f"send item {i}") for i in range(each)) == [owners] * each


def test_a_held_message_a_sender_took_gets_nothing_more(
    db: SessionFactory,
    slack: LocalSlack,
    client_for: ClientForTeam,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A sweep slower than HOLD: another worker sent its message meanwhile, so the
    rest of that person's nudges go into a message of their own, none lost."""
    seed_due_commitments(db, 1, 2)
    known_time_zones(db, 1)
    grouping = group.Grouping()
    with db.begin() as session:
        first, second = session.scalars(select(Commitment).order_by(Commitment.id)).all()
        second.next_nudge_at = NOW + timedelta(days=3)  # comes round after the send
    plan.plan_due(db, settings, now=NOW, grouping=grouping)
    assert len(grouping.held) == 1
    late = NOW + group.HOLD + timedelta(minutes=1)
    assert deliver_pending(db, client_for, now=late, compose=compose).sent == 1

    with db.begin() as session:
        session.get(Commitment, second.id).next_nudge_at = NOW  # type: ignore[union-attr]
    plan.plan_due(db, settings, now=NOW, grouping=grouping)
    assert group.group_due(db, settings, now=NOW, grouping=grouping) == 1
    assert deliver_pending(db, client_for, now=late, compose=compose).sent == 1

    texts = [str(c.args) for c in slack.calls("chat.postMessage")]
    assert len(texts) == 2 and all(t.count("send item") == 1 for t in texts)
    rows, nudges = messages_and_nudges(db)
    assert [n.status for n in nudges] == [NudgeStatus.GROUPED] * 2
    assert len({n.outbox_id for n in nudges}) == 2
    assert_each_message_names_its_nudges(db)


def test_stale_time_zone_waits_for_the_lookup_as_before(
    db: SessionFactory,
    slack: LocalSlack,
    client_for: ClientForTeam,
    settings: Settings,
    written_once: Counter[str],
) -> None:
    seed_due_commitments(db, 2, 2)
    known_time_zones(db, 2, fetched=NOW - timedelta(days=3))
    sweep(db, client_for, settings, now=NOW)
    assert written_once["nudges"] == 0
    assert len(slack.calls("users.info")) == 2
    assert len(delivered(slack)) == 2
    assert_each_message_names_its_nudges(db)


def fetched_at(db: SessionFactory, user_id: str) -> datetime | None:
    with db() as session:
        prefs = session.scalar(select(UserPrefs).where(UserPrefs.user_id == user_id))
        return None if prefs is None else prefs.slack_tz_fetched_at


def test_a_rate_limited_lookup_does_not_wait_and_is_asked_again_next_sweep(
    db: SessionFactory,
    slack: LocalSlack,
    client_for: ClientForTeam,
    settings: Settings,
) -> None:
    """The lookups run while other workers wait on the plan-and-group lock: a 429
    ends them for this sweep at once (no sleeping out Retry-After under the lock),
    the nudges still go, and nobody is marked as looked up."""
    seed_due_commitments(db, 3, 1)
    slack.fail_next("users.info", status=429, retry_after=30)

    sweep(db, client_for, settings, now=NOW)

    assert len(slack.calls("users.info")) == 1, "no retry, no further lookups"
    assert len(delivered(slack)) == 3
    assert [fetched_at(db, f"U{i:07d}") for i in range(3)] == [None, None, None]

    seed_due_commitments(db, 3, 1, first=3)
    sweep(db, client_for, settings, now=NOW + timedelta(minutes=1))
    assert len(slack.calls("users.info")) == 1 + 3
    assert fetched_at(db, "U0000003") == NOW + timedelta(minutes=1)


def test_lookups_stop_when_the_sweeps_time_for_them_is_spent(
    db: SessionFactory,
    slack: LocalSlack,
    client_for: ClientForTeam,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seed_due_commitments(db, 3, 1)
    monkeypatch.setattr(timezones, "TZ_LOOKUP_SECONDS", 0.0)

    sweep(db, client_for, settings, now=NOW)

    assert len(slack.calls("users.info")) == 1, "one, then the time was spent"
    assert len(delivered(slack)) == 3


def test_slack_down_for_a_lookup_is_not_remembered_as_no_zone(
    db: SessionFactory,
    slack: LocalSlack,
    client_for: ClientForTeam,
    settings: Settings,
) -> None:
    seed_due_commitments(db, 1, 1)
    # No retries: slack_sdk's backoff between them would only make the test slower.
    client = make_client(settings.model_copy(update={"slack_max_retries": 0}), token=BOT_TOKEN)
    slack.fail_next("users.info", status=503)
    sweep(db, lambda _team: client, settings, now=NOW)
    assert fetched_at(db, "U0000000") is None

    slack.fail_next("users.info", error="user_not_found")
    seed_due_commitments(db, 1, 1, first=1)
    sweep(db, client_for, settings, now=NOW + timedelta(minutes=1))
    # Slack's answer for good: the team's zone it is, asked again in a day.
    assert fetched_at(db, "U0000001") == NOW + timedelta(minutes=1)
