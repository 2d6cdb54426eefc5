"""Column types shared by the models."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Date, DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """An instant, stored as naive UTC and always read back timezone-aware.

    SQLite has no time zone type; keeping every backend on naive UTC makes the
    comparisons in indexed "what is due" queries behave the same everywhere.
    """

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("UTCDateTime needs a timezone-aware datetime")
        as_utc = value.astimezone(UTC).replace(tzinfo=None)
        # freezegun hands out FakeDatetime; drivers other than sqlite3 reject it.
        return datetime(
            as_utc.year,
            as_utc.month,
            as_utc.day,
            as_utc.hour,
            as_utc.minute,
            as_utc.second,
            as_utc.microsecond,
        )

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC)


class CalendarDate(TypeDecorator[date]):
    """A calendar day; normalises freezegun's FakeDate to a plain date for every driver."""

    impl = Date
    cache_ok = True

    def process_bind_param(self, value: date | None, dialect: Dialect) -> date | None:
        if value is None:
            return None
        return date(value.year, value.month, value.day)
