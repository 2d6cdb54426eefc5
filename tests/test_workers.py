"""Exactly once under concurrency and crashes: real worker processes, a real database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import date

import pytest
from sqlalchemy import func, select, update

from bot.devtools.localslack import LocalSlack
from storage.db import SessionFactory
from storage.models import (
    Account,
    Commitment,
    Nudge,
    NudgeStatus,
    OutboxMessage,
    OutboxStatus,
    UserPrefs,
)
from tests.conftest import at

DUE = date(2026, 11, 27)
SWEEP_AT = "2026-11-27T09:00:00Z"


def seed_due_commitments(db: SessionFactory, owners: int, each: int = 1, *, first: int = 0) -> None:
    """For each of `owners` people (numbered from `first`): an account with `each`
    commitments due today."""
    created = at("2026-11-20T10:00:00")
    with db.begin() as session:
        accounts = [
            Account(
                team_id="T0ACME",
                key=f"acct {i}",
                name=f"Acct {i}",
                owner_id=f"U{i:07d}",
                created_by=f"U{i:07d}",
                created_at=created,
            )
            for i in range(first, first + owners)
        ]
        session.add_all(accounts)
        session.flush()
        session.add_all(
            Commitment(
                team_id="T0ACME",
                account_id=account.id,
                owner_id=account.owner_id,
                what=f"send item {i}",
                due_on=DUE,
                due_at=at("2026-11-28T00:00:00"),
                created_by=account.owner_id,
                created_at=created,
                nudges_sent=0,
                next_nudge_at=at("2026-11-27T09:00:00"),
                ladder_step=0,
                direction="ours",
            )
            for account in accounts
            for i in range(each)
        )


def known_time_zones(db: SessionFactory, owners: int) -> None:
    """The owners' time zones were looked up an hour before the sweep: their nudges
    are written straight into their messages while planning (each written once)."""
    with db.begin() as session:
        session.add_all(
            UserPrefs(
                team_id="T0ACME",
                user_id=f"U{i:07d}",
                slack_tz_fetched_at=at("2026-11-27T08:00:00"),
            )
            for i in range(owners)
        )


def worker(slack: LocalSlack, database_url: str, when: str = SWEEP_AT) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "SLACK_API_URL": slack.api_url,
        "DATABASE_URL": database_url,
        "LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "bot.app.cli", "sweep", "--now", when],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def delivered(slack: LocalSlack) -> Counter[str]:
    return Counter(call.args["channel"] for call in slack.calls("chat.postMessage"))


@pytest.mark.parametrize("zones_known", [False, True], ids=["tz-lookup", "tz-known"])
def test_two_workers_at_once_send_each_nudge_exactly_once(
    db: SessionFactory, slack: LocalSlack, database_url: str, zones_known: bool
) -> None:
    owners, each = 150, 20  # 3,000 nudges, grouped into one DM per owner
    seed_due_commitments(db, owners, each)
    if zones_known:
        known_time_zones(db, owners)

    first, second = worker(slack, database_url), worker(slack, database_url)
    outputs = [first.communicate(timeout=300)[0], second.communicate(timeout=300)[0]]
    assert first.returncode == second.returncode == 0, outputs

    sent = delivered(slack)
    assert len(sent) == owners, "no message lost"
    assert max(sent.values()) == 1, "no message twice"
    with db() as session:
        statuses = Counter(session.scalars(select(OutboxMessage.status)))
        nudges = Counter(session.scalars(select(Nudge.status)))
        per_message = Counter(session.scalars(select(Nudge.outbox_id)))
    assert statuses == {OutboxStatus.SENT: owners}
    assert nudges == {NudgeStatus.GROUPED: owners * each}, "every nudge written once, sent once"
    assert set(per_message.values()) == {each}, "each DM carries all of its owner's nudges"
    if zones_known:  # written while planning: the key follows from its first nudge's
        with db() as session:
            slots = list(session.scalars(select(OutboxMessage.slot)))
        assert all(":h" in slot for slot in slots), slots[:3]


@pytest.mark.parametrize("zones_known", [False, True], ids=["tz-lookup", "tz-known"])
def test_worker_killed_mid_send_loses_nothing(
    db: SessionFactory, slack: LocalSlack, database_url: str, zones_known: bool
) -> None:
    owners = 60
    seed_due_commitments(db, owners)
    if zones_known:
        known_time_zones(db, owners)
    slack.state.delay_seconds = 0.02  # a slow Slack, so the kill lands mid-send
    try:
        doomed = worker(slack, database_url)
        deadline = time.monotonic() + 60
        while len(slack.calls("chat.postMessage")) < 15:
            assert time.monotonic() < deadline and doomed.poll() is None, "worker never got going"
            time.sleep(0.01)
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(timeout=10)
    finally:
        slack.state.delay_seconds = 0.0
    sent_before = len(slack.calls("chat.postMessage"))
    assert sent_before < owners

    # The dead one's leases run out 5 minutes after its claims, by the wall clock:
    # played here by moving them into the past.
    with db.begin() as session:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.status == OutboxStatus.SENDING)
            .values(claimed_until=OutboxMessage.claimed_at)
        )
    survivor = worker(slack, database_url, when="2026-11-27T09:06:00Z")
    out = survivor.communicate(timeout=120)[0]
    assert survivor.returncode == 0, out

    sent = delivered(slack)
    assert len(sent) == owners, "every nudge arrived"
    duplicates = sum(count - 1 for count in sent.values())
    # Even the message Slack took in the instant before the kill: the survivor finds
    # it in the conversation (by its metadata) before posting again.
    assert duplicates == 0
    with db() as session:
        pending = session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.status != OutboxStatus.SENT)
        )
    assert pending == 0
