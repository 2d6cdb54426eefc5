"""Team-wide calendar settings: the holiday country and the team's days off.

They hold everyone's reminders, so, like the MESO tolerance, only a Slack workspace
admin or owner may change them; anyone may read them. The caller asks Slack
(bot.slackapi.roles.is_workspace_admin, which fails closed) and passes the answer in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.services.errors import NotAllowed, UsageError
from bot.services.people import set_team_holiday_country
from messages.formats import full_day
from storage.models import TeamHoliday


@dataclass(frozen=True)
class CountryChange:
    country: str | None  # an ISO code the holidays package knows; None: the default


# The most days one change adds or removes: a closure over the holidays, not a year.
MAX_DAYS_OFF_AT_ONCE = 31


@dataclass(frozen=True)
class DayOffChange:
    """Days off added or removed: `day`, or `day` to `last` (inclusive), one name."""

    day: date
    add: bool
    name: str = ""
    last: date | None = None

    def __post_init__(self) -> None:
        if self.last is None:
            return
        if self.last < self.day:
            raise UsageError(
                f"The days off run from {full_day(self.day)} to {full_day(self.last)}, which "
                "is before it. Give the first day, then the last: `24 Dec to 26 Dec`.",
                key="DATE",
            )
        if len(self.days) > MAX_DAYS_OFF_AT_ONCE:
            raise UsageError(
                f"From {full_day(self.day)} to {full_day(self.last)} is {len(self.days)} days; "
                f"add at most {MAX_DAYS_OFF_AT_ONCE} at once.",
                key="DATE",
            )

    @property
    def days(self) -> list[date]:
        last = self.last or self.day
        return [self.day + timedelta(days=n) for n in range((last - self.day).days + 1)]


TeamCalendarChange = CountryChange | DayOffChange


def describe(change: TeamCalendarChange) -> str:
    """The change as a phrase: "adding Thu 24 Dec 2026 as a team day off"."""
    if isinstance(change, CountryChange):
        return f"setting the holiday country to {change.country or 'the default'}"
    if change.last is not None and change.last != change.day:
        days = f"{full_day(change.day)} to {full_day(change.last)}"
        return f"adding {days} as team days off" if change.add else f"removing the days off {days}"
    day = full_day(change.day)
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
    return bool(_to_change(session, team_id=team_id, change=change))


def _to_change(session: Session, *, team_id: str, change: DayOffChange) -> list[date]:
    """The days of `change` it would change: those not off yet to add, those off to remove."""
    off = set(
        session.scalars(
            select(TeamHoliday.day).where(
                TeamHoliday.team_id == team_id, TeamHoliday.day.in_(change.days)
            )
        )
    )
    return [day for day in change.days if (day in off) != change.add]


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
    elif not (days := _to_change(session, team_id=team_id, change=change)):
        return False
    elif change.add:
        session.add_all(
            TeamHoliday(team_id=team_id, day=day, name=change.name or "Team day off")
            for day in days
        )
    else:
        session.execute(
            delete(TeamHoliday).where(TeamHoliday.team_id == team_id, TeamHoliday.day.in_(days))
        )
    session.flush()
    return True
