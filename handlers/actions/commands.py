"""The buttons of a "Did you mean…?" reply: each runs the command as corrected.

A command that reads two ways (`12/10` from someone whose date order is unknown) or
nearly right (`give 10% get 2 years` without colons) is answered with its readings as
buttons. A click runs the same slash command listener with the corrected text, as if
typed, and its reply replaces the question.
"""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, BoltContext, Respond

from bot.services.errors import UserFacingError
from handlers.caller import caller_of


def _command_of(body: dict[str, Any]) -> tuple[str, str]:
    action = (body.get("actions") or [{}])[0]
    try:
        wanted = json.loads(str(action.get("value", "")))
        command, text = str(wanted["command"]), str(wanted["text"])
    except (ValueError, KeyError, TypeError):
        raise UserFacingError("This button is out of date: type the command again.") from None
    return command, text


def run_command(ack: Ack, body: dict[str, Any], context: BoltContext, respond: Respond) -> None:
    ack()
    from handlers.commands import COMMANDS  # the commands' modules import this one's ids

    name, text = _command_of(body)
    listener = COMMANDS.get(name)
    if listener is None:
        raise UserFacingError("This button is out of date: type the command again.")
    caller = caller_of(body)
    command = {
        "command": name,
        "text": text,
        "team_id": caller.team_id,
        "user_id": caller.user_id,
        "enterprise_id": caller.enterprise_id or "",
        "channel_id": str((body.get("channel") or {}).get("id", "")),
        "trigger_id": str(body.get("trigger_id", "")),
        "response_url": str(body.get("response_url", "")),
    }
    # The listener answers through its own ack, as it does a typed command: kept, then
    # sent in place of the question.
    answer = Ack()
    listener(answer, command, context)
    reply = json.loads(answer.response.body) if answer.response and answer.response.body else {}
    if reply.get("text") or reply.get("blocks"):
        respond(
            text=reply.get("text", ""),
            blocks=reply.get("blocks") or [],
            response_type="ephemeral",
            replace_original=True,
        )
