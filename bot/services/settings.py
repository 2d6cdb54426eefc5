"""A person's scheduling settings, checked before they are saved."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.orm import Session

from bot.services.dates import AWAY, DayReader
from bot.services.digest import parse_clock
from bot.services.errors import UsageError
from bot.services.people import ensure_prefs, zone
from bot.services.shown import copied
from storage.models import UserPrefs


@dataclass(frozen=True)
class SettingsInput:
    """A person's scheduling settings: as the modal submits them, or as stored (`of`)."""

    work_start: time
    work_end: time
    work_days: str
    tz_override: str | None
    away_from: date | None
    away_until: date | None
    manager_id: str | None
    digest_opt_out: bool

    @classmethod
    def of(cls, prefs: UserPrefs) -> SettingsInput:
        """The settings as stored, as the settings modal and replies show them."""
        return copied(cls, prefs, digest_opt_out=bool(prefs.digest_opt_out))


@dataclass(frozen=True)
class SettingsForm:
    """What the settings modal opens with: the settings, the zone in use, and whether
    the time away they set has ended (shown, so it can be cleared)."""

    prefs: SettingsInput
    tz_name: str
    away_ended: bool


def settings_form(
    session: Session, *, team_id: str, user_id: str, default_tz: ZoneInfo, today: date
) -> SettingsForm:
    prefs = ensure_prefs(session, team_id=team_id, user_id=user_id)
    return SettingsForm(
        prefs=SettingsInput.of(prefs),
        tz_name=str(zone(prefs.tz_override or prefs.slack_tz, default_tz)),
        away_ended=prefs.away_until is not None and prefs.away_until < today,
    )


HOURS_USAGE = "/rapport settings"
_RANGE = re.compile(r"\s*(?:-|–|—|to|until)\s*", re.I)


def parse_hours(text: str) -> tuple[time, time]:
    """`8-17`, `8:30 - 17:00`, `9am to 5pm`: the start and end of a working day."""
    parts = [part for part in _RANGE.split(text.strip(), maxsplit=1) if part]
    if len(parts) != 2:
        raise UsageError(
            f"`hours:` is a start and an end, such as `9-17` or `8:30-17:30`, not `{text[:40]}`.",
            usage=HOURS_USAGE,
            key="hours",
        )
    start, end = (parse_clock(part, key="hours", usage=HOURS_USAGE) for part in parts)
    if end < start <= time(12, 59) and _afternoon(end, written=parts[1]) > start:
        # `9-5`, `9 to 5:30`: nobody means a day that ends before it starts; an end
        # hour under 12 written without am/pm, after a morning start, is the
        # afternoon's (`17-8` is a 24-hour clock, and refused). The reply shows the
        # hours as read (17:00), so a rep who meant otherwise sees it.
        end = _afternoon(end, written=parts[1])
    check_hours(start, end, key="hours")
    return start, end


_MERIDIEM = re.compile(r"[ap]\.?\s*m\b", re.I)


def _afternoon(end: time, *, written: str) -> time:
    """`end` twelve hours on, if it was an hour from 1 to 11 written without am/pm;
    else `end` as it is."""
    if _MERIDIEM.search(written) or not 1 <= end.hour <= 11:
        return end
    return end.replace(hour=end.hour + 12)


def check_hours(start: time, end: time, *, key: str | None = None) -> None:
    """One rule for the command and the form: a working day ends after it starts."""
    if end <= start:
        raise UsageError(
            f"The working day must end after it starts ({start:%H:%M} to {end:%H:%M}).",
            usage=HOURS_USAGE,
            field="work_end",
            key=key,
        )


def set_hours(
    session: Session, *, team_id: str, user_id: str, start: time, end: time
) -> SettingsInput:
    check_hours(start, end)
    prefs = ensure_prefs(session, team_id=team_id, user_id=user_id)
    prefs.work_start, prefs.work_end = start, end
    return SettingsInput.of(prefs)


def check_away(given: SettingsInput, *, today: date) -> None:
    """Time away: both days or neither, in order, held to the one range rule for dates
    (bot.services.dates, AWAY). The first day may have passed (time away under way);
    the last may not, and may be no further out than a team day off may be."""
    if (given.away_from is None) != (given.away_until is None):
        raise UsageError("Give both the first and the last day away.", field="away_until")
    if given.away_from is None or given.away_until is None:
        return
    try:
        DayReader(today).check(given.away_until, AWAY)
    except UsageError as error:
        raise UsageError(error.problem, field="away_until") from None
    if given.away_until < given.away_from:
        raise UsageError("The last day away comes after the first.", field="away_until")


def save_settings(
    session: Session, *, team_id: str, user_id: str, given: SettingsInput, today: date
) -> UserPrefs:
    """Store them, or raise UsageError naming the field (its modal block_id); `today`
    is the person's, for the dates of their time away."""
    check_hours(given.work_start, given.work_end)
    if not given.work_days:
        raise UsageError("Pick at least one working day.", field="work_days")
    if given.tz_override:
        try:
            ZoneInfo(given.tz_override)
        except (ZoneInfoNotFoundError, ValueError):
            raise UsageError(
                "That is not a time zone I know. Try a name like Europe/Berlin.",
                field="tz_override",
            ) from None
    check_away(given, today=today)
    if given.manager_id == user_id:
        raise UsageError("Pick someone other than yourself.", field="manager")
    prefs = ensure_prefs(session, team_id=team_id, user_id=user_id)
    prefs.work_start = given.work_start
    prefs.work_end = given.work_end
    prefs.work_days = given.work_days
    prefs.tz_override = given.tz_override or None
    prefs.away_from = given.away_from
    prefs.away_until = given.away_until
    prefs.manager_id = given.manager_id
    prefs.digest_opt_out = given.digest_opt_out
    return prefs
