"""Work after the ack: whatever fails there is logged with a reference and told to the
user, for `later()`'s work and Bolt's lazy listeners alike."""

from __future__ import annotations

import json
import logging
import re
import time
from typing import Any

import pytest

from bot.devtools.localslack import LocalSlack, RecordedCall
from bot.services import meso as meso_service
from handlers.edge import after_ack
from messages.ids import Action
from tests.slackkit import ALICE, TEAM, SlackSender, block_action, blocks_text


def boom(*_: Any, **__: Any) -> Any:
    raise RuntimeError("the disk is full")


def reference_in(text: str) -> str:
    found = re.search(r"reference: `?([0-9a-f]{8})", text, re.IGNORECASE)
    assert found, text
    return found.group(1)


def logged_reference(caplog: pytest.LogCaptureFixture) -> str:
    (record,) = [r for r in caplog.records if r.name == "rapport.errors"]
    assert record.levelno == logging.ERROR
    assert record.exc_info is not None and record.exc_info[0] is RuntimeError
    assert "after the ack" in record.getMessage()
    found = re.search(r"ref ([0-9a-f]{8})", record.getMessage())
    assert found
    return found.group(1)


def test_a_failed_write_after_meso_tolerance_is_logged_and_told(
    slack_user: SlackSender,
    slack: LocalSlack,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    slack.add_user(ALICE, is_admin=True)
    monkeypatch.setattr(meso_service, "set_team_tolerance", boom)

    reply = slack_user.command("/meso", "tolerance: 9%")
    assert "checking that with Slack" in reply.text
    (answer,) = slack.wait_for("response_url")
    after_ack.drain()

    told = blocks_text(answer.args)
    assert answer.args["response_type"] == "ephemeral"
    assert "Something went wrong" in told and "partly done" in told
    assert reference_in(told) == logged_reference(caplog)


def test_a_lazy_listener_that_fails_is_logged_and_told(
    slack_user: SlackSender,
    slack: LocalSlack,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("handlers.home.utcnow", boom)
    click = block_action(Action.HOME_DONE.value, "1", response_url=slack.response_url("click"))
    assert slack_user.interact(click).status == 200
    (answer,) = slack.wait_for("response_url")
    after_ack.drain()

    told = blocks_text(answer.args)
    assert "Something went wrong" in told
    assert reference_in(told) == logged_reference(caplog)


def test_without_a_response_url_the_user_is_told_in_a_dm(
    slack_user: SlackSender,
    slack: LocalSlack,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("handlers.home.publish", boom)
    opened = {
        "type": "event_callback",
        "team_id": TEAM,
        "api_app_id": "A0RAPPORT",
        "event_id": "Ev0HOME",
        "event_time": int(time.time()),
        "event": {"type": "app_home_opened", "user": ALICE, "channel": "D0HOME", "tab": "home"},
    }
    assert slack_user.post_signed(json.dumps(opened)).status_code == 200
    dms: list[RecordedCall] = slack.wait_for("chat.postMessage")
    after_ack.drain()

    (dm,) = dms
    assert dm.args["channel"] == ALICE
    assert reference_in(blocks_text(dm.args)) == logged_reference(caplog)
