"""Slack delivering one request twice: it is done once, and the repeat is given the
first one's reply (issue 13, item 6)."""

from __future__ import annotations

import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from sqlalchemy import Engine, func, select

from bot.app import server
from bot.devtools.localslack import LocalSlack, command_body, signed_headers
from handlers.edge import after_ack
from handlers.edge.home_tab import VIEWERS
from handlers.edge.replays import request_key
from messages.ids import ConcessionBlock, View
from storage import replays
from storage.db import SessionFactory
from storage.models import Concession, RequestReply
from tests.conftest import at
from tests.slackkit import (
    ALICE,
    SIGNING_SECRET,
    TEAM,
    ServerThread,
    SlackSender,
    block_action,
    view_submission,
)
from tests.test_request_budget import NOTHING_SAVED, first_transaction_seen, lock_held

LOG_IT = "acme give: free onboarding get: a case study"


def concessions(db: SessionFactory) -> int:
    with db() as session:
        return session.scalar(select(func.count()).select_from(Concession)) or 0


def one_delivery(slack_user: SlackSender, text: str = LOG_IT) -> tuple[str, int]:
    """A command as Slack signs it once: the body and its timestamp, to send as often
    as a retrying client or a replaying proxy would."""
    body = command_body(
        "/concede", text, team_id=TEAM, user_id=ALICE, response_url=slack_user.response_url
    )
    return body, int(time.time())


def test_a_command_delivered_twice_is_stored_once_and_answered_as_the_first(
    slack_user: SlackSender, db: SessionFactory
) -> None:
    body, timestamp = one_delivery(slack_user)

    first = slack_user.post_signed(body, timestamp=timestamp)
    second = slack_user.post_signed(body, timestamp=timestamp)

    assert first.status_code == second.status_code == 200
    assert "Logged a traded concession" in first.json()["text"]
    assert second.json() == first.json()
    assert concessions(db) == 1


def test_the_same_words_typed_again_are_a_new_command(
    slack_user: SlackSender, db: SessionFactory
) -> None:
    slack_user.command("/concede", LOG_IT)
    again = slack_user.command("/concede", LOG_IT)

    assert "Logged" in again.text
    assert concessions(db) == 2  # Slack gives each invocation its own trigger_id


