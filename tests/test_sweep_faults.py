"""The outbox under faults: leases, rate limits, refused tokens, posts Slack may
have taken, one bad row, and channels that refuse a digest."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any
from urllib.error import URLError

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.state import RetryState
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

import bot.slackapi.client
from bot.config import Settings
from bot.devtools.localslack import LocalSlack
from bot.scheduler import delivery
from bot.scheduler.delivery import LEASE, MAX_RATE_LIMIT_WAIT, ClientForTeam, deliver_pending
from bot.slackapi.client import make_client
from storage import outbox
from storage.db import SessionFactory
from storage.models import DigestSubscription, OutboxMessage, OutboxStatus
from tests.conftest import BOT_TOKEN, at
from tests.scheduling import Scenario

NOW = at("2026-11-27T09:00:00")
TEAM = "T0ACME"


class Clock:
    """The wall clock of a delivery run, moved by hand; `sleep` moves it too."""

    def __init__(self, start: datetime = NOW) -> None:
        self.now = start
        self.slept: list[float] = []

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.advance(seconds)


def queue_dms(db: SessionFactory, count: int, *, team: str = TEAM, first: int = 0) -> list[int]:
    with db.begin() as session:
        added = outbox.enqueue_many(
            session,
            [
                {
                    "team_id": team,
                    "kind": "test",
                    "subject": f"U{n:07d}",
                    "slot": "s1",
                    "recipient": f"U{n:07d}",
                    "payload": {"text": f"message {n}"},
                }
                for n in range(first, first + count)
            ],
            now=NOW,
        )
    return sorted(added.values())


def rows(db: SessionFactory) -> list[OutboxMessage]:
    with db() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def posts(slack: LocalSlack) -> list[str]:
    return [str(call.args["channel"]) for call in slack.calls("chat.postMessage")]


def dm(user: str) -> str:
    return "D" + user[1:]


# --- 7. leases: from the wall clock, renewed, owner-checked -----------------------


def test_the_lease_runs_from_the_wall_clock_when_the_rows_are_claimed(
    db: SessionFactory, client_for: ClientForTeam
) -> None:
    queue_dms(db, 1)
    clock = Clock(NOW + timedelta(minutes=10))  # a sweep for 09:00 that got here late
    leases: list[datetime | None] = []

    def compose(session: Any, row: OutboxMessage, now: datetime) -> dict[str, Any]:
        leases.append(row.claimed_until)
        return row.payload

    deliver_pending(db, client_for, now=NOW, compose=compose, clock=clock, sleep=clock.sleep)
    assert leases == [NOW + timedelta(minutes=10) + LEASE]


def test_a_run_longer_than_the_lease_keeps_its_rows_from_a_second_worker(
    db: SessionFactory, slack: LocalSlack, client_for: ClientForTeam
) -> None:
    """A slow Slack (10 s a message) makes one batch take 8 minutes: the first run
    renews its lease while it sends, and a second worker 6 minutes in steals nothing."""
    queue_dms(db, delivery.BATCH)
    clock = Clock()
    second: list[delivery.DeliveryReport] = []

    def slow_compose(session: Any, row: OutboxMessage, now: datetime) -> dict[str, Any]:
        clock.advance(10)
        if clock.now >= NOW + timedelta(minutes=6) and not second:
            second.append(deliver_pending(db, client_for, now=NOW, clock=clock))
        return row.payload

    first = deliver_pending(db, client_for, now=NOW, compose=slow_compose, clock=clock)

    assert (first.sent, second[0].sent) == (delivery.BATCH, 0)
    assert sorted(posts(slack)) == sorted({dm(row.recipient) for row in rows(db)})
    assert {row.status for row in rows(db)} == {OutboxStatus.SENT}


def test_a_run_whose_lease_was_taken_over_cannot_settle_the_row(db: SessionFactory) -> None:
    (row_id,) = queue_dms(db, 1)
    with db.begin() as session:
        outbox.claim(session, now=NOW, owner="A", wall_now=NOW, lease=LEASE, limit=10)
    later = NOW + LEASE + timedelta(seconds=1)  # A stalled past its lease
    with db.begin() as session:
        (taken,) = outbox.claim(
            session, now=later, owner="B", wall_now=later, lease=LEASE, limit=10
        )
    assert taken.unsure_since == NOW, "A's attempt may have posted: B looks first"

    with db.begin() as session:
        assert not outbox.mark_sent(
            session, row_id=row_id, owner="A", channel_id="D1", ts="1.1", now=later
        )
        assert not outbox.mark_failed(session, row_id=row_id, owner="A", error="x")
        assert not outbox.release_for_retry(
            session, row_id=row_id, owner="A", error="x", not_before=later
        )
        assert not outbox.mark_skipped(session, row_id=row_id, owner="A", now=later)
    (row,) = rows(db)
    assert (row.status, row.claimed_by) == (OutboxStatus.SENDING, "B")
    with db.begin() as session:
        assert outbox.mark_sent(
            session, row_id=row_id, owner="B", channel_id="D1", ts="1.1", now=later
        )


def test_a_long_retry_after_gives_the_rows_back_instead_of_sleeping(
    db: SessionFactory, slack: LocalSlack, client_for: ClientForTeam
) -> None:
    queue_dms(db, 3)
    slack.fail_next("chat.postMessage", status=429, retry_after=120)
    clock = Clock()

    report = deliver_pending(db, client_for, now=NOW, clock=clock, sleep=clock.sleep)

    assert all(pause <= MAX_RATE_LIMIT_WAIT for pause in clock.slept), clock.slept
    assert len(posts(slack)) == 1, "the team's other rows wait out the limit untried"
    assert report.retrying == 3
    for row in rows(db):
        assert (row.status, row.attempts) == (OutboxStatus.PENDING, 0)
        assert row.not_before == NOW + timedelta(seconds=120)


def test_a_short_retry_after_is_slept_within_the_run(
    db: SessionFactory, slack: LocalSlack, client_for: ClientForTeam
) -> None:
    queue_dms(db, 2)
    slack.fail_next("chat.postMessage", status=429, retry_after=15)
    clock = Clock()
    report = deliver_pending(db, client_for, now=NOW, clock=clock, sleep=clock.sleep)
    assert report.sent == 2
    assert clock.slept == [15.0]


# --- 8. a refused token holds the team; it resumes by itself ----------------------


@pytest.mark.parametrize(
    "error", ["invalid_auth", "token_revoked", "account_inactive", "not_authed", "team_not_found"]
)
def test_a_refused_token_keeps_every_message_and_resumes_when_it_works(
    db: SessionFactory,
    slack: LocalSlack,
    client_for: ClientForTeam,
    caplog: pytest.LogCaptureFixture,
    error: str,
) -> None:
    queue_dms(db, 20)
    slack.state.token_error = error
    clock = Clock()

    with caplog.at_level(logging.INFO, logger="rapport.delivery"):
        first = deliver_pending(db, client_for, now=NOW, clock=clock)
        clock.advance(120)
        again = deliver_pending(db, client_for, now=NOW + timedelta(minutes=2), clock=clock)

    assert (first.failed, first.held, again.sent) == (0, 20, 0)
    assert {(row.status, row.attempts) for row in rows(db)} == {(OutboxStatus.PENDING, 0)}
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and TEAM in errors[0].getMessage() and error in errors[0].getMessage()
    # What to do, in either mode: the operator of many workspaces has no token to set.
    assert "install Rapport in that workspace again" in errors[0].getMessage()
    assert len(slack.calls("conversations.open")) == 1, "the team's other rows were not tried"

    slack.state.token_error = None  # the app is reinstalled
    clock.advance(120)
    resumed = deliver_pending(db, client_for, now=NOW + timedelta(minutes=4), clock=clock)
    assert resumed.sent == 20
    assert {row.status for row in rows(db)} == {OutboxStatus.SENT}


# --- 9. a post Slack may have taken is looked for, not sent again -------------------


def test_the_client_never_retries_a_post_but_retries_a_read(
    settings: Settings, slack: LocalSlack
) -> None:
    client = make_client(settings, token="xoxb-test-token")
    slack.fail_next("chat.postMessage", status=500, accepted=True)
    with pytest.raises(SlackApiError):
        client.chat_postMessage(channel="C0SALES", text="hello")
    assert len(slack.calls("chat.postMessage")) == 1
    assert len(slack.posted("C0SALES")) == 1, "Slack had it: a retry would have doubled it"

    slack.fail_next("conversations.open", status=503)
    assert client.conversations_open(users="U0ALICE")["ok"]
    assert len(slack.calls("conversations.open")) == 2


@pytest.mark.parametrize(
    ("failure", "may_retry"),
    [
        (ConnectionRefusedError(), True),  # nothing reached Slack
        (ConnectionResetError(), False),  # the request may have gone
        (TimeoutError(), False),  # sent, and no answer came in time
    ],
)
def test_a_post_is_retried_after_a_dropped_connection_only_if_slack_never_saw_it(
    failure: OSError, may_retry: bool
) -> None:
    handler = bot.slackapi.client.ConnectionErrorRetry(max_retry_count=2)

    def can_retry(method: str) -> bool:
        request = HttpRequest(
            method="POST", url=f"http://127.0.0.1:1/api/{method}", headers={}, data=b""
        )
        return handler.can_retry(state=RetryState(), request=request, error=URLError(failure))

    assert can_retry("chat.postMessage") is may_retry
    assert can_retry("conversations.open") is True, "a read is always safe to repeat"


def test_a_post_accepted_then_answered_500_is_found_and_not_sent_again(
    db: SessionFactory, slack: LocalSlack, client_for: ClientForTeam
) -> None:
    (row_id,) = queue_dms(db, 1)
    slack.fail_next("chat.postMessage", status=500, accepted=True)
    clock = Clock()

    first = deliver_pending(db, client_for, now=NOW, clock=clock)
    assert first.retrying == 1
    clock.advance(120)
    second = deliver_pending(db, client_for, now=NOW + timedelta(minutes=2), clock=clock)

    assert second.sent == 1
    assert len(posts(slack)) == 1, "found in the conversation, not posted again"
    (kept,) = slack.posted(dm("U0000000"))
    assert kept["metadata"]["event_payload"] == {"outbox_id": row_id}
    (row,) = rows(db)
    assert (row.status, row.message_ts) == (OutboxStatus.SENT, kept["ts"])


def test_a_post_answered_after_the_timeout_is_found_and_not_sent_again(
    db: SessionFactory, slack: LocalSlack, settings: Settings
) -> None:
    queue_dms(db, 1)
    client = make_client(settings, token="xoxb-test-token")
    client.timeout = 0.2
    slack.fail_next("chat.postMessage", accepted=True, delay=0.5)
    clock = Clock()

    first = deliver_pending(db, lambda _team: client, now=NOW, clock=clock)
    clock.advance(120)
    second = deliver_pending(db, lambda _team: client, now=NOW + timedelta(minutes=2), clock=clock)

    assert (first.retrying, second.sent) == (1, 1)
    assert len(posts(slack)) == 1
    assert len(slack.posted(dm("U0000000"))) == 1


def test_a_post_that_surely_failed_is_sent_again_after_looking(
    db: SessionFactory, slack: LocalSlack, client_for: ClientForTeam
) -> None:
    queue_dms(db, 1)
    slack.fail_next("chat.postMessage", status=500)  # not taken
    clock = Clock()
    deliver_pending(db, client_for, now=NOW, clock=clock)
    clock.advance(120)
    second = deliver_pending(db, client_for, now=NOW + timedelta(minutes=2), clock=clock)
    assert second.sent == 1
    assert len(slack.calls("conversations.history")) == 1
    assert len(slack.posted(dm("U0000000"))) == 1


# --- 10. one row's trouble never ends the run -----------------------------------------


def test_a_fractional_retry_after_is_waited_out(
    db: SessionFactory, slack: LocalSlack, client_for: ClientForTeam
) -> None:
    queue_dms(db, 2)
    slack.fail_next("chat.postMessage", status=429, retry_after="1.5")
    clock = Clock()
    report = deliver_pending(db, client_for, now=NOW, clock=clock, sleep=clock.sleep)
    assert report.sent == 2
    assert clock.slept == [1.5]


def test_the_client_reads_a_fractional_retry_after(
    settings: Settings, slack: LocalSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    slept: list[float] = []
    monkeypatch.setattr(bot.slackapi.client, "sleep", slept.append)
    slack.fail_next("users.info", status=429, retry_after="1.5")
    slack.add_user("U0ALICE")
    assert make_client(settings, token=BOT_TOKEN).users_info(user="U0ALICE")["ok"]
    assert len(slept) == 1 and 1.5 <= slept[0] < 2.5


@pytest.mark.parametrize("where", ["compose", "post"])
def test_an_unexpected_error_on_one_row_leaves_the_others_going(
    db: SessionFactory,
    slack: LocalSlack,
    client_for: ClientForTeam,
    where: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bad, *good = queue_dms(db, 3)

    def compose(session: Any, row: OutboxMessage, now: datetime) -> dict[str, Any]:
        if row.id == bad and where == "compose":
            raise RuntimeError("a bug in building one message")
        return row.payload

    real_post = delivery._post

    def post(client: Any, channel: str, message: dict[str, Any], **kw: Any) -> tuple[str, str]:
        if kw["row_id"] == bad and where == "post":
            raise KeyError("ts")  # Slack answered something unexpected
        return real_post(client, channel, message, **kw)

    monkeypatch.setattr(delivery, "_post", post)
    report = deliver_pending(db, client_for, now=NOW, compose=compose)

    assert report.sent == 2
    statuses = {row.id: row for row in rows(db)}
    assert [statuses[i].status for i in good] == [OutboxStatus.SENT] * 2
    assert statuses[bad].status == OutboxStatus.PENDING
    assert statuses[bad].unsure_since is not None, "it may have gone out: look first"


# --- 11. a digest whose channel refuses it ---------------------------------------------


MONDAY = "2026-11-30T09:00:00+00:00"


@pytest.fixture
def scene(s: Scenario) -> Scenario:
    return replace(s, pacer=delivery.ChannelPacer(s.db, interval=0))


@pytest.mark.parametrize("error", ["channel_not_found", "is_archived", "not_in_channel"])
def test_a_digest_its_channel_refuses_is_paused_and_its_creator_told_once(
    scene: Scenario, error: str
) -> None:
    from tests.test_digest import promise, subscribe

    promise(scene.db, "Acme", "send the pricing sheet", due=date(2026, 11, 20))
    subscribe(scene.slack_user, "here")  # in C0LOCAL, by ALICE
    scene.slack.state.refused_channels["C0LOCAL"] = error

    scene.sweep(MONDAY)
    scene.sweep("2026-11-30T09:10")
    scene.sweep("2026-12-07T09:00")  # next week's slot

    with scene.db() as session:
        sub = session.scalars(select(DigestSubscription)).one()
        digest_rows = dict(
            session.execute(
                select(OutboxMessage.kind, OutboxMessage.status).where(
                    OutboxMessage.kind.like("digest%")
                )
            ).all()
        )
    assert (sub.active, sub.next_run_at) == (False, None)
    assert digest_rows["digest"] == OutboxStatus.FAILED
    told = [text for text in scene.dm_texts() if "paused" in text]
    assert len(told) == 1, scene.dm_texts()
    assert "C0LOCAL" in told[0] and "/rapport digest" in told[0]
    channel_posts = [
        c for c in scene.slack.calls("chat.postMessage") if c.args["channel"] == "C0LOCAL"
    ]
    assert len(channel_posts) == 1, "tried once, not every week"


def test_a_post_is_still_marked_sent_when_the_database_is_briefly_locked(
    db: SessionFactory,
    slack: LocalSlack,
    client_for: ClientForTeam,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The message went out; marking it sent meets a lock (SQLite's busy timeout)
    twice. The run waits and marks it, rather than leaving it `sending` for its
    lease and a later lookup."""
    queue_dms(db, 1)
    real_mark_sent = outbox.mark_sent
    locked = [2]

    def mark_sent(session: Any, **kw: Any) -> bool:
        if locked[0]:
            locked[0] -= 1
            raise OperationalError("UPDATE outbox", {}, Exception("database is locked"))
        return real_mark_sent(session, **kw)

    monkeypatch.setattr(outbox, "mark_sent", mark_sent)
    clock = Clock()
    report = deliver_pending(db, client_for, now=NOW, clock=clock, sleep=clock.sleep)

    assert report.sent == 1
    assert clock.slept == [1.0, 1.0]
    (row,) = rows(db)
    assert row.status == OutboxStatus.SENT
    assert len(posts(slack)) == 1
