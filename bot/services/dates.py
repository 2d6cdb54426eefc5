"""Reading the dates people type (`tomorrow`, `fri`, `in 3 days`, `2026-12-01`)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import dateparser

from bot.errors import UsageError

_SETTINGS = {
    "PREFER_DATES_FROM": "future",
    "RETURN_AS_TIMEZONE_AWARE": False,
    "PREFER_DAY_OF_MONTH": "first",
    "DATE_ORDER": "YMD",
}
_MAX_LENGTH = 40
_EXAMPLES = "Try `tomorrow`, `fri`, `in 3 days` or `2026-12-01`."


def parse_day(text: str, *, today: date) -> date:
    """The calendar day `text` names, read forward from `today`."""
    words = " ".join(text.split())
    if not words or len(words) > _MAX_LENGTH:
        raise UsageError(f"I couldn't read “{words[:_MAX_LENGTH]}” as a date. {_EXAMPLES}")
    base = datetime.combine(today, time(12, 0))
    try:
        parsed = dateparser.parse(
            words, languages=["en"], settings={**_SETTINGS, "RELATIVE_BASE": base}
        )
    except (ValueError, OverflowError):
        parsed = None
    if parsed is None:
        raise UsageError(f"I couldn't read “{words}” as a date. {_EXAMPLES}")
    return parsed.date()


def warm_up() -> None:
    """dateparser loads its language data on first use (~150 ms): do it before serving."""
    parse_day("tomorrow", today=date(2026, 1, 1))


def local_today(now: datetime, tz: ZoneInfo) -> date:
    return now.astimezone(tz).date()


def end_of_day(day: date, tz: ZoneInfo) -> datetime:
    """The instant `day` is over in `tz` (its next midnight), DST-correct."""
    return datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=tz)
