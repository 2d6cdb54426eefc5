"""The HTTP edge: Slack's signatures checked exactly, health reported honestly."""

from __future__ import annotations

import time

import httpx
from slack_sdk.signature import SignatureVerifier

from bot.devtools.localslack import command_body, signed_headers
from tests.slackkit import SIGNING_SECRET, ServerThread, SlackSender

BODY = command_body("/concede", "acme give: a get: b", team_id="T0ACME", user_id="U0ALICE")


def test_slacks_published_signature_example_verifies() -> None:
    # https://api.slack.com/authentication/verifying-requests-from-slack
    body = (
        "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&"
        "channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&"
        "command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2F"
        "commands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id="
        "398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
    )
    headers = signed_headers("8f742231b10e8888abcd99yyyzzz85a5", body, timestamp=1531420618)
    assert headers["x-slack-signature"] == (
        "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
    )
    assert (
        SignatureVerifier("8f742231b10e8888abcd99yyyzzz85a5").is_valid(
            body, "1531420618", str(headers["x-slack-signature"])
        )
        is False
    ), "five years old: stale"


def test_signed_request_is_served(slack_user: SlackSender) -> None:
    assert slack_user.post_signed(BODY).status_code == 200


def test_forged_signature_gets_401(served: ServerThread) -> None:
    headers = dict(signed_headers("not-the-secret", BODY))
    response = httpx.post(f"{served.url}/slack/events", content=BODY, headers=headers)
    assert response.status_code == 401


def test_tampered_body_gets_401(served: ServerThread) -> None:
    headers = dict(signed_headers(SIGNING_SECRET, BODY))
    tampered = BODY.replace("give%3A+a", "give%3A+everything")
    response = httpx.post(f"{served.url}/slack/events", content=tampered, headers=headers)
    assert response.status_code == 401


def test_unsigned_request_gets_401(served: ServerThread) -> None:
    response = httpx.post(
        f"{served.url}/slack/events",
        content=BODY,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 401


def test_stale_request_gets_401(slack_user: SlackSender) -> None:
    six_minutes_ago = int(time.time()) - 6 * 60
    assert slack_user.post_signed(BODY, timestamp=six_minutes_ago).status_code == 401


def test_ssl_check_is_answered(slack_user: SlackSender) -> None:
    assert slack_user.post_signed("ssl_check=1&token=x").status_code == 200


def test_healthz_reports_database_up(served: ServerThread) -> None:
    response = httpx.get(f"{served.url}/healthz")
    assert response.status_code == 200
    assert response.json()["database"] == "up"
