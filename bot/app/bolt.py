"""The composition root: build the Bolt app from settings and a session factory."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from slack_bolt import App
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.logger import get_bolt_logger
from slack_bolt.logger.messages import (
    warning_client_prioritized_and_token_skipped,
    warning_token_skipped,
)
from slack_sdk import WebClient

from bot.app.oauth import install_flow
from bot.config import Settings
from bot.services.dates import warm_up
from bot.slackapi.client import make_client
from handlers import register_listeners
from handlers.edge.context import Deps
from handlers.edge.pool import AFTER_ACK
from messages.pages import NOT_INSTALLED
from storage.db import SessionFactory, engine_of


class _OurClientNotice(logging.Filter):
    """Drops Bolt's start-up warnings that SLACK_BOT_TOKEN "will be unused" or "will be
    ignored": Bolt gives them whenever a client is passed while that variable is set,
    or a client with a token beside an authorize (`rapport try`'s stand-in), and ours
    is built from that same token (with retry handlers and SLACK_API_URL) while each
    listener still gets its request's token. An admin reading the log should not
    wonder whether their token was taken."""

    OURS = frozenset({warning_client_prioritized_and_token_skipped(), warning_token_skipped()})

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() not in self.OURS


class _NoRequestBodies(logging.Filter):
    """Bolt writes request bodies, or parts of them, into a few of its log lines (a
    bad signature's whole body at INFO, an unhandled request's values at WARNING),
    and at DEBUG every reply, which quotes what the person typed. A body is someone
    else's text, and can be megabytes: those lines are logged without it."""

    WITHOUT_BODY = {
        "Invalid request signature detected": "Invalid request signature detected",
        "Unhandled request (": "Unhandled request: no listener matched it",
        "A global middleware (": "A global middleware neither called next() nor answered",
    }
    # slack_bolt.logger.messages.debug_responding
    _RESPONDING = re.compile(r'Responding with status: (\d+) body: ".*" \((\d+) millis\)', re.S)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        for start, plain in self.WITHOUT_BODY.items():
            if message.startswith(start):
                record.msg, record.args = f"{plain} (request body not logged)", ()
                return True
        responding = self._RESPONDING.fullmatch(message)
        if responding:
            status, millis = responding.groups()
            record.msg = f"Responding with status {status} in {millis} ms (body not logged)"
            record.args = ()
        return True


class _NotInstalledOnce(logging.Filter):
    """Drops the error Bolt logs at every request from a workspace where Rapport has no
    working install (a message Bolt words as a fault, with no team in it):
    bot/app/oauth.py's TeamAuthorize logs it once a team instead, naming the team."""

    BOLT_SAYS = "Although the app should be installed into this workspace"

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(self.BOLT_SAYS)


def bolt_logger() -> logging.Logger:
    """The logger Bolt is given: its own, with our filters. Bolt copies a given
    logger's filters onto every logger it makes for middleware and listeners."""
    logger = get_bolt_logger(App)
    for kind in (_OurClientNotice, _NoRequestBodies, _NotInstalledOnce):
        if not any(isinstance(f, kind) for f in logger.filters):
            logger.addFilter(kind())
    return logger


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
    # Distributed mode: each request's token is its workspace's, from the installation
    # store (bot/app/oauth.py); else the one bot token of SLACK_BOT_TOKEN.
    per_team = authorize is not None or settings.distributed
    if client is None:
        client = make_client(
            settings, token=None if per_team else settings.require("slack_bot_token")
        )
    flow = None
    if settings.distributed and authorize is None:
        flow = install_flow(settings, engine=engine_of(db), client=client)
    app = App(
        logger=bolt_logger(),
        client=client,
        # No signing secret here: over HTTP the edge verifies every signature before
        # the body is parsed (bot/app/server.py, which requires the secret), and
        # RequireAdmission turns away anything that did not pass it; Socket Mode
        # requests are not signed at all.
        signing_secret="",
        request_verification_enabled=False,
        authorize=authorize,
        oauth_flow=flow,
        user_facing_authorize_error_message=NOT_INSTALLED,
        process_before_response=True,
        listener_executor=AFTER_ACK,
    )
    register_listeners(app, Deps(settings=settings, db=db))
    if flow is not None:  # after the edge's middleware: the caller is known by then
        app.use(flow.note_orgs())
    warm_up()
    return app
