"""The sweep end to end: commitments become DMs, once, in the owner's working hours."""

from __future__ import annotations

import os
import subprocess
import sys

from freezegun import freeze_time
from sqlalchemy import select

from bot.config import Settings
from bot.devtools.localslack import LocalSlack
from bot.scheduler.delivery import ClientForTeam
from bot.scheduler.sweep import sweep
from storage.db import SessionFactory
from storage.models import Commitment, OutboxMessage, OutboxStatus
from tests.conftest import at
from tests.slackkit import ALICE, BOB, SlackSender, blocks_text

CREATED = "2026-11-23T15:00:00+00:00"  # a Monday; "fri" is 2026-11-27


def promise(
    slack_user: SlackSender, text: str = "acme send the pricing sheet due: fri", user: str = ALICE
) -> None:
    with freeze_time(CREATED, real_asyncio=True):
        reply = slack_user.command("/followup", text, user=user)
    assert "Noted" in reply.text, reply.text


def dms_to(slack: LocalSlack, user: str) -> list[str]:
    return [
        blocks_text(c.args)
        for c in slack.calls("chat.postMessage")
        if c.args["channel"] == "D" + user[1:]
    ]


def test_nothing_is_sent_before_the_due_day_starts(
    slack_user: SlackSender,
    slack: LocalSlack,
    db: SessionFactory,
    client_for: ClientForTeam,
    settings: Settings,
) -> None:
    promise(slack_user)
    report = sweep(db, client_for, settings, now=at("2026-11-27T08:59:00"))
    assert report.planned == 0
    assert slack.calls("chat.postMessage") == []


def test_due_day_reminder_then_unkept_nudge_on_the_next_working_day(
    slack_user: SlackSender,
    slack: LocalSlack,
    db: SessionFactory,
    client_for: ClientForTeam,
    settings: Settings,
) -> None:
    promise(slack_user)

    sweep(db, client_for, settings, now=at("2026-11-27T09:00:00"))
    (due,) = dms_to(slack, ALICE)
    assert "Due today" in due and "send the pricing sheet" in due and "acme" in due

    # Saturday: the day is over and it is still open, but nobody works weekends.
    sweep(db, client_for, settings, now=at("2026-11-28T10:00:00"))
    assert len(dms_to(slack, ALICE)) == 1

    sweep(db, client_for, settings, now=at("2026-11-30T09:00:00"))
    unkept = dms_to(slack, ALICE)[1]
    assert "Still open" in unkept and "Fri 27 Nov 2026" in unkept


def test_second_sweep_sends_nothing_more(
    slack_user: SlackSender,
    slack: LocalSlack,
    db: SessionFactory,
    client_for: ClientForTeam,
    settings: Settings,
) -> None:
    promise(slack_user)
    sweep(db, client_for, settings, now=at("2026-11-27T09:00:00"))
    again = sweep(db, client_for, settings, now=at("2026-11-27T09:01:00"))
    assert (again.planned, again.messages, again.delivery.sent) == (0, 0, 0)
    assert len(slack.calls("chat.postMessage")) == 1


def test_everything_due_for_a_person_arrives_as_one_dm(
    slack_user: SlackSender,
    slack: LocalSlack,
    db: SessionFactory,
    client_for: ClientForTeam,
    settings: Settings,
) -> None:
    promise(slack_user)
    promise(slack_user, "globex book the kickoff due: fri")
    promise(slack_user, "initech they: sign the order form due: fri")
    promise(slack_user, "acme call back due: fri", user=BOB)

    sweep(db, client_for, settings, now=at("2026-11-27T09:00:00"))

    (to_alice,) = dms_to(slack, ALICE)
    assert "3 things" in to_alice
    assert "send the pricing sheet" in to_alice and "book the kickoff" in to_alice
    assert "sign the order form" in to_alice
    assert len(dms_to(slack, BOB)) == 1


