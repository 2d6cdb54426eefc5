"""The app's one error path: every failure gets an answer, never silence."""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

from slack_bolt import App, BoltResponse, Respond

from bot.errors import UsageError, UserFacingError
from messages import render
from messages.commands import CommandHelp, command_reference, subcommand_reference

log = logging.getLogger("rapport.errors")


def usage_for(command: str) -> CommandHelp | None:
    """How to write `command`; `/rapport qbr` finds the qbr line of /rapport's help."""
    if command in command_reference():
        return command_reference()[command]
    base, _, sub = command.partition(" ")
    line = subcommand_reference().get(sub) if base == "/rapport" else None
    return CommandHelp(command=command, description="", usage=line, examples=()) if line else None


def error_message(error: Exception, body: dict[str, Any]) -> dict[str, Any]:
    """The reply for `error`: the problem and how to write the command, or a reference."""
    if isinstance(error, UserFacingError):
        command = error.usage or body.get("command") or ""
        help_entry = usage_for(command) if isinstance(error, UsageError) else None
        return render("user_error", problem=error.problem, help=help_entry)
    reference = uuid.uuid4().hex[:8]
    log.error("unhandled error (ref %s)", reference, exc_info=error)
    return render("unexpected_error", reference=reference)


def _json_response(payload: dict[str, Any]) -> BoltResponse:
    # Slack treats any non-200 as a failure and shows the user a generic error.
    return BoltResponse(
        status=200, body=json.dumps(payload), headers={"content-type": "application/json"}
    )


def handle_error(error: Exception, body: dict[str, Any], respond: Respond | None) -> BoltResponse:
    kind = body.get("type")
    if kind == "view_submission" and isinstance(error, UserFacingError) and error.field:
        # Shown under the field in the open modal, which stays open.
        return _json_response(
            {"response_action": "errors", "errors": {error.field: error.problem[:2000]}}
        )
    message = error_message(error, body)
    if kind in ("block_actions", "view_submission", "shortcut", "message_action"):
        # Slack ignores the HTTP body of these: answer through response_url if any.
        if respond is not None and (body.get("response_url") or body.get("response_urls")):
            try:
                respond(
                    text=message["text"],
                    blocks=message["blocks"],
                    response_type="ephemeral",
                    replace_original=False,
                )
            except Exception:
                log.exception("could not deliver an error message")
        return _json_response({})
    return _json_response({"response_type": "ephemeral", **message})


def register(app: App) -> None:
    app.error(handle_error)
