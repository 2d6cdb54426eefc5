"""The app's one error path: every failure gets an answer, never silence."""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

from slack_bolt import App, BoltResponse

from bot.errors import UsageError, UserFacingError
from messages import render
from messages.commands import command_reference

log = logging.getLogger("rapport.errors")


def error_message(error: Exception, body: dict[str, Any]) -> dict[str, Any]:
    """The reply for `error`: the problem and how to write the command, or a reference."""
    if isinstance(error, UserFacingError):
        command = error.usage or body.get("command")
        help_entry = (
            command_reference().get(command or "") if isinstance(error, UsageError) else None
        )
        return render("user_error", problem=error.problem, help=help_entry)
    reference = uuid.uuid4().hex[:8]
    log.error("unhandled error (ref %s)", reference, exc_info=error)
    return render("unexpected_error", reference=reference)


def handle_error(error: Exception, body: dict[str, Any]) -> BoltResponse:
    message = error_message(error, body)
    # Slack treats any non-200 as a failure and shows the user a generic error.
    return BoltResponse(
        status=200,
        body=json.dumps({"response_type": "ephemeral", **message}),
        headers={"content-type": "application/json"},
    )


def register(app: App) -> None:
    app.error(handle_error)