def test_two_deliveries_of_one_command_at_the_same_moment_store_it_once(
    slack_user: SlackSender,
    served: ServerThread,
    slack: LocalSlack,
    db: SessionFactory,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    slack_user.command("/concede", "acme give: a first discount")
    monkeypatch.setattr(server, "REQUEST_BUDGET_S", 60.0)
    body, timestamp = one_delivery(slack_user)
    senders = [SlackSender(served.url, slack.response_url()) for _ in range(2)]
    both = ThreadPoolExecutor(max_workers=2)
    try:
        # Both wait at the database behind a lock, then go the moment it is let go.
        with lock_held(engine), first_transaction_seen(engine) as began:
            sent = [both.submit(s.post_signed, body, timestamp=timestamp) for s in senders]
            assert began.wait(10)
        replies = [future.result(timeout=30) for future in sent]
    finally:
        both.shutdown(wait=True)
        for sender in senders:
            sender.close()

    first, second = (reply.json() for reply in replies)
    assert "Logged a traded concession" in first["text"]
    assert second == first
    assert concessions(db) == 2  # the first discount, and this one once


def test_a_command_that_saved_nothing_is_run_again_when_delivered_again(
    slack_user: SlackSender, db: SessionFactory, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    slack_user.command("/concede", "acme give: a first discount")
    monkeypatch.setattr(server, "REQUEST_BUDGET_S", 0.3)
    body, timestamp = one_delivery(slack_user)

    with lock_held(engine):
        timed_out = slack_user.post_signed(body, timestamp=timestamp)
    retried = slack_user.post_signed(body, timestamp=timestamp)

    assert NOTHING_SAVED in timed_out.json()["text"]
    assert "Logged a traded concession" in retried.json()["text"]
    assert concessions(db) == 2


def test_a_command_that_writes_nothing_claims_nothing(
    slack_user: SlackSender, db: SessionFactory
) -> None:
    slack_user.command("/rapport", "help")
    with db() as session:
        assert session.scalar(select(func.count()).select_from(RequestReply)) == 0


def home_opened(event_id: str) -> str:
    return json.dumps(
        {
            "token": "x",
            "team_id": TEAM,
            "api_app_id": "A0RAPPORT",
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "event": {"type": "app_home_opened", "user": ALICE, "channel": "D0HOME", "tab": "home"},
        }
    )


def test_an_event_slack_retries_is_handled_once(served: ServerThread, slack: LocalSlack) -> None:
    body = home_opened(f"Ev{uuid.uuid4().hex[:10]}")
    headers = dict(signed_headers(SIGNING_SECRET, body))
    headers["content-type"] = "application/json"

    first = httpx.post(f"{served.url}/slack/events", content=body, headers=headers)
    after_ack.drain()
    retry = {**headers, "x-slack-retry-num": "1", "x-slack-retry-reason": "http_timeout"}
    second = httpx.post(f"{served.url}/slack/events", content=body, headers=retry)
    after_ack.drain()

    assert first.status_code == second.status_code == 200
    assert len(slack.calls("views.publish")) == 1
    assert (TEAM, ALICE) in VIEWERS


def concession_form(**fields: str) -> dict[str, Any]:
    return view_submission(
        View.CONCESSION,
        {
            ConcessionBlock[name].value: {"value": {"type": "plain_text_input", "value": text}}
            for name, text in fields.items()
        },
        view_id="V0RETRY",
    )


def test_a_form_sent_again_after_an_error_is_a_new_submission(
    slack_user: SlackSender, db: SessionFactory
) -> None:
    # Slack keeps the view's id and hash while a field shows an error.
    no_give = slack_user.interact(concession_form(ACCOUNT="acme"))
    fixed = slack_user.interact(concession_form(ACCOUNT="acme", GIVE="a free pilot"))

    assert no_give.body["response_action"] == "errors"
    assert fixed.body["response_action"] == "update"
    assert concessions(db) == 1


def test_what_makes_two_deliveries_one_request() -> None:
    def command(**fields: str) -> dict[str, Any]:
        body = command_body("/concede", LOG_IT, team_id=TEAM, user_id=ALICE, **fields)
        return dict(parse_qsl(body, keep_blank_values=True))

    once = command(trigger_id="1.2.a")
    assert request_key(once) == request_key(dict(once))
    assert request_key(command(trigger_id="1.2.b")) != request_key(once)
    assert request_key({**once, "text": "acme give: more"}) != request_key(once)
    assert request_key({**once, "user_id": "U0BOB"}) != request_key(once)
    assert request_key({**once, "trigger_id": ""}) is None  # nothing to tell them apart
    assert request_key(block_action("nudge_done", "1")) is None  # clicks are not keyed
    assert request_key(json.loads(home_opened("Ev1"))) != request_key(
        json.loads(home_opened("Ev2"))
    )

    def snooze_form(day: str) -> dict[str, Any]:
        picked = {"until": {"day": {"type": "datepicker", "selected_date": day}}}
        return view_submission(View.SNOOZE_UNTIL, picked, view_id="V0SNOOZE")

    # Sent back with "pick a day from today on", then with a good day: same id and hash.
    assert request_key(snooze_form("2026-12-04")) == request_key(snooze_form("2026-12-04"))
    assert request_key(snooze_form("2026-12-04")) != request_key(snooze_form("2020-01-01"))


def test_keys_past_the_replay_window_are_forgotten(db: SessionFactory) -> None:
    start = at("2026-12-03T09:00:00Z")
    with db.begin() as session:
        assert replays.try_claim(session.connection(), key="old", now=start)
        assert replays.try_claim(
            session.connection(), key="recent", now=start + timedelta(minutes=5)
        )
        assert not replays.try_claim(session.connection(), key="old", now=start)
    with db.begin() as session:
        forgotten = replays.forget_expired(
            session, now=start + replays.REPLAY_WINDOW + timedelta(seconds=1)
        )
    with db() as session:
        assert session.scalars(select(RequestReply.key)).all() == ["recent"]
    assert forgotten == 1
