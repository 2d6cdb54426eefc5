"""The declarative base every model derives from, the column type of Slack ids, and the
columns many tables share: a team's row with an id of its own (`TeamRow`), a row of one
account (`AccountRow`), a table of team-wide settings (`TeamSettings`)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Self

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from storage.types import CalendarDate, UTCDateTime

# A Slack id (team T…, user U…, channel C…, user group S…): `Mapped[SlackId]` is a
# VARCHAR(32) column, `Mapped[SlackId | None]` one that may be NULL.
SlackId = Annotated[str, "a Slack id"]


class Base(DeclarativeBase):
    type_annotation_map = {
        datetime: UTCDateTime(),
        date: CalendarDate(),
        SlackId: String(32),
    }


class TeamRow:
    """A row of one team's, with an id of its own.

    The two columns come first in the table (`sort_order`), where the migrations put them.
    """

    id: Mapped[int] = mapped_column(primary_key=True, sort_order=-2)
    team_id: Mapped[SlackId] = mapped_column(sort_order=-2)


class AccountRow(TeamRow):
    """A row of one account's, deleted with it; its column comes after the team's."""

    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), sort_order=-1
    )


class TeamSettings:
    """A table of team-wide settings: one row per team, added the first time someone
    sets one, and who changed it last, when."""

    team_id: Mapped[SlackId] = mapped_column(primary_key=True)
    updated_by: Mapped[SlackId]
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
