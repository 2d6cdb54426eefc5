"""The answer to *Did you mean Globex?*: run the question's command again, with it.

The button carries the command and its text (handlers/accounts.AccountChoice); the
same command code runs as if the rep had typed it, with the account they chose, and
its reply replaces the question.
"""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, BoltContext, Respond

from bot.services.errors import UserFacingError
from handlers.accounts import CHOICE_KEY, AccountChoice
from handlers.caller import team_of
from handlers.commands import COMMANDS
from handlers.errors import error_message


def choose(ack: Ack, body: dict[str, Any], context: BoltContext, respond: Respond) -> None:
    ack()
    action = (body.get("actions") or [{}])[0]
    choice = AccountChoice.from_value(str(action.get("value", "")))
    channel = (body.get("container") or {}).get("channel_id") or (body.get("channel") or {}).get(
        "id"
    )
    command: dict[str, Any] = {
        "command": choice.command,
        "text": choice.text,
        "team_id": team_of(body),
        "user_id": body["user"]["id"],
        "channel_id": channel or "",
        "trigger_id": body.get("trigger_id", ""),
        "response_url": body.get("response_url", ""),
        CHOICE_KEY: choice.account_id,
    }
    # The command's own ack, kept: its reply goes out through response_url instead.
    answer = Ack()
    try:
        COMMANDS[choice.command](answer, command, context)
        reply: dict[str, Any] = json.loads(answer.response.body) if answer.response else {}
    except UserFacingError as error:
        # Another question, or a problem with the command: it replaces this question.
        reply = error_message(error, command)
    respond(
        text=reply.get("text", ""),
        blocks=reply.get("blocks", []),
        response_type="ephemeral",
        replace_original=True,
    )
