"""The HTTP edge under abuse: unsigned, malformed, oversized and foreign requests.

Nothing unverified reaches Bolt, nothing is posted anywhere but Slack, no body of
over 1 MiB is read, and no request body is written to the log.
"""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Iterator

import httpx
import pytest
from slack_bolt import BoltContext
from slack_bolt.logger.messages import debug_responding, warning_unhandled_request
from slack_bolt.request import BoltRequest
from sqlalchemy import func, select

from bot.app.bolt import bolt_logger, build_app
from bot.app.server import MAX_BODY_BYTES
from bot.config import Settings
from bot.devtools.localslack import LocalSlack, command_body, interaction_body, signed_headers
from handlers.edge import after_ack
from handlers.edge.errors import handle_error
from handlers.edge.response_urls import is_slack_response_url
from messages.ids import Action
from storage.db import SessionFactory
from storage.models import Concession
from tests.slackkit import SIGNING_SECRET, ServerThread, SlackSender, block_action

MARKER = "zq-request-body-marker-zq"


@pytest.fixture
def attacker() -> Iterator[LocalSlack]:
    """A server that is not Slack, recording whatever is posted to it."""
    with LocalSlack() as server:
        yield server


def foreign_click(attacker: LocalSlack, value: str = "not-a-pair") -> str:
    """A button click whose response_url points away from Slack; its value is stale,
    so the listener raises and the error handler wants to answer."""
    payload = block_action(
        Action.CONCESSION_WITHDRAW.value, value, response_url=attacker.response_url("evil")
    )
    return interaction_body(payload)


@pytest.mark.parametrize(
    "timestamp",
    ["abc", "", "1.5", "0x1F", "1e9", "-1", "+1700000000", "١٧٠٠٠٠٠٠٠٠", "9" * 40],
)
def test_malformed_timestamp_gets_401_and_nothing_is_posted(
    served: ServerThread, attacker: LocalSlack, timestamp: str
) -> None:
    body = foreign_click(attacker)
    headers: dict[str, str | bytes] = {
        "content-type": "application/x-www-form-urlencoded",
        "x-slack-request-timestamp": timestamp.encode(),
        "x-slack-signature": "v0=" + "0" * 64,
    }
    response = httpx.post(f"{served.url}/slack/events", content=body, headers=headers)
    after_ack.drain()
    assert response.status_code == 401
    assert attacker.calls() == []


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"x-slack-signature": "v0=" + "0" * 64},
        {"x-slack-request-timestamp": "1700000000"},
        {"x-slack-request-timestamp": "1700000000", "x-slack-signature": "v1=abc"},
    ],
    ids=["none", "no-timestamp", "no-signature", "bad-signature-shape"],
)
def test_missing_or_malformed_signature_headers_get_401(
    served: ServerThread, attacker: LocalSlack, headers: dict[str, str]
) -> None:
    response = httpx.post(
        f"{served.url}/slack/events",
        content=foreign_click(attacker),
        headers={"content-type": "application/x-www-form-urlencoded", **headers},
    )
    after_ack.drain()
    assert response.status_code == 401
    assert attacker.calls() == []


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/x-www-form-urlencoded", b"payload=%7Bnot"),
        ("application/x-www-form-urlencoded", b"payload=" + b"%7B%22type%22" * 3),
        ("application/json", b'{"type": "event_callback", '),
        ("application/json", b"\xff\xfe\x00garbage"),
        ("application/x-www-form-urlencoded", b"command=%2Fconcede&text=\xff\xfe"),
    ],
    ids=["payload-not-json", "payload-cut", "json-cut", "not-utf8", "form-not-utf8"],
)
def test_unsigned_garbage_gets_401_not_500(
    served: ServerThread, content_type: str, body: bytes
) -> None:
    headers = {
        "content-type": content_type,
        "x-slack-request-timestamp": "abc",
        "x-slack-signature": "v0=" + "1" * 64,
    }
    response = httpx.post(f"{served.url}/slack/events", content=body, headers=headers)
    assert response.status_code == 401
    # Well-formed headers with a wrong signature: the same answer.
    signed_elsewhere = dict(signed_headers("another-secret", body.decode("latin-1")))
    signed_elsewhere["content-type"] = content_type
    response = httpx.post(f"{served.url}/slack/events", content=body, headers=signed_elsewhere)
    assert response.status_code == 401


def test_signed_but_unreadable_body_gets_400_not_500(slack_user: SlackSender) -> None:
    assert slack_user.post_signed("payload=%7Bnot").status_code == 400


