"""`rapport try "/concede acme give: …"`: one command through the real app, no Slack."""

from __future__ import annotations

import json
import re
from functools import partial
from typing import Any

from pydantic import SecretStr
from slack_bolt.authorization import AuthorizeResult
from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier

from bot.app.bolt import build_app
from bot.app.server import admitted_request
from bot.config import Settings
from bot.devtools.localslack import LOCAL_BOT_TOKEN, LocalSlack, command_body, signed_headers
from bot.slackapi.client import make_client
from handlers.edge.after_ack import drain
from messages.plaintext import to_text
from storage.db import SessionFactory

TRY_TEAM = "T0LOCAL"
TRY_SECRET = "rapport-try-local-secret"

# Slack's ids as it shows them: a workspace T… (an org E…), a person U… (or W…).
_TEAM_ID = re.compile(r"[TE][A-Z0-9]{2,}")
_USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")


def _authorize(team_id: str, **_: Any) -> AuthorizeResult:
    return AuthorizeResult(
        enterprise_id=None,
        team_id=team_id,
        bot_token=LOCAL_BOT_TOKEN,
        bot_id="B0RAPPORT",
        bot_user_id="U0RAPPORT",
    )


def split_command(line: str) -> tuple[str, str]:
    line = line.strip()
    if not line.startswith("/"):
        raise ValueError('Start with the command, e.g. rapport try "/concede acme"')
    command, _, text = line.partition(" ")
    return command, text.strip()


def check_ids(*, team_id: str, user_id: str) -> None:
    """A team and a user id as Slack writes them; ValueError saying how, otherwise."""
    if not _TEAM_ID.fullmatch(team_id):
        raise ValueError(
            f"--team: read {team_id!r}, which is not a Slack team id; write it as Slack "
            "does, e.g. T012AB3CD (the team_id column of `rapport export`)"
        )
    if not _USER_ID.fullmatch(user_id):
        raise ValueError(
            f"--user: read {user_id!r}, which is not a Slack user id; write it as Slack "
            "does, e.g. U012AB3CD (a profile's ⋮ menu → Copy member ID)"
        )


def run_try(
    line: str,
    *,
    settings: Settings,
    db: SessionFactory,
    user_id: str,
    team_id: str = TRY_TEAM,
) -> str:
    """Dispatch `line` as a signed slash command from `user_id` of `team_id`, on the
    database's data of that team; return the reply and any Slack calls, which go to a
    local stand-in, never to the workspace."""
    check_ids(team_id=team_id, user_id=user_id)
    command, text = split_command(line)
    with LocalSlack() as slack:
        # Whoever runs `try` holds the local database anyway: they act as the sandbox
        # workspace's owner, so admin-only settings (the MESO tolerance) can be tried.
        slack.add_user(user_id, tz=settings.default_timezone, is_owner=True)
        local_settings = settings.model_copy(
            update={"slack_api_url": slack.api_url, "slack_signing_secret": SecretStr(TRY_SECRET)}
        )
        # The stand-in's own bot token, never the workspace's (nor none, in distributed mode).
        client: WebClient = make_client(local_settings, token=LOCAL_BOT_TOKEN)
        app = build_app(
            local_settings, db=db, client=client, authorize=partial(_authorize, team_id)
        )
        body = command_body(
            command,
            text,
            team_id=team_id,
            user_id=user_id,
            response_url=slack.response_url(),
        )
        # Through the same door as `rapport serve`: verified, then admitted.
        request = admitted_request(
            body.encode(),
            signed_headers(TRY_SECRET, body),
            verifier=SignatureVerifier(TRY_SECRET),
            slack_api_url=slack.api_url,
        )
        response = app.dispatch(request)
        drain()  # let any work after the ack finish
        return _describe(response.status, response.body, slack)


def _describe(status: int, body: str, slack: LocalSlack) -> str:
    parts: list[str] = []
    if status != 200:
        parts.append(f"HTTP {status}: {body}")
    elif body:
        parts.append(to_text(json.loads(body)))
    for call in slack.calls():
        if call.method == "auth.test":
            continue
        document: dict[str, Any] = call.args.get("view") or call.args
        where = call.args.get("channel") or call.args.get("user_id") or ""
        parts.append(f"\n--- Slack call: {call.method} {where}".rstrip())
        parts.append(to_text(document))
    return "\n".join(parts).strip()
