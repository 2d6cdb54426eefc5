"""How Rapport writes values back to people: one format each, shared by templates and errors."""

from __future__ import annotations

from datetime import date, datetime


def full_day(value: date | datetime) -> str:
    """A day in full, weekday and year included ("Tue 15 Dec 2026"), so that a misread
    date shows at once; the `day` filter of every template. It reads back to itself
    through bot.services.dates."""
    return f"{value:%a} {value.day} {value:%b %Y}"


def day_time(value: datetime) -> str:
    """ "Mon 7 Dec 09:00": the day as `full_day` writes it (without the year), then the
    time; the `day_time` filter."""
    return f"{value:%a} {value.day} {value:%b %H:%M}"
