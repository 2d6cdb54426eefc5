"""The declarative base every model derives from, the column type of Slack ids, and the
columns every table of team-wide settings has (`TeamSettings`)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Self

from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from storage.types import CalendarDate, UTCDateTime

SlackId = String(32)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime(), date: CalendarDate()}


class TeamSettings:
    """A table of team-wide settings: one row per team, added the first time someone
    sets one, and who changed it last, when."""

    team_id: Mapped[str] = mapped_column(SlackId, primary_key=True)
    updated_by: Mapped[str] = mapped_column(SlackId)
    updated_at: Mapped[datetime]

    @classmethod
    def for_change(cls, session: Session, *, team_id: str, user_id: str, now: datetime) -> Self:
        """The team's row, added if it has none yet, signed by `user_id` at `now`."""
        row = session.get(cls, team_id)
        if row is None:
            row = cls()
            row.team_id = team_id
            session.add(row)
        row.updated_by = user_id
        row.updated_at = now
        return row
