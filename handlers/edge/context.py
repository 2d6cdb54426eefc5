"""What every listener gets from the wiring: settings, the session factory, the clock,
and the working calendars dates are read against (the caller's, an account owner's)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from slack_bolt import BoltContext

from bot.config import Settings
from bot.services import people
from bot.services.calendar import WorkCalendar
from bot.services.dates import DayReader
from bot.services.people import day_reader
from handlers.edge.caller import team_of
from storage.db import SessionFactory
from storage.models import Account

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


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


def caller_calendar(session: Session, deps: Deps, command: dict[str, str]) -> WorkCalendar:
    """The working calendar of the person who ran `command`."""
    return deps.calendar_of(session, team_id=team_of(command), user_id=command["user_id"])


def caller_reader(
    session: Session, calendar: WorkCalendar, command: dict[str, str], now: datetime
) -> DayReader:
    """How the person who ran `command` writes dates, read from their today."""
    return day_reader(
        session, team_id=team_of(command), user_id=command["user_id"], today=calendar.today(now)
    )


def owner_calendar(session: Session, deps: Deps, account: Account) -> WorkCalendar:
    """Dates about an account follow its owner's working days, whoever asks."""
    return deps.calendar_of(session, team_id=account.team_id, user_id=account.owner_id)
