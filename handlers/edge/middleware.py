"""The request middleware every Rapport app runs before its listeners: admission, who
is calling, the deps, a workspace back after an uninstall, the payload as typed (no NUL,
a command's text unescaped), and one answer to a repeated request.

The middlewares here are classes, not functions: Bolt builds the keyword arguments of
a function middleware on every request, a few percent of a /concede's CPU
(bench/README.md).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.middleware import Middleware

from bot.services import uninstalls
from handlers.edge.caller import IdentifyCaller, team_of, workspace_event
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


class ReadAsTyped(Middleware):
    """Every listener reads the payload as the user typed it, cleaned here once.

    NUL is dropped from every string of the parsed body (keys too): Slack never sends
    one, a forged request might, and PostgreSQL text cannot hold it. A slash command's
    text comes with `&`, `<` and `>` as Slack's entities: read back once, here.
    """

    def process(
        self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]
    ) -> BoltResponse | None:
        body = req.body
        without_nul(body)
        if "command" in body and isinstance(body.get("text"), str):
            body["text"] = unescape_slack(body["text"])
        return next()


class WelcomeBack(Middleware):
    """In one-workspace mode, a request from a workspace marked uninstalled means
    Rapport is installed there again (no install flow tells us so): the mark is
    cleared and its held messages go. The marked teams
    are read at most every MARKS_TTL_S, so a request costs no query."""

    MARKS_TTL_S = 10.0

    def __init__(self, deps: Deps, clock: Callable[[], float] = time.monotonic) -> None:
        self.deps = deps
        self.clock = clock
        self._marked: set[str] = set()
        self._read_at: float | None = None
        self._lock = threading.Lock()

    def marked(self) -> set[str]:
        now = self.clock()
        with self._lock:
            if self._read_at is not None and now - self._read_at < self.MARKS_TTL_S:
                return self._marked
        with self.deps.db() as session:
            found = uninstalls.marked(session)
        with self._lock:
            self._marked, self._read_at = found, now
        return found

    def forget(self) -> None:
        with self._lock:
            self._read_at = None

    def process(
        self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]
    ) -> BoltResponse | None:
        if workspace_event(req.body):
            # It may mark the team: read the marks again at the next request.
            self.forget()
            return next()
        team_id = team_of(req.body)
        if team_id in self.marked():
            with self.deps.db.begin() as session:
                uninstalls.welcome_back(session, team_id=team_id)
            self.forget()
        return next()


def use_middleware(app: App, deps: Deps) -> None:
    """What every Rapport app runs before its listeners."""
    app.use(RequireAdmission(slack_api_url=deps.settings.slack_api_url))
    app.use(IdentifyCaller())
    app.use(ProvideDeps(deps))
    if not deps.settings.distributed:
        # With OAuth a reinstall comes through the install flow, which says so; a
        # request may still pass with a revoked token Bolt checked before.
        app.use(WelcomeBack(deps))
    app.use(ReadAsTyped())
    app.use(AnswerRepeatsOnce())


def unescape_slack(text: str) -> str:
    """Slack sends `&`, `<` and `>` typed in a command as entities: read them back."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def without_nul(node: object) -> None:
    """Drop NUL from every string in `node` (a parsed body), in place."""
    if isinstance(node, dict):
        for key, value in list(node.items()):
            if isinstance(value, str):
                if "\x00" in value:
                    node[key] = value.replace("\x00", "")
            elif isinstance(value, dict | list):
                without_nul(value)
            if isinstance(key, str) and "\x00" in key:
                node[key.replace("\x00", "")] = node.pop(key)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            if isinstance(value, str):
                if "\x00" in value:
                    node[index] = value.replace("\x00", "")
            elif isinstance(value, dict | list):
                without_nul(value)
