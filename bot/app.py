"""The composition root: build the Bolt app from settings and a session factory."""

from __future__ import annotations

import logging
from collections.abc import Callable

from slack_bolt import App
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.logger import get_bolt_logger
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_sdk import WebClient

from bot.config import Settings
from bot.services.dates import warm_up
from bot.slack import make_client
from handlers import register_listeners
from handlers.after_ack import AFTER_ACK
from handlers.context import Deps, use_middleware
from storage.db import SessionFactory


class _OurClientNotice(logging.Filter):
    """Drops Bolt's start-up warning that SLACK_BOT_TOKEN "will be unused": Bolt gives
    it whenever a client is passed while that variable is set, and ours is built from
    that same token (with retry handlers and SLACK_API_URL). An admin reading the log
    should not wonder whether their token was taken."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != warning_client_prioritized_and_token_skipped()


def _quiet_about_our_client() -> None:
    bolt_log = get_bolt_logger(App)
    if not any(isinstance(f, _OurClientNotice) for f in bolt_log.filters):
        bolt_log.addFilter(_OurClientNotice())


def build_app(
    settings: Settings,
    *,
    db: SessionFactory,
    client: WebClient | None = None,
    authorize: Callable[..., AuthorizeResult] | None = None,
) -> App:
    """The real Bolt app: signed requests in, listeners, one error handler.

    `process_before_response=True`: each listener does its (short, local) work and
    its reply rides back in the HTTP response to Slack. Bolt's default mode acks from
    a polling loop that adds about 12 ms to every request; ours has nothing slow on
    the request path (Slack calls with retries go through the scheduler's outbox).
    """
    if client is None:
        token = None if authorize is not None else settings.require("slack_bot_token")
        client = make_client(settings, token=token)
    _quiet_about_our_client()
    app = App(
        client=client,
        signing_secret=settings.require("slack_signing_secret"),
        authorize=authorize,
        process_before_response=True,
        listener_executor=AFTER_ACK,
    )
    use_middleware(app, Deps(settings=settings, db=db))
    register_listeners(app)
    warm_up()
    return app
