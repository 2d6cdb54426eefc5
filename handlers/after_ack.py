"""Slack calls a slash command needs, run right after its ack (a Bolt lazy listener).

Slash commands are dispatched on the server's event loop (bot/server.py): their
listeners do local work and reply in the HTTP response. A Slack call there (opening
a modal, posting to a channel) would hold every other request for its round trip,
so a listener hands such calls to `later()`, and `run_later` makes them once the ack
is on its way. A failure is told to the user through response_url.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.errors import UserFacingError
from handlers.errors import error_message

log = logging.getLogger("rapport.after_ack")

SlackWork = Callable[[WebClient], None]
_KEY = "rapport_after_ack"


def later(context: BoltContext, work: SlackWork) -> None:
    context.setdefault(_KEY, []).append(work)


def run_later(
    context: BoltContext, client: WebClient, respond: Respond, body: dict[str, Any]
) -> None:
    for work in context.get(_KEY, []):
        try:
            work(client)
        except UserFacingError as error:
            message = error_message(error, body)
            respond(text=message["text"], blocks=message["blocks"], response_type="ephemeral")
        except (SlackApiError, SlackClientError):
            log.exception("Slack call after the ack failed")
