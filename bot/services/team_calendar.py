"""Team-wide calendar settings: the holiday country and the team's days off.

They hold everyone's reminders, so, like the MESO tolerance, only a Slack workspace
admin or owner may change them; anyone may read them. The caller asks Slack
(bot.slackapi.roles.is_workspace_admin, which fails closed) and passes the answer in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.services.errors import NotAllowed
from bot.services.people import set_team_holiday_country
from storage.models import TeamHoliday


@dataclass(frozen=True)
class CountryChange:
    country: str | None  # an ISO code the holidays package knows; None: the default


@dataclass(frozen=True)
class DayOffChange:
    day: date
    add: bool
    name: str = ""


TeamCalendarChange = CountryChange | DayOffChange


def describe(change: TeamCalendarChange) -> str:
    """The change as a phrase: "adding Thu 24 Dec 2026 as a team day off"."""
    if isinstance(change, CountryChange):
        return f"setting the holiday country to {change.country or 'the default'}"
    day = f"{change.day:%a} {change.day.day} {change.day:%b %Y}"
    return f"adding {day} as a team day off" if change.add else f"removing the day off on {day}"


@dataclass(frozen=True)
class DayOff:
    """A team day off, as a list shows it."""

    day: date
    name: str


def days_off_ahead(session: Session, *, team_id: str, today: date, limit: int) -> list[DayOff]:
    """The team's days off from `today` on, soonest first, at most `limit`."""
    rows = session.execute(
        select(TeamHoliday.day, TeamHoliday.name)
        .where(TeamHoliday.team_id == team_id, TeamHoliday.day >= today)
        .order_by(TeamHoliday.day)
        .limit(limit)
    )
    return [DayOff(day, name) for day, name in rows]


def changes_anything(session: Session, *, team_id: str, change: TeamCalendarChange) -> bool:
    """False for adding a day that is a team day off already, or removing one that is
    not: the answer is then what there is, with no one's permission needed."""
    if isinstance(change, CountryChange):
        return True
    exists = session.get(TeamHoliday, (team_id, change.day)) is not None
    return exists != change.add


def apply_change(
    session: Session,
    *,
    team_id: str,
    change: TeamCalendarChange,
    user_id: str,
    is_workspace_admin: bool,
    now: datetime,
) -> bool:
    """Make the change; False when there was nothing to change (see changes_anything:
    the day was added or removed by someone else since it was asked)."""
    if not is_workspace_admin:
        raise NotAllowed(
            "Only a Slack workspace admin or owner can change the team's holiday country "
            f"and days off: they hold everyone's reminders. Nothing changed ({describe(change)}); "
            "ask an admin if it should."
        )
    if isinstance(change, CountryChange):
        set_team_holiday_country(
            session, team_id=team_id, country=change.country, user_id=user_id, now=now
        )
    elif not changes_anything(session, team_id=team_id, change=change):
        return False
    elif change.add:
        session.add(
            TeamHoliday(team_id=team_id, day=change.day, name=change.name or "Team day off")
        )
    else:
        session.execute(
            delete(TeamHoliday).where(TeamHoliday.team_id == team_id, TeamHoliday.day == change.day)
        )
    session.flush()
    return True
