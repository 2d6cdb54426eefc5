"""What every listener gets from the wiring: settings, the session factory, the clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from slack_bolt import BoltContext
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.services import people
from bot.services.calendar import WorkCalendar
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


def inject(deps: Deps) -> Callable[..., Any]:
    """A global middleware that hands `deps` to every listener through the context."""

    def middleware(context: BoltContext, next: Callable[[], Any]) -> Any:
        context["rapport"] = deps
        return next()

    return middleware


def unescape_slack(text: str) -> str:
    """Slack sends `&`, `<` and `>` typed in a command as entities: read them back.

    NUL is dropped too: Slack never sends it, PostgreSQL text cannot hold it.
    """
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").replace("\x00", "")


def normalize_command_text(body: dict[str, Any], next: Callable[[], Any]) -> Any:
    """A global middleware: every slash command listener sees the text as typed."""
    if "command" in body and isinstance(body.get("text"), str):
        body["text"] = unescape_slack(body["text"])
    return next()
