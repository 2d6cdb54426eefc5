"""Replies through response_url: only for requests the edge verified, only to Slack.

A response_url comes in the request body. Posting to it on behalf of an unverified
request would let anyone make the bot POST to a URL of their choosing, so the edge
(bot/app/server.py) marks each request it verified with `admit()`, which also installs
the one `respond` every listener and the error handler use. That `respond` posts
only to Slack's own response URLs: hooks.slack.com, or the host of SLACK_API_URL
(the local fake Slack in tests and `rapport try`). Every reply through a
response_url, Bolt's `respond` and the concession log's redraw alike, goes through
`SlackOnlyRespond`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from slack_bolt import BoltContext, BoltRequest, BoltResponse, Respond
from slack_bolt.middleware import Middleware
from slack_sdk.webhook import WebhookResponse

SLACK_RESPONSE_ORIGIN = ("https", "hooks.slack.com")

# Set on the context of a request whose signature the edge verified; deep-copied with
# the context into Bolt's lazy listeners.
_ADMITTED = "rapport_admitted"


class ForeignResponseUrl(ValueError):
    """A response_url outside Slack: nothing is posted to it."""


def is_slack_response_url(url: str, *, slack_api_url: str) -> bool:
    """True for Slack's own response URLs: https://hooks.slack.com/…, or the scheme and
    host:port of SLACK_API_URL. The whole netloc is compared, so neither a user part
    (`https://hooks.slack.com@elsewhere/`) nor another port gets through."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    origin = (parts.scheme.lower(), parts.netloc.lower())
    api = urlsplit(slack_api_url)
    return origin in (SLACK_RESPONSE_ORIGIN, (api.scheme.lower(), api.netloc.lower()))


class SlackOnlyRespond(Respond):
    """Bolt's `respond`, refusing any response_url that is not Slack's."""

    def __init__(self, *, response_url: str | None, slack_api_url: str) -> None:
        super().__init__(response_url=response_url)
        self.slack_api_url = slack_api_url

    def __call__(self, *args: Any, **kwargs: Any) -> WebhookResponse:
        url = self.response_url
        if url is not None and not is_slack_response_url(url, slack_api_url=self.slack_api_url):
            # The host only: the rest of a URL from a request body is not for the log.
            host = urlsplit(url).hostname if "://" in url else "?"
            raise ForeignResponseUrl(f"refused to post to a response_url outside Slack ({host})")
        return super().__call__(*args, **kwargs)


def admit(context: BoltContext, *, slack_api_url: str) -> None:
    """Mark a request as verified and give it the one `respond` Rapport uses."""
    context[_ADMITTED] = True
    context["respond"] = SlackOnlyRespond(
        response_url=context.response_url, slack_api_url=slack_api_url
    )


def is_admitted(context: BoltContext) -> bool:
    return context.get(_ADMITTED) is True


def respond_of(context: BoltContext) -> SlackOnlyRespond | None:
    """The request's `respond` if it may be used: the request was verified, and it
    carries a response_url. Never Bolt's own, which would post anywhere."""
    respond = context.get("respond")
    if not is_admitted(context) or not isinstance(respond, SlackOnlyRespond):
        return None
    return respond if respond.response_url else None


class RequireAdmission(Middleware):
    """Only admitted requests reach a listener.

    Over HTTP that is the edge's verdict on the signature (bot/app/server.py), the one
    check made: Bolt's own RequestVerification is off (bot/app/bolt.py), and would only
    hash the body a second time. A request that did not come through the edge gets
    401 here. Socket Mode requests arrive over the connection the app token opened,
    and are admitted as they come.
    """

    def __init__(self, *, slack_api_url: str) -> None:
        self.slack_api_url = slack_api_url

    def process(
        self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]
    ) -> BoltResponse | None:
        if req.mode == "socket_mode":
            admit(req.context, slack_api_url=self.slack_api_url)
        elif not is_admitted(req.context):
            return BoltResponse(status=401, body='{"error": "invalid request"}')
        return next()
