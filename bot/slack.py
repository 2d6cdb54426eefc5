"""The one Slack Web API client factory, with slack_sdk's retry handlers on."""

from __future__ import annotations

import copy
import logging

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.config import Settings

# Per call; Slack answers well inside this, and a sweep must not hang on one request.
TIMEOUT_SECONDS = 10


def make_client(settings: Settings, *, token: str | None = None) -> WebClient:
    """A WebClient for `settings.slack_api_url` that retries 429s and 5xx by itself.

    RateLimitErrorRetryHandler sleeps for Retry-After in the calling thread, so this
    client is for work after ack() and for the scheduler, never before an ack.
    """
    retries = settings.slack_max_retries
    return WebClient(
        token=token,
        base_url=settings.slack_api_url,
        timeout=TIMEOUT_SECONDS,
        logger=logging.getLogger("rapport.slack"),
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=retries),
            RateLimitErrorRetryHandler(max_retry_count=retries),
            ServerErrorRetryHandler(max_retry_count=retries),
        ],
    )


def without_rate_limit_waits(client: WebClient) -> WebClient:
    """The same client, except that a 429 comes back at once as an error instead of
    sleeping for Retry-After in this thread: for calls made while other workers wait
    on this one (the sweep's plan-and-group lock)."""
    impatient = copy.copy(client)
    impatient.retry_handlers = [
        handler
        for handler in client.retry_handlers
        if not isinstance(handler, RateLimitErrorRetryHandler)
    ]
    return impatient
