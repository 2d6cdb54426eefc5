"""The one Slack Web API client factory, with retry handlers that never post twice.

slack_sdk's built-in handlers retry any method: a 5xx or a dropped connection after a
`chat.postMessage` that Slack had in fact taken posted the message again. Here a post
is retried by the client only when Slack surely did not take it (a 429, a refused
connection); the outbox has its own retry, which looks for the message first.
"""

from __future__ import annotations

import copy
import logging
import math
import random
import time
from collections.abc import Mapping
from typing import Any, NotRequired, TypedDict, Unpack

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from bot.config import Settings

# Per call; Slack answers well inside this, and a sweep must not hang on one request.
TIMEOUT_SECONDS = 10
# Methods after which a retry may post a second time if Slack took the first.
POSTING_METHODS = frozenset(
    {
        "chat.postMessage",
        "chat.postEphemeral",
        "chat.scheduleMessage",
        "chat.meMessage",
        "files.completeUploadExternal",
        "files.upload",
    }
)
# The longest the client sleeps for one Retry-After; a longer wait comes back as the
# 429 error, for the caller to decide (the outbox hands the row back).
MAX_CLIENT_RATE_LIMIT_WAIT = 30.0
# How the client waits out a 429 (tests replace it, to wait without sleeping).
sleep = time.sleep


def method_of(request: HttpRequest) -> str:
    """`chat.postMessage` from …/api/chat.postMessage?…"""
    return request.url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]


def retry_after(headers: Mapping[str, Any] | None) -> float:
    """Retry-After in seconds, read leniently: `1.5` is a second and a half; a missing
    or unreadable value is one second (slack_sdk's own handler raised ValueError)."""
    for name, value in (headers or {}).items():
        if name.lower() != "retry-after":
            continue
        if isinstance(value, list):
            value = value[0] if value else None
        try:
            seconds = float(value)
        except (TypeError, ValueError):
            return 1.0
        return seconds if math.isfinite(seconds) and seconds >= 0 else 1.0
    return 1.0


class Attempt(TypedDict):
    """What slack_sdk tells a retry handler about a failed attempt: the keyword arguments
    of `_can_retry` and `prepare_for_next_attempt`."""

    state: RetryState
    request: HttpRequest
    response: NotRequired[HttpResponse | None]
    error: NotRequired[Exception | None]


class RateLimitRetry(RateLimitErrorRetryHandler):
    """Sleeps out a 429's Retry-After (any number, capped); a 429 means nothing was
    done, so posts may be retried too."""

    def _can_retry(self, **attempt: Unpack[Attempt]) -> bool:
        response = attempt.get("response")
        return (
            response is not None
            and response.status_code == 429
            and retry_after(response.headers) <= MAX_CLIENT_RATE_LIMIT_WAIT
        )

    def prepare_for_next_attempt(self, **attempt: Unpack[Attempt]) -> None:
        state, response = attempt["state"], attempt.get("response")
        if response is None:
            raise attempt.get("error") or RuntimeError("a rate-limit retry without a response")
        state.next_attempt_requested = True
        sleep(retry_after(response.headers) + random.random())
        state.increment_current_attempt()


class _PostAware(RetryHandler):
    """A retry handler that asks once more before repeating a post: Slack may have
    posted it before the failure, and a second post is a second message."""

    def may_repeat_post(self, error: Exception | None) -> bool:
        return False

    def _can_retry(self, **attempt: Unpack[Attempt]) -> bool:
        if method_of(attempt["request"]) in POSTING_METHODS and not self.may_repeat_post(
            attempt.get("error")
        ):
            return False
        return super()._can_retry(**attempt)


class ServerErrorRetry(_PostAware, ServerErrorRetryHandler):
    """Retries a 500/503, except of a post: Slack may have posted before failing."""


class ConnectionErrorRetry(_PostAware, ConnectionErrorRetryHandler):
    """Retries a dropped connection; a post only if the connection was refused (then
    Slack never saw it), not if it was reset or timed out after the request went."""

    def may_repeat_post(self, error: Exception | None) -> bool:
        return isinstance(getattr(error, "reason", error), ConnectionRefusedError)


def make_client(settings: Settings, *, token: str | None = None) -> WebClient:
    """A WebClient for `settings.slack_api_url` that retries 429s, 5xx and dropped
    connections by itself, never in a way that could post a message twice.

    RateLimitRetry sleeps for Retry-After in the calling thread, so this client is
    for work after ack() and for the scheduler, never before an ack.
    """
    retries = settings.slack_max_retries
    return WebClient(
        token=token,
        base_url=settings.slack_api_url,
        timeout=TIMEOUT_SECONDS,
        logger=logging.getLogger("rapport.slack"),
        retry_handlers=[
            ConnectionErrorRetry(max_retry_count=retries),
            RateLimitRetry(max_retry_count=retries),
            ServerErrorRetry(max_retry_count=retries),
        ],
    )


def without_rate_limit_waits(client: WebClient) -> WebClient:
    """The same client, except that a 429 comes back at once as an error instead of
    sleeping for Retry-After in this thread: for calls made while other workers wait
    on this one (the sweep's plan-and-group lock), and for the outbox, which waits
    within its lease or hands the row back."""
    impatient = copy.copy(client)
    impatient.retry_handlers = [
        handler
        for handler in client.retry_handlers
        if not isinstance(handler, RateLimitErrorRetryHandler)
    ]
    return impatient
