"""The app's one error path: every failure gets an answer, never silence.

Two ways in, one reply: `handle_error` is Bolt's error handler for the request path
(the reply rides in the HTTP response where Slack shows it), and `tell_after_ack`
takes what fails after the ack (handlers/edge/after_ack.py), when the only way left to the
user is the response_url, or else a DM. Either way an unexpected error is logged once,
with its traceback and a reference the user is given. Nothing is posted for a request
the edge did not verify (handlers/edge/response_urls.py).
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from typing import Any

from slack_bolt import App, BoltContext, BoltResponse

from bot.services.dates import AmbiguousDate
from bot.services.errors import AccountUnsure, DidYouMean, Suggestion, UsageError, UserFacingError
from handlers.edge.accounts import account_question
from handlers.edge.caller import user_of
from handlers.edge.parsing import replace_last
from handlers.edge.replays import AlreadyAnswered, answer_repeat, let_go_of_failed
from handlers.edge.replies import run_value
from handlers.edge.response_urls import is_admitted, respond_of
from messages import render
from messages.commands import CommandHelp, command_reference, subcommand_reference
from messages.formats import full_day
from messages.ids import Action
from messages.payloads import OutOfDate
from storage.db import is_database_timeout

log = logging.getLogger("rapport.errors")

# Payloads whose HTTP response body Slack does not show: they are answered through
# their response_url, if they have one.
INTERACTIONS = ("block_actions", "view_submission", "shortcut", "message_action")


def usage_for(command: str) -> CommandHelp | None:
    """How to write `command`; `/rapport qbr` finds the qbr entry of /rapport's help."""
    if command in command_reference():
        return command_reference()[command]
    base, _, sub = command.partition(" ")
    entry = subcommand_reference().get(sub) if base == "/rapport" else None
    return entry.as_command_help() if entry else None


_NAMED_KEY = re.compile(r"`(\w+):")


def example_for(entry: CommandHelp, key: str | None, problem: str = "") -> str | None:
    """One example of the command, one that uses the field in question if there is
    (the error's key, else the first `key:` its problem names); without the notes some
    examples carry in the reference ("  (shows the log…)")."""
    named = _NAMED_KEY.search(problem)
    key = key or (named.group(1) if named else None)
    chosen = entry.examples[0] if entry.examples else None
    if key is not None:
        chosen = next(
            (e for e in entry.examples if re.search(rf"(?<![\w-]){re.escape(key)}:", e, re.I)),
            chosen,
        )
    return chosen.split("  (")[0] if chosen else None


# What Slack turned a picked #channel, @person or @group into, and back.
_SLACK_REFERENCE = re.compile(r"<([#@]|!subteam\^)[A-Z0-9]+\|@?([^>]*)>")


def field_named(key: str) -> str:
    """A field as the reply names it: `due:` for a key, `ACCOUNT` for a part of the
    usage line written without one (see bot.services.errors.UsageError)."""
    return f"`{key}:`" if key.isalpha() and key.islower() else f"`{key}`"


def typed_line(body: dict[str, Any]) -> str | None:
    """The command as the user typed it (#channel, @person as they saw them), when the
    error is about a slash command."""
    command = body.get("command")
    if not isinstance(command, str) or not command:
        return None
    text = _SLACK_REFERENCE.sub(
        lambda m: ("#" if m.group(1) == "#" else "@") + m.group(2), str(body.get("text") or "")
    )
    return " ".join([command, *text.split()])


def _as_told(error: Exception) -> Exception:
    """A payload that no longer reads (messages/payloads.py, below the services' errors)
    is told as any problem the user can fix: in its own words, in the open modal or a
    reply only they see."""
    return UserFacingError(error.problem) if isinstance(error, OutOfDate) else error


