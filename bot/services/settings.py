"""A person's scheduling settings, checked before they are saved."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.orm import Session

from bot.errors import UsageError
from bot.services.people import ensure_prefs
from storage.scheduling_models import UserPrefs


@dataclass(frozen=True)
class SettingsInput:
    work_start: time
    work_end: time
    work_days: str
    tz_override: str | None
    away_from: date | None
    away_until: date | None
    manager_id: str | None
    digest_opt_out: bool


def save_settings(
    session: Session, *, team_id: str, user_id: str, given: SettingsInput
) -> UserPrefs:
    """Store them, or raise UsageError naming the field (its modal block_id)."""
    if given.work_end <= given.work_start:
        raise UsageError("The working day must end after it starts.", field="work_end")
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
    if (given.away_from is None) != (given.away_until is None):
        raise UsageError("Give both the first and the last day away.", field="away_until")
    if given.away_from and given.away_until and given.away_until < given.away_from:
        raise UsageError("The last day away comes after the first.", field="away_until")
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
