"""Slack calls a slash command needs, made off the request path.

Slash commands are dispatched on the server's event loop (bot/server.py): their
listeners do local work and reply in the HTTP response. A Slack call there (opening
a modal, posting to a channel) would hold every other request for its round trip,
so a listener hands it to `later()`, which runs it on a small thread pool at once,
in parallel with the ack. (Bolt's own lazy listeners would do too, but they copy the
whole request for every command, needed or not: measured, that tripled /concede's
latency at concurrency 16.) A failure is told to the user through response_url.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

from slack_bolt import BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.errors import UserFacingError
from handlers.errors import error_message

log = logging.getLogger("rapport.after_ack")

SlackWork = Callable[[WebClient], None]

_EXECUTOR = ThreadPoolExecutor(max_workers=4, thread_name_prefix="rapport-after-ack")
_PENDING: set[Future[None]] = set()
_LOCK = threading.Lock()


def later(context: BoltContext, body: dict[str, Any], work: SlackWork) -> None:
    client, respond = context.client, context.respond
    assert client is not None
    future = _EXECUTOR.submit(_run, work, client, respond, body)
    with _LOCK:
        _PENDING.add(future)
    future.add_done_callback(_forget)


def _forget(future: Future[None]) -> None:
    with _LOCK:
        _PENDING.discard(future)


def drain(timeout: float = 10.0) -> None:
    """Wait for work handed to `later()` (for `rapport try`, which then exits)."""
    with _LOCK:
        pending = set(_PENDING)
    wait(pending, timeout=timeout)


def _run(work: SlackWork, client: WebClient, respond: Respond | None, body: dict[str, Any]) -> None:
    try:
        work(client)
    except UserFacingError as error:
        if respond is not None:
            message = error_message(error, body)
            respond(text=message["text"], blocks=message["blocks"], response_type="ephemeral")
    except (SlackApiError, SlackClientError):
        log.exception("Slack call after the ack failed")
