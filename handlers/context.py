"""What every listener gets from the wiring: settings, the session factory, the clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from slack_bolt import App, BoltContext, BoltRequest, BoltResponse
from slack_bolt.middleware import Middleware
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.services import people
from bot.services.calendar import WorkCalendar
from handlers.caller import IdentifyCaller
from handlers.response_urls import RequireAdmission
from storage.db import SessionFactory


def utcnow() -> datetime:
    """The wiring's clock; services take `now` as an argument instead."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Deps:
    settings: Settings
    db: SessionFactory

    def calendar_of(self, session: Session, *, team_id: str, user_id: str) -> WorkCalendar:
        """A person's working calendar, this deployment's defaults behind their own."""
        return people.calendar_of(
            session,
            team_id=team_id,
            user_id=user_id,
            default_tz=self.settings.default_tz,
            country=self.settings.holiday_country,
        )

    def __deepcopy__(self, memo: dict[int, Any]) -> Deps:
        # Bolt deep-copies the request context for lazy listeners; these are shared
        # process-wide services, not per-request state.
        return self


def deps_of(context: BoltContext) -> Deps:
    deps: Deps = context["rapport"]
    return deps


class ProvideDeps(Middleware):
    """Hands `deps` to every listener through the context.

    The middlewares here are classes, not functions: Bolt builds the keyword arguments
    of a function middleware on every request, a few percent of a /concede's CPU
    (bench/README.md).
    """

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
    # Imported here: handlers.replays takes its deps from this module.
    from handlers.replays import AnswerRepeatsOnce

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
