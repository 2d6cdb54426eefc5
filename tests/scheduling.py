"""Helpers for scheduler scenarios: say things at a frozen time, sweep, read the DMs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from freezegun import freeze_time

from bot.config import Settings
from bot.devtools.localslack import LocalSlack
from bot.scheduler.delivery import ChannelPacer, ClientForTeam
from bot.scheduler.sweep import SweepReport, sweep
from handlers.edge import after_ack
from storage.db import SessionFactory
from tests.conftest import at
from tests.slackkit import ALICE, Reply, SlackSender, block_action, blocks_text


@dataclass
class Scenario:
    slack_user: SlackSender
    slack: LocalSlack
    db: SessionFactory
    client_for: ClientForTeam
    settings: Settings
    # None: the real one-post-a-second pacing; tests that post several messages to
    # one channel (digests) pass a pacer that does not wait.
    pacer: ChannelPacer | None = None

    def say(self, when: str, command: str, text: str, user: str = ALICE) -> Reply:
        with freeze_time(at(when), real_asyncio=True):
            reply = self.slack_user.command(command, text, user=user)
            self.settle()
        return reply

    def answer(self) -> Reply:
        """The latest message sent to a response_url (work done after the ack)."""
        (*_, last) = self.slack.wait_for("response_url")
        return Reply(200, last.args)

    def settle(self) -> None:
        """Wait for the work that runs after an ack (lazy listeners, `later()`)."""
        after_ack.drain()

    def sweep(self, when: str, settings: Settings | None = None) -> SweepReport:
        return sweep(
            self.db, self.client_for, settings or self.settings, now=at(when), pacer=self.pacer
        )

    def dms(self, user: str = ALICE) -> list[dict[str, Any]]:
        channel = "D" + user[1:]
        return [
            c.args for c in self.slack.calls("chat.postMessage") if c.args["channel"] == channel
        ]

    def dm_texts(self, user: str = ALICE) -> list[str]:
        return [blocks_text(m) for m in self.dms(user)]

    def click(
        self,
        when: str,
        message: dict[str, Any],
        action_id: str,
        item: int = 0,
        user: str = ALICE,
        extra: Callable[[dict[str, Any]], None] | None = None,
        value: str | None = None,
        response_url: str | None = None,
    ) -> None:
        """Click `action_id` on the `item`-th nudge of a posted DM (an answer to it goes
        to `response_url`, if given; else to a URL nothing listens on)."""
        actions = [b for b in message["blocks"] if b["type"] == "actions"]
        block = actions[item]
        element = next(e for e in block["elements"] if e["action_id"] == action_id)
        payload = block_action(
            action_id,
            value if value is not None else element.get("value", ""),
            user=user,
            container={
                "type": "message",
                "channel_id": message["channel"],
                "message_ts": "1.000001",
            },
            **({"response_url": response_url} if response_url is not None else {}),
        )
        payload["actions"][0]["block_id"] = block["block_id"]
        if extra is not None:
            extra(payload["actions"][0])
        with freeze_time(at(when), real_asyncio=True):
            reply = self.slack_user.interact(payload)
            assert reply.status == 200
            self.settle()

    def click_reply(self, when: str, reply: Reply, action_id: str, user: str = ALICE) -> str:
        """Click `action_id` in an ephemeral reply; the text that replaced it."""
        element = next(
            e
            for block in reply.body["blocks"]
            if block["type"] == "actions"
            for e in block["elements"]
            if e["action_id"] == action_id
        )
        url = self.slack.response_url(action_id)
        payload = block_action(action_id, element.get("value", ""), user=user, response_url=url)
        with freeze_time(at(when), real_asyncio=True):
            assert self.slack_user.interact(payload).status == 200
            self.settle()
        answer = self.slack.calls("response_url")[-1]
        return blocks_text(answer.args)


@pytest.fixture
def s(
    slack_user: SlackSender,
    slack: LocalSlack,
    db: SessionFactory,
    client_for: ClientForTeam,
    settings: Settings,
) -> Scenario:
    """The whole world a scheduler scenario needs (a plugin of tests/conftest.py)."""
    return Scenario(slack_user, slack, db, client_for, settings)
