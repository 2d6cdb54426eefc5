"""People as the scheduler sees them: time zone, working hours, absences, manager.

A person's own settings (`UserPrefs`) are kept under their scope (storage.orgs): in a
workspace of an Enterprise Grid org, the org's id, since a user id is one person in
every workspace of the org; elsewhere the workspace's. Every read and write of them
goes through the functions here, which take the workspace the request or reminder
came from and find the scope in the same statement.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.services.calendar import WorkCalendar, parse_work_days
from bot.services.dates import DayReader, NumericOrder, order_of_locale
from bot.services.errors import UsageError
from storage.models import TeamCalendar, TeamHoliday, UserPrefs
from storage.orgs import people_scope, people_scope_sql
from storage.upsert import add_or_read_winner

# Slack's tz_offset changes silently with DST; the IANA name does not, but a person
# may move: refresh it daily.
TZ_FRESHNESS = timedelta(days=1)


def zone(name: str | None, fallback: ZoneInfo) -> ZoneInfo:
    if not name:
        return fallback
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return fallback


def prefs_of(session: Session, *, team_id: str, user_id: str) -> UserPrefs | None:
    """The settings of `user_id`, a person of the workspace `team_id`: their org's if
    the workspace is in one, so the same from each of its workspaces."""
    return session.scalar(
        select(UserPrefs).where(
            UserPrefs.team_id == people_scope_sql(team_id), UserPrefs.user_id == user_id
        )
    )


def ensure_prefs(session: Session, *, team_id: str, user_id: str) -> UserPrefs:
    prefs = prefs_of(session, team_id=team_id, user_id=user_id)
    if prefs is not None:
        return prefs
    # Only a person met for the first time pays for reading the scope apart.
    scope = people_scope(session, team_id=team_id)
    # Two workers may meet the same new person at once; the loser reads the row.
    prefs, _ = add_or_read_winner(
        session,
        UserPrefs(team_id=scope, user_id=user_id),
        lambda: prefs_of(session, team_id=team_id, user_id=user_id),
    )
    return prefs


def team_days_off(session: Session, *, team_id: str) -> frozenset[date]:
    return frozenset(session.scalars(select(TeamHoliday.day).where(TeamHoliday.team_id == team_id)))


# Words that clear a team's own holiday country, so the deployment's applies again.
NO_COUNTRY = frozenset({"none", "off", "default", "-"})


def holiday_country_code(text: str) -> str | None:
    """An ISO code the `holidays` package knows, upper-cased; None for `none`."""
    code = text.strip().removesuffix(".").strip()
    if code.casefold() in NO_COUNTRY:
        return None
    if not code or code.upper() not in holidays.list_supported_countries():
        raise UsageError(
            f"`{code[:20]}` is not a country whose public holidays we know: use an ISO code "
            "such as `DE`, `US` or `GB`, or `none` to follow the deployment's default.",
            usage="/rapport holidays",
        )
    return code.upper()


def team_holiday_country(session: Session, *, team_id: str) -> str | None:
    """The country this team chose for public holidays; None if it chose none."""
    chosen = session.get(TeamCalendar, team_id)
    return chosen.holiday_country if chosen is not None else None


def set_team_holiday_country(
    session: Session, *, team_id: str, country: str | None, user_id: str, now: datetime
) -> str | None:
    chosen = TeamCalendar.for_change(session, team_id=team_id, user_id=user_id, now=now)
    chosen.holiday_country = country
    session.flush()
    return country


class HolidayCountries:
    """Every team's holiday country, read in one query when first asked, then kept.

    A sweep builds calendars for thousands of people across teams; one of these per
    sweep reads the (small) table once instead of once per person or team.
    """

    def __init__(self, fallback: str | None) -> None:
        self.fallback = fallback  # the deployment's HOLIDAY_COUNTRY
        self._chosen: dict[str, str] | None = None

    def of(self, session: Session, team_id: str) -> str | None:
        if self._chosen is None:
            rows = session.execute(
                select(TeamCalendar.team_id, TeamCalendar.holiday_country).where(
                    TeamCalendar.holiday_country.is_not(None)
                )
            )
            self._chosen = {team: country for team, country in rows if country}
        return self._chosen.get(team_id) or self.fallback


def calendar_from(
    prefs: UserPrefs | None,
    *,
    default_tz: ZoneInfo,
    country: str | None,
    days_off: frozenset[date],
) -> WorkCalendar:
    if prefs is None:
        return WorkCalendar(tz=default_tz, country=country, team_days_off=days_off)
    return WorkCalendar(
        tz=zone(prefs.tz_override or prefs.slack_tz, default_tz),
        start=prefs.work_start,
        end=prefs.work_end,
        days=parse_work_days(prefs.work_days) or frozenset(range(5)),
        country=country,
        team_days_off=days_off,
        away_from=prefs.away_from,
        away_until=prefs.away_until,
    )


def calendar_of(
    session: Session,
    *,
    team_id: str,
    user_id: str | None,
    default_tz: ZoneInfo,
    country: str | None,
) -> WorkCalendar:
    """The working calendar nudges for `user_id` follow (team defaults for a channel).

    `country` is the deployment's HOLIDAY_COUNTRY: it applies unless the team chose
    its own with `/rapport holidays country: XX`.
    """
    prefs = prefs_of(session, team_id=team_id, user_id=user_id) if user_id else None
    return calendar_from(
        prefs,
        default_tz=default_tz,
        country=team_holiday_country(session, team_id=team_id) or country,
        days_off=team_days_off(session, team_id=team_id),
    )


def prefs_of_many(
    session: Session, *, team_id: str, user_ids: Iterable[str]
) -> dict[str, UserPrefs]:
    """The settings of the people `user_ids` of the workspace `team_id` (by user id),
    in one statement, scope and all (`prefs_of`)."""
    wanted = sorted(set(user_ids))
    if not wanted:
        return {}
    rows = session.scalars(
        select(UserPrefs).where(
            UserPrefs.team_id == people_scope_sql(team_id), UserPrefs.user_id.in_(wanted)
        )
    )
    return {prefs.user_id: prefs for prefs in rows}


@dataclass(frozen=True)
class SlackProfile:
    """What users.info tells of a person: their IANA zone, and their locale (`en-GB`;
    empty when Slack has none)."""

    tz: str | None
    locale: str = ""


def needs_timezone(prefs: UserPrefs | None, now: datetime) -> bool:
    """Ask Slack again (zone and locale): never asked, or a day old. People asked before
    locales were kept get theirs at that daily refresh."""
    if prefs is None or prefs.slack_tz_fetched_at is None:
        return True
    return now - prefs.slack_tz_fetched_at > TZ_FRESHNESS


def remember_timezone(
    session: Session, *, team_id: str, user_id: str, profile: SlackProfile, now: datetime
) -> UserPrefs:
    prefs = ensure_prefs(session, team_id=team_id, user_id=user_id)
    if profile.tz:
        prefs.slack_tz = profile.tz
    if profile.locale or prefs.slack_locale is None:
        prefs.slack_locale = profile.locale
    prefs.slack_tz_fetched_at = now
    return prefs


def numeric_order_of(session: Session, *, team_id: str, user_id: str) -> NumericOrder | None:
    """How this person writes dates in numbers, from their Slack locale; None: unknown."""
    prefs = prefs_of(session, team_id=team_id, user_id=user_id)
    return order_of_locale(prefs.slack_locale) if prefs is not None else None


def day_reader(session: Session, *, team_id: str, user_id: str, today: date) -> DayReader:
    """How this person's dates read: from their today, in their locale's number order."""
    return DayReader(today, numeric_order_of(session, team_id=team_id, user_id=user_id))
