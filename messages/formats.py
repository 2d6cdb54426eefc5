"""How Rapport writes values back to people: one format each, shared by templates and errors."""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo


def full_day(value: date | datetime) -> str:
    """A day in full, weekday and year included ("Tue 15 Dec 2026"), so that a misread
    date shows at once; the `day` filter of every template. It reads back to itself
    through bot.services.dates."""
    return f"{value:%a} {value.day} {value:%b %Y}"


def day_time(value: datetime, tz: tzinfo | None = None, *, year: bool = False) -> str:
    """ "Mon 7 Dec 09:00": the day as `full_day` writes it (without the year, unless
    `year`), then the time; the `day_time` filter. With `tz`, the instant is shown in
    that zone (a stored time without one is UTC), as the reader lives it."""
    if tz is not None:
        value = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(tz)
    day = full_day(value) if year else f"{value:%a} {value.day} {value:%b}"
    return f"{day} {value:%H:%M}"


def relative_day(day: date, today: date) -> str:
    """`day` in words by its real distance from `today`, as a message is read:
    "today", "tomorrow", "on Monday", "in 12 days", "yesterday", "3 days ago".

    Never a fixed "tomorrow": a reminder held over a weekend says "today" on the day.
    Within the coming week the weekday is named, since that is how people plan it.
    """
    days = (day - today).days
    if days == 0:
        return "today"
    if days == 1:
        return "tomorrow"
    if days == -1:
        return "yesterday"
    if 1 < days < 7:
        return f"on {day:%A}"
    if days >= 7:
        return f"in {days} days"
    return f"{-days} days ago"


def duration(minutes: int) -> str:
    """A stretch of time as a reply's clock counts it: "45m", "2h", "2h 10m"."""
    hours, rest = divmod(max(int(minutes), 0), 60)
    if not hours:
        return f"{rest}m"
    return f"{hours}h {rest}m" if rest else f"{hours}h"


def reply_took(minutes: int | None) -> str:
    """What a reply took, as every reply line says it: "after 2h 10m of working time";
    none counted (asked and answered outside working hours, or within the minute) is
    "before any working time passed", never "after 0m"."""
    if not minutes:
        return "before any working time passed"
    return f"after {duration(minutes)} of working time"


def norm_words(minutes: int) -> str:
    """A reply norm in words: "4 working hours", "1 working hour", "90 working minutes"."""
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} working hour{'s' * (hours != 1)}"
    if minutes < 60:
        return f"{minutes} working minute{'s' * (minutes != 1)}"
    return f"{duration(minutes)} of working time"
