"""Test helpers: a running Rapport over real HTTP, and Slack-shaped requests to it."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn
import uvloop

from bot.app.edge import EdgeLimits, uvicorn_config
from bot.app.socket_mode import SocketModeServer
from bot.devtools.localslack import command_body, interaction_body, signed_headers

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TEAM = "T0ACME"
OTHER_TEAM = "T0GLOBEX"
ALICE = "U0ALICE"
BOB = "U0BOB"


class ServerThread:
    """uvicorn serving an ASGI app on 127.0.0.1, on a free port, in a thread."""

    def __init__(self, asgi: Any, limits: EdgeLimits | None = None) -> None:
        # Bound here and handed to uvicorn as it is: a port looked up, let go and
        # bound again later could be taken in between by any process on the machine.
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        # As `rapport serve` configures uvicorn: its read timeout and connection cap.
        config = uvicorn_config(
            asgi,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            limits=limits or EdgeLimits(),
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        # The loop `rapport serve` runs on (uvicorn picks uvloop, a runtime dependency).
        # Its clock is libuv's, which freezegun does not freeze: the server keeps real
        # time while a test freezes Rapport's. asyncio's own selector loop served every
        # request here about 40 ms slower than uvloop (51 against 7 ms for a sequential
        # `/rapport help`), most of the journey corpus's run time.
        loop = uvloop.new_event_loop()
        try:
            loop.run_until_complete(self.server.serve(sockets=[self.socket]))
        finally:
            loop.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ServerThread:
        self.thread.start()
        # The limit is for a server that hangs while starting; one that failed ends
        # the wait at once.
        deadline = time.monotonic() + 60
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.socket.close()


class SocketModeThread:
    """Rapport on Socket Mode, as `rapport serve --socket` runs it, in a thread."""

    def __init__(self, server: SocketModeServer) -> None:
        self.server = server
        self.loop = asyncio.new_event_loop()
        self.stopping = asyncio.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            self.loop.run_until_complete(self.server.run(self.stopping))
        finally:
            self.loop.close()

    def start(self) -> SocketModeThread:
        self.thread.start()
        return self

    def stop(self) -> None:
        """As SIGTERM does: no new envelopes, the taken ones finished, the socket closed."""
        if self.thread.is_alive():
            self.loop.call_soon_threadsafe(self.stopping.set)
        self.thread.join(timeout=20)


@dataclass
class Reply:
    status: int
    body: dict[str, Any]

    @property
    def text(self) -> str:
        """Every piece of text in the reply, joined: what a person would read."""
        return "\n".join(_texts(self.body))

    @property
    def ephemeral(self) -> bool:
        return self.body.get("response_type") == "ephemeral"

    @property
    def parsed(self) -> str:
        """The texts Slack parses for mentions and links (the fallback and every mrkdwn
        object), joined; plain_text (a header, a button label) is shown as typed."""
        return "\n".join([self.body.get("text", ""), *mrkdwn_texts(self.body)])


def mrkdwn_texts(node: object) -> list[str]:
    """Every mrkdwn text object's text in a message, a view or a block."""
    if isinstance(node, dict):
        found = [node["text"]] if node.get("type") == "mrkdwn" else []
        return found + [t for value in node.values() for t in mrkdwn_texts(value)]
    if isinstance(node, list):
        return [t for item in node for t in mrkdwn_texts(item)]
    return []


def _texts(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["text"]] if isinstance(node.get("text"), str) else []
        for key, value in node.items():
            if key != "text" or not isinstance(value, str):
                found += _texts(value)
        return found
    if isinstance(node, list):
        return [text for item in node for text in _texts(item)]
    return []


class SlackSender:
    """Sends requests to Rapport the way Slack does: form-encoded and signed."""

    def __init__(self, base_url: str, response_url: str) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=30)
        self.response_url = response_url

    def post_signed(self, body: str, *, timestamp: int | None = None) -> httpx.Response:
        headers = signed_headers(SIGNING_SECRET, body, timestamp=timestamp)
        return self.http.post("/slack/events", content=body, headers=headers)

    def command(
        self,
        command: str,
        text: str = "",
        *,
        user: str = ALICE,
        team: str = TEAM,
        trigger_id: str | None = None,
        channel: str = "C0LOCAL",
        org: str | None = None,
    ) -> Reply:
        """`org`: from a workspace of that Enterprise Grid org, where Rapport is
        installed for the whole org."""
        body = command_body(
            command,
            text,
            team_id=team,
            user_id=user,
            channel_id=channel,
            response_url=self.response_url,
            trigger_id=trigger_id,
            enterprise_id=org,
            org_wide=org is not None,
        )
        response = self.post_signed(body)
        return Reply(response.status_code, response.json() if response.content else {})

    def interact(self, payload: dict[str, Any]) -> Reply:
        response = self.post_signed(interaction_body(payload))
        return Reply(response.status_code, response.json() if response.content else {})

    def close(self) -> None:
        self.http.close()


def blocks_text(message: dict[str, Any]) -> str:
    return "\n".join(_texts(message))


def dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def block_action(
    action_id: str,
    value: str = "",
    *,
    user: str = ALICE,
    team: str = TEAM,
    response_url: str = "http://127.0.0.1:9/response/none",
    container: dict[str, Any] | None = None,
    message: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A block_actions payload as Slack sends it when a button is clicked."""
    payload: dict[str, Any] = {
        "type": "block_actions",
        "team": {"id": team, "domain": "acme"},
        "user": {"id": user, "team_id": team},
        "api_app_id": "A0RAPPORT",
        "token": "deprecated",
        "trigger_id": "1337.42.trigger",
        "response_url": response_url,
        "container": container or {"type": "message", "channel_id": "D0ALICE", "message_ts": "1.1"},
        "channel": {"id": (container or {}).get("channel_id", "D0ALICE")},
        "actions": [
            {
                "action_id": action_id,
                "block_id": "b",
                "type": "button",
                "value": value,
                "action_ts": "1.2",
            }
        ],
    }
    if message is not None:
        payload["message"] = message
    return payload


def view_submission(
    callback_id: str,
    values: dict[str, dict[str, Any]],
    *,
    private_metadata: str = "",
    user: str = ALICE,
    team: str = TEAM,
    view_id: str = "V0MODAL",
) -> dict[str, Any]:
    """A view_submission payload. `values` is block_id -> action_id -> value object,
    e.g. {"give": {"value": {"type": "plain_text_input", "value": "5% off"}}}."""
    return {
        "type": "view_submission",
        "team": {"id": team, "domain": "acme"},
        "user": {"id": user, "team_id": team},
        "api_app_id": "A0RAPPORT",
        "token": "deprecated",
        "trigger_id": "1337.42.trigger",
        "view": {
            "id": view_id,
            "team_id": team,
            "type": "modal",
            "callback_id": callback_id,
            "private_metadata": private_metadata,
            "hash": "1.abc",
            "state": {"values": values},
        },
    }