def test_done_commitment_is_not_nudged(
    slack_user: SlackSender,
    slack: LocalSlack,
    db: SessionFactory,
    client_for: ClientForTeam,
    settings: Settings,
) -> None:
    promise(slack_user)
    with db.begin() as session:
        commitment = session.scalars(select(Commitment)).one()
        commitment.done_at = at("2026-11-26T10:00:00")
        commitment.next_nudge_at = None
    sweep(db, client_for, settings, now=at("2026-12-10T09:00:00"))
    assert slack.calls("chat.postMessage") == []


def test_rate_limited_post_is_sent_after_retry_after_in_the_same_sweep(
    slack_user: SlackSender,
    slack: LocalSlack,
    db: SessionFactory,
    client_for: ClientForTeam,
    settings: Settings,
) -> None:
    promise(slack_user)
    # A 429 means Slack did nothing: waiting it out and posting again is safe.
    slack.fail_next("chat.postMessage", status=429, retry_after="0.01")

    report = sweep(db, client_for, settings, now=at("2026-11-27T09:00:00"))

    assert report.delivery.sent == 1
    assert len(slack.calls("chat.postMessage")) == 2  # 429, then delivered
    with db() as session:
        assert session.scalars(select(OutboxMessage.status)).one() == OutboxStatus.SENT


def test_unavailable_slack_is_retried_by_a_later_sweep_not_at_once(
    slack_user: SlackSender,
    slack: LocalSlack,
    db: SessionFactory,
    client_for: ClientForTeam,
    settings: Settings,
) -> None:
    """A 503 after a post may come from a Slack that posted it: no instant re-post by
    the client; the outbox tries again later, and looks for the message first."""
    promise(slack_user)
    slack.fail_next("chat.postMessage", status=503, times=2)

    first = sweep(db, client_for, settings, now=at("2026-11-27T09:00:00"))
    assert (first.delivery.sent, first.delivery.retrying) == (0, 1)
    assert len(slack.calls("chat.postMessage")) == 1, "slack_sdk did not post it again"
    with db() as session:
        row = session.scalars(select(OutboxMessage)).one()
    assert (row.status, row.last_error) == (OutboxStatus.PENDING, "fatal_error")

    second = sweep(db, client_for, settings, now=at("2026-11-27T09:05:00"))
    third = sweep(db, client_for, settings, now=at("2026-11-27T09:10:00"))
    assert (second.delivery.retrying, third.delivery.sent) == (1, 1)
    assert len(slack.calls("chat.postMessage")) == 3
    assert len(slack.calls("conversations.history")) == 2, "each retry looked first"
    assert len(slack.posted("D" + ALICE[1:])) == 1


def test_permanent_error_is_recorded_not_retried(
    slack_user: SlackSender,
    slack: LocalSlack,
    db: SessionFactory,
    client_for: ClientForTeam,
    settings: Settings,
) -> None:
    promise(slack_user)
    slack.fail_next("conversations.open", error="user_not_found")

    report = sweep(db, client_for, settings, now=at("2026-11-27T09:00:00"))
    sweep(db, client_for, settings, now=at("2026-11-27T12:00:00"))

    assert report.delivery.failed == 1
    assert len(slack.calls("conversations.open")) == 1
    with db() as session:
        row = session.scalars(select(OutboxMessage)).one()
    assert (row.status, row.last_error) == (OutboxStatus.FAILED, "user_not_found")


def test_sweep_in_a_second_process_sends_nothing_more(
    slack_user: SlackSender, slack: LocalSlack, db: SessionFactory, database_url: str
) -> None:
    promise(slack_user)
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "SLACK_API_URL": slack.api_url,
        "DATABASE_URL": database_url,
    }

    def run_sweep() -> str:
        done = subprocess.run(
            [sys.executable, "-m", "bot.app.cli", "sweep", "--now", "2026-11-27T09:00:00Z"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return done.stdout

    assert "nudges new: 1, messages: 1, sent: 1" in run_sweep()
    assert "nudges new: 0, messages: 0, sent: 0" in run_sweep()
    assert len(slack.calls("chat.postMessage")) == 1
