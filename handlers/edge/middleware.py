"""The request middleware every Rapport app runs before its listeners: admission, who
is calling, the deps, the command text as typed, and one answer to a repeated request.

The middlewares here are classes, not functions: Bolt builds the keyword arguments of
a function middleware on every request, a few percent of a /concede's CPU
(bench/README.md).
"""

from __future__ import annotations

from collections.abc import Callable

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.middleware import Middleware

from handlers.edge.caller import IdentifyCaller
from handlers.edge.context import Deps
from handlers.edge.replays import AnswerRepeatsOnce
from handlers.edge.response_urls import RequireAdmission


class ProvideDeps(Middleware):
    """Hands `deps` to every listener through the context."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def process(
        self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]
    ) -> BoltResponse | None:
        req.context["rapport"] = self.deps
        return next()


class ReadCommandText(Middleware):
    """Every slash command listener sees the text as the user typed it."""

    def process(
        self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]
    ) -> BoltResponse | None:
        body = req.body
        if "command" in body and isinstance(body.get("text"), str):
            body["text"] = unescape_slack(body["text"])
        return next()


def use_middleware(app: App, deps: Deps) -> None:
    """What every Rapport app runs before its listeners."""
    app.use(RequireAdmission(slack_api_url=deps.settings.slack_api_url))
    app.use(IdentifyCaller())
    app.use(ProvideDeps(deps))
    app.use(ReadCommandText())
    app.use(AnswerRepeatsOnce())


def unescape_slack(text: str) -> str:
    """Slack sends `&`, `<` and `>` typed in a command as entities: read them back.

    NUL is dropped too: Slack never sends it, PostgreSQL text cannot hold it.
    """
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").replace("\x00", "")