def error_message(
    error: Exception, body: dict[str, Any], *, after_ack: bool = False
) -> dict[str, Any]:
    """The reply for `error`: the problem, what was typed, how to write the command and
    one example of it; or, for our own failures, a reference to give the admin.

    After the ack, part of the work may be done already (a saved change whose message
    could not be redrawn), so the reply does not promise that nothing was saved.
    """
    error = _as_told(error)
    if isinstance(error, AccountUnsure):
        return account_question(error, body)
    command = str(body.get("command") or "")
    if isinstance(error, AmbiguousDate) and command:
        error = _date_choices(error, str(body.get("text") or ""))
    if isinstance(error, DidYouMean) and command:
        choices = [
            (s.label, f"{command} {s.text}", run_value(command, s.text)) for s in error.suggestions
        ]
        return render(
            "did_you_mean", problem=error.problem, choices=choices, run_action=Action.RUN_COMMAND
        )
    if isinstance(error, UserFacingError):
        command = error.usage or body.get("command") or ""
        if not isinstance(error, UsageError):
            return render(
                "user_error", problem=error.problem, key=None, help=None, example=None, typed=None
            )
        help_entry = usage_for(command)
        return render(
            "user_error",
            problem=error.problem,
            # Named once: most problems already say which field they are about.
            key=None if error.key and field_named(error.key) in error.problem else error.key,
            help=help_entry,
            example=example_for(help_entry, error.key, error.problem) if help_entry else None,
            typed=typed_line(body),
        )
    if is_database_timeout(error):
        # Expected while something else holds a lock: no traceback, no reference.
        log.warning("a request ran out of database time: %s", type(error).__name__)
        return render("database_busy")
    reference = uuid.uuid4().hex[:8]
    when = "after the ack" if after_ack else "handling a request"
    log.error("unhandled error %s (ref %s)", when, reference, exc_info=error)
    return render("unexpected_error", reference=reference, after_ack=after_ack)


def _date_choices(error: AmbiguousDate, text: str) -> UserFacingError:
    """Both readings of a date as whole commands, the date written with its month."""
    suggestions = []
    for day, retyped in zip(error.readings, error.retyped, strict=True):
        corrected = replace_last(text, error.typed, retyped)
        if corrected is None:
            return error
        suggestions.append(Suggestion(label=full_day(day), text=corrected))
    return DidYouMean(error.problem, tuple(suggestions), usage=error.usage, key=error.key)


def _json_response(payload: dict[str, Any]) -> BoltResponse:
    # Slack treats any non-200 as a failure and shows the user a generic error.
    return BoltResponse(
        status=200, body=json.dumps(payload), headers={"content-type": "application/json"}
    )


def _respond(message: dict[str, Any], context: BoltContext) -> bool:
    """Post `message` through the request's response_url; False if it has none."""
    respond = respond_of(context)
    if respond is None:
        return False
    try:
        respond(
            text=message["text"],
            blocks=message["blocks"],
            response_type="ephemeral",
            replace_original=False,
        )
    except Exception:
        log.exception("could not deliver an error message")
    return True


def _field_for(error: UserFacingError, body: dict[str, Any]) -> str | None:
    """Where in a submitted modal to show a problem: the field it is about, or else the
    form's first input (a modal without a response_url would otherwise just close, and
    the person would never learn why nothing was saved)."""
    values = ((body.get("view") or {}).get("state") or {}).get("values") or {}
    return error.field or next((str(block) for block in values), None)


def handle_error(error: Exception, body: dict[str, Any], context: BoltContext) -> BoltResponse:
    if not is_admitted(context):
        # The edge answers 401 before Bolt sees an unverified request; should one get
        # here some other way, it is answered the same, and nothing is posted for it.
        log.warning("error on a request the edge did not verify: %s", type(error).__name__)
        return BoltResponse(status=401, body=json.dumps({"error": "invalid request"}))
    if isinstance(error, AlreadyAnswered):
        return answer_repeat(error, context, body)
    let_go_of_failed(context)  # it saved nothing: a retry of it runs again
    error = _as_told(error)
    kind = body.get("type")
    if kind == "view_submission" and isinstance(error, UserFacingError):
        field = _field_for(error, body)
        if field is not None:
            # Shown under the field in the open modal, which stays open.
            return _json_response(
                {"response_action": "errors", "errors": {field: error.problem[:2000]}}
            )
    if kind == "view_submission" and is_database_timeout(error):
        # Over the form, which stays behind it filled in, ready to send again.
        busy = render("notice_modal", title="Nothing saved", message=render("database_busy"))
        return _json_response({"response_action": "push", "view": busy})
    message = error_message(error, body)
    if kind in INTERACTIONS:
        # Slack ignores the HTTP body of these: answer through response_url if any.
        _respond(message, context)
        return _json_response({})
    return _json_response({"response_type": "ephemeral", **message})


def tell_after_ack(error: Exception, body: dict[str, Any], context: BoltContext) -> None:
    """What failed after the ack, told to the user: through the response_url, or, for
    payloads without one (a modal, the Home tab), in a DM from the bot. Never raises:
    it runs where nothing else would catch it."""
    try:
        message = error_message(error, body, after_ack=True)
        if not is_admitted(context) or _respond(message, context):
            return
        user, client = user_of(body), context.client
        if user is None or client is None:
            return
        client.chat_postMessage(channel=user, text=message["text"], blocks=message["blocks"])
    except Exception:
        log.exception("could not tell the user about an error after the ack")


def register(app: App) -> None:
    app.error(handle_error)
