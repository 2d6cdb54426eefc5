"""Working time: when a person can be nudged, in their own time zone.

Nudges land inside the recipient's working hours on their working days, never on a
public or team holiday or while they are away. Instants are built from local dates
and wall-clock times through zoneinfo, so a change to or from daylight saving time
never moves a 09:00 nudge to 08:00 or 10:00.

This is also the one rule for every date the product picks itself (a check-in, the
next QBR, a reminder ahead of an event): `on_or_after` and `on_or_before` move such a
date to the owner's nearest working day, and `why_not_working` says why it moved.
Wording such a date by its distance from today is `relative_day` in messages/formats.py.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import holidays

# Far enough to step over a long leave; a calendar with no working day in a year
# is a misconfiguration, and nudges then go out at the next plain weekday morning.
MAX_DAYS_SEARCHED = 400


@cache
def public_holidays(country: str) -> holidays.HolidayBase:
    return holidays.country_holidays(country)


@dataclass(frozen=True)
class WorkCalendar:
    tz: ZoneInfo
    start: time = time(9, 0)
    end: time = time(18, 0)
    days: frozenset[int] = frozenset(range(5))  # Monday = 0
    country: str | None = None
    team_days_off: frozenset[date] = frozenset()
    away_from: date | None = None
    away_until: date | None = None
    # Answers already worked out: a sweep asks the same few days for thousands of items.
    _memo: dict[tuple[object, ...], object] = field(
        default_factory=dict, compare=False, hash=False, repr=False
    )

    def is_working_day(self, day: date) -> bool:
        key = ("working", day)
        if key not in self._memo:
            self._memo[key] = self._is_working_day(day)
        return bool(self._memo[key])

    def _is_working_day(self, day: date) -> bool:
        if day.weekday() not in self.days or day in self.team_days_off:
            return False
        if self.country and day in public_holidays(self.country):
            return False
        if self.away_from and self.away_until and self.away_from <= day <= self.away_until:
            return False
        return True

    def opening(self, day: date) -> datetime:
        key = ("opening", day)
        if key not in self._memo:
            self._memo[key] = datetime.combine(day, self.start, tzinfo=self.tz)
        opening = self._memo[key]
        assert isinstance(opening, datetime)
        return opening

    def closing(self, day: date) -> datetime:
        return datetime.combine(day, self.end, tzinfo=self.tz)

    def next_open(self, instant: datetime) -> datetime:
        """The earliest moment at or after `instant` inside working hours."""
        local = instant.astimezone(self.tz)
        day = local.date()
        if self.is_working_day(day) and self.opening(day) <= local < self.closing(day):
            return instant
        if self.is_working_day(day) and local < self.opening(day):
            return self.opening(day)
        return self.opening(self.working_day_after(day, 1))

    def after_working(self, start: datetime, minutes: int) -> datetime:
        """The instant `minutes` of working time after `start`, counted from the first
        working moment at or after it: a question asked on Friday evening against a
        four-hour norm is due on Monday at 13:00 (hours 9 to 18), not on Saturday."""
        left = timedelta(minutes=max(minutes, 0))
        at = self.next_open(start).astimezone(UTC)
        for _ in range(MAX_DAYS_SEARCHED):
            day = at.astimezone(self.tz).date()
            room = self.closing(day).astimezone(UTC) - at
            if left <= room:
                return at + left
            left -= room
            at = self.opening(self.working_day_after(day, 1)).astimezone(UTC)
        return at

    def working_minutes(self, start: datetime, end: datetime) -> int:
        """Whole minutes of working time from `start` to `end` (none if `end` is not
        later): what a reply took, counted the way its norm is."""
        if end <= start:
            return 0
        day, last = start.astimezone(self.tz).date(), end.astimezone(self.tz).date()
        worked = timedelta()
        while day <= last:
            if self.is_working_day(day):
                begins = max(self.opening(day).astimezone(UTC), start.astimezone(UTC))
                ends = min(self.closing(day).astimezone(UTC), end.astimezone(UTC))
                if ends > begins:
                    worked += ends - begins
            day += timedelta(days=1)
        return int(worked.total_seconds() // 60)

    def working_day_after(self, day: date, count: int) -> date:
        """The `count`-th working day after `day` (day itself not counted)."""
        key = ("after", day, count)
        if key not in self._memo:
            self._memo[key] = self._working_day_after(day, count)
        after = self._memo[key]
        assert isinstance(after, date)
        return after

    def _working_day_after(self, day: date, count: int) -> date:
        found = 0
        current = day
        for _ in range(MAX_DAYS_SEARCHED):
            current += timedelta(days=1)
            if self.is_working_day(current):
                found += 1
                if found == count:
                    return current
        fallback = day + timedelta(days=1)
        while fallback.weekday() >= 5:
            fallback += timedelta(days=1)
        return fallback

    def working_day_before(self, day: date) -> date:
        """The last working day before `day` (day itself not counted)."""
        key = ("before", day)
        if key not in self._memo:
            self._memo[key] = self._working_day_before(day)
        before = self._memo[key]
        assert isinstance(before, date)
        return before

    def _working_day_before(self, day: date) -> date:
        current = day
        for _ in range(MAX_DAYS_SEARCHED):
            current -= timedelta(days=1)
            if self.is_working_day(current):
                return current
        fallback = day - timedelta(days=1)
        while fallback.weekday() >= 5:
            fallback -= timedelta(days=1)
        return fallback

    def on_or_after(self, day: date) -> date:
        """`day` if it is a working day, else the next one."""
        return day if self.is_working_day(day) else self.working_day_after(day, 1)

    def on_or_before(self, day: date) -> date:
        """`day` if it is a working day, else the last one before it."""
        return day if self.is_working_day(day) else self.working_day_before(day)

    def why_not_working(self, day: date, *, whose: str = "your") -> str | None:
        """Why `day` is not a working day, in words ("a Sunday", "Christmas Day");
        None when it is one. `whose`: the calendar's person as the reader calls them
        ("your", or "the owner's" when someone else changed the owner's account)."""
        if self.is_working_day(day):
            return None
        if self.away_from and self.away_until and self.away_from <= day <= self.away_until:
            return f"during {whose} time away"
        if self.country and day in public_holidays(self.country):
            return f"a public holiday ({public_holidays(self.country).get(day)})"
        if day in self.team_days_off:
            return "a team day off"
        return f"a {day:%A}, not one of {whose} working days"

    def today(self, now: datetime) -> date:
        return now.astimezone(self.tz).date()


def parse_work_days(text: str) -> frozenset[int]:
    return frozenset(int(ch) for ch in text if ch.isdigit() and int(ch) < 7)


def days_off(days: Iterable[date]) -> frozenset[date]:
    return frozenset(days)


def whose_calendar(reader_id: str, owner_id: str) -> str:
    """How a reply names the owner whose calendar moved a date: the reader, or not."""
    return "your" if reader_id == owner_id else "the owner's"