def test_a_signed_click_never_answers_through_a_foreign_response_url(
    slack_user: SlackSender, slack: LocalSlack, attacker: LocalSlack
) -> None:
    # Slack would never send this; Rapport refuses it all the same.
    assert slack_user.post_signed(foreign_click(attacker)).status_code == 200
    after_ack.drain()
    assert attacker.calls() == []
    # The same stale click through Slack's own response_url is answered.
    payload = block_action(
        Action.CONCESSION_WITHDRAW.value, "not-a-pair", response_url=slack.response_url("ok")
    )
    assert slack_user.post_signed(interaction_body(payload)).status_code == 200
    (answer,) = slack.wait_for("response_url")
    assert "out of date" in json.dumps(answer.args)


def test_the_error_handler_never_answers_an_unverified_request(attacker: LocalSlack) -> None:
    body = block_action("anything", response_url=attacker.response_url("evil"))
    context = BoltContext({"response_url": body["response_url"]})
    response = handle_error(RuntimeError("boom"), body, context)
    assert response.status == 401
    assert attacker.calls() == []


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://hooks.slack.com/commands/T1/2/abc", True),
        ("https://HOOKS.slack.com/actions/T1/2/abc", True),
        ("http://hooks.slack.com/commands/T1/2/abc", False),
        ("https://hooks.slack.com.evil.example/commands", False),
        ("https://hooks.slack.com@evil.example/commands", False),
        ("https://evil.example/?https://hooks.slack.com/", False),
        ("https://hooks.slack.com:8443/commands", False),
        ("http://127.0.0.1:4567/response/cmd", True),
        ("http://127.0.0.1:4568/response/cmd", False),
        ("//hooks.slack.com/commands", False),
        ("not a url", False),
    ],
)
def test_only_slacks_own_response_urls_are_allowed(url: str, allowed: bool) -> None:
    assert is_slack_response_url(url, slack_api_url="http://127.0.0.1:4567/api/") is allowed


def test_a_body_over_1_mib_gets_413(served: ServerThread) -> None:
    body = "a" * (MAX_BODY_BYTES + 1)
    headers = dict(signed_headers(SIGNING_SECRET, body))
    response = httpx.post(f"{served.url}/slack/events", content=body, headers=headers)
    assert response.status_code == 413


def test_a_chunked_body_over_1_mib_gets_413(served: ServerThread) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(20):
            yield b"a" * (MAX_BODY_BYTES // 8)

    response = httpx.post(
        f"{served.url}/slack/events",
        content=chunks(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 413


def test_a_huge_declared_body_is_refused_before_it_is_sent(served: ServerThread) -> None:
    """Content-Length says 400 MB and nothing follows: the answer must not wait for it."""
    with socket.create_connection(("127.0.0.1", served.port), timeout=10) as sock:
        sock.sendall(
            b"POST /slack/events HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            b"Content-Length: 419430400\r\n\r\n"
        )
        reply = sock.recv(4096)
    assert reply.startswith(b"HTTP/1.1 413")


def test_no_request_body_reaches_the_log(
    served: ServerThread, slack_user: SlackSender, caplog: pytest.LogCaptureFixture
) -> None:
    for name in ("slack_bolt.App", "slack_bolt.RequestVerification", "rapport", "uvicorn"):
        caplog.set_level(logging.DEBUG, logger=name)
    unsigned = interaction_body(block_action("no_such_action", MARKER))
    httpx.post(
        f"{served.url}/slack/events",
        content=unsigned,
        headers={"x-slack-request-timestamp": "1700000000", "x-slack-signature": "v0=" + "0" * 64},
    )
    # Signed, but no listener matches it: Bolt logs "Unhandled request (…)".
    slack_user.post_signed(interaction_body(block_action("no_such_action", MARKER)))
    after_ack.drain()
    assert MARKER not in caplog.text


def test_bolts_lines_that_carry_a_body_are_logged_without_it() -> None:
    request = BoltRequest(
        body=interaction_body(block_action("no_such_action", MARKER)),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    lines = [
        warning_unhandled_request(request),
        f"Invalid request signature detected (signature: v0=1, timestamp: 1, body: {MARKER})",
        debug_responding(200, json.dumps({"text": f"Logged {MARKER}\nline two"}), 12),
    ]
    logger = bolt_logger()
    for line in lines:
        record = logger.makeRecord(logger.name, logging.WARNING, __file__, 1, line, (), None)
        assert all(f.filter(record) for f in logger.filters)
        assert MARKER not in record.getMessage()
        assert "body not logged" in record.getMessage()


def test_a_request_that_did_not_come_through_the_edge_reaches_no_listener(
    settings: Settings, db: SessionFactory
) -> None:
    """Signed correctly, but handed to Bolt directly: RequireAdmission turns it away,
    since Bolt's own signature check is off and the edge's was never made."""
    app = build_app(settings, db=db)
    body = command_body("/concede", "acme give: a get: b", team_id="T0ACME", user_id="U0ALICE")
    response = app.dispatch(BoltRequest(body=body, headers=signed_headers(SIGNING_SECRET, body)))
    assert response.status == 401
    with db() as session:
        assert session.scalar(select(func.count()).select_from(Concession)) == 0
