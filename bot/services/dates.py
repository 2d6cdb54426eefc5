"""Reading the dates people type: the one date reader of every command, modal and button.

What it reads, from today (a Thursday, 3 Dec 2026, in the examples):
- written dates, day or month first: `15 Dec`, `Dec 15`, `15 December`, `Tue 15 Dec 2026`;
- a day of the month: `the 15th`, `15th`;
- weekdays: `fri` (the coming one, today included), `next tue` (the one of next week),
  `last tue` (the latest before today); in a field of days gone by (the last contact),
  `tue` is the latest Tuesday, today included;
- relative days: `today`, `tomorrow`, `in 3 days`, `in 2 weeks`, `next week` (its Monday),
  `end of month`/`eom`, `end of quarter`/`eoq`, `end of year`;
- a part of a named month: `end of March` (its last day), `mid Jan` (the 15th),
  `start of April` (the 1st); a month alone (`March 2027`) is asked for its day;
- ISO dates (`2026-12-15`), and numeric ones (`12/10`, `15.12.`) read in the order of the
  person's own locale; when that is unknown and both orders make a date, it asks.

A date written without a year is its next occurrence (today included), unless it was
in the last month (RECENT): then it is that recent day. `31 Dec` typed in March is next
December, but `1 Dec` typed on the 5th is four days ago, not a year away. A field of
days that have been (the last contact) looks back a whole year instead. Every reading
then passes its field's range rule (`DateField`): a due date never in the past (so
`due: 1 Dec` on the 5th is refused as passed, saying so, rather than read as next
year's), never further out than the field allows, and the refusal names the date it
read.
"""

from __future__ import annotations

import calendar as month_lengths
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

import dateparser
from dateparser.languages.loader import default_loader
from dateutil.relativedelta import relativedelta

from bot.services.errors import UsageError
from messages.formats import full_day

MAX_LENGTH = 40
# How far back a date typed without a year may be read as already past (its field
# refusing it, if it takes no past days) rather than as next year's: a rep who types
# last week's date has mistyped it, and is told so.
RECENT = timedelta(days=31)
EXAMPLES = "Try `fri`, `15 Dec`, `in 3 days`, `end of month` or `2026-12-15`."


class NumericOrder(StrEnum):
    """How a person writes a date in numbers: `12/10` is 12 Oct day first, 10 Dec month first."""

    DAY_FIRST = "day_first"
    MONTH_FIRST = "month_first"


@dataclass(frozen=True)
class DateField:
    """A kind of date people type, and how far ahead it may be (or, for a day that has
    been, `past`, how far back)."""

    name: str  # as the range error starts it: "A due date"
    years: int
    key: str = ""  # the command's key for it, named in errors: `due:`
    past: bool = False  # a day that has been (the last contact): today or before
    either: bool = False  # a day either side of today (a renewal, ahead or just gone)

    @property
    def named(self) -> str:
        return f"{self.name} (`{self.key}:`)" if self.key else self.name

    @property
    def within(self) -> str:
        return "one year" if self.years == 1 else f"{('two', 'three')[self.years - 2]} years"

    @property
    def looks_back(self) -> timedelta:
        """How far back a date without a year is read as past (see RECENT): a field of
        days that have been takes the last one in its whole range."""
        return timedelta(days=366 * self.years) if self.past else RECENT

    def last_day(self, today: date) -> date:
        return today + relativedelta(years=self.years)

    def first_day(self, today: date) -> date:
        """For a `past` field: the earliest day it may be."""
        return today - relativedelta(years=self.years)


# One range rule for every date field.
DUE = DateField("A due date", years=2, key="due")
QBR = DateField("A QBR", years=2, key="next")
PAUSE = DateField("A pause", years=1, key="until")
HOLIDAY = DateField("A team day off", years=2)
SNOOZE = DateField("A snooze", years=1)
# Picked in forms, not typed (so no key): a person's time away is days off, held to
# the team days off's rule; the first day may have passed (time away under way).
AWAY = DateField("The last day away", years=HOLIDAY.years)
CONTACT = DateField("The last contact", years=1, past=True)
# A contract's renewal: ahead, or one that fell due and is being recorded after it.
RENEWAL = DateField("A renewal date", years=3, key="renewal", either=True)
LONGEST = max(DUE, QBR, PAUSE, HOLIDAY, SNOOZE, AWAY, key=lambda field: field.years)


class AmbiguousDate(UsageError):
    """Numbers that make a date in both orders, from someone whose order is unknown."""

    def __init__(
        self,
        typed: str,
        readings: tuple[date, date],
        *,
        today: date,
        usage: str | None = None,
        key: str | None = None,
    ):
        day_first, month_first = readings
        self.typed = typed
        self.readings = readings
        self.retyped = (short_day(day_first, today), short_day(month_first, today))
        super().__init__(
            f"“{typed}” could be {full_day(day_first)} or {full_day(month_first)}. "
            f"Which one? Write the month as a word: `{self.retyped[0]}` or `{self.retyped[1]}`.",
            usage=usage,
            key=key,
        )


def short_day(day: date, today: date) -> str:
    """The shortest way to type `day` that reads back as it in any locale: `15 Dec`,
    with the year when it is not the 15 Dec it reads as."""
    if _occurrence(day.month, day.day, today, RECENT) == day:
        return f"{day.day} {day:%b}"
    return f"{day.day} {day:%b %Y}"


def order_of_locale(locale: str | None) -> NumericOrder | None:
    """The numeric date order of a Slack locale (`en-US`, `en-GB`, `de-DE`…), from
    dateparser's CLDR data; None when unknown. Year-first locales (ja, zh, ko) write
    the month before the day."""
    if not locale:
        return None
    name = locale.replace("_", "-")
    for candidate in (name, name.split("-")[0]):
        try:
            order = default_loader.get_locale(candidate).info.get("date_order", "")
        except (ValueError, KeyError):
            continue
        if order:
            return (
                NumericOrder.DAY_FIRST
                if order.index("D") < order.index("M")
                else (NumericOrder.MONTH_FIRST)
            )
    return None


# --- the grammar -------------------------------------------------------------------------

_WEEKDAYS = {
    name: number
    for number, names in enumerate(
        (
            ("mon", "monday"),
            ("tue", "tues", "tuesday"),
            ("wed", "weds", "wednesday"),
            ("thu", "thur", "thurs", "thursday"),
            ("fri", "friday"),
            ("sat", "saturday"),
            ("sun", "sunday"),
        )
    )
    for name in names
}
_NUMBERS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
}  # fmt: skip
# Words people put before a date that change nothing: `due: by fri`, `next: on 20 Jan`.
_FILLERS = re.compile(r"^(?:by|on|due|for)\s+")
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_NUMERIC = re.compile(r"(\d{1,2})\s*([/.\-])\s*(\d{1,2})(?:\s*\2\s*(\d{4}|\d{2}))?\.?")
_ORDINAL = re.compile(r"(?:the\s+)?(\d{1,2})(?:st|nd|rd|th)?(?:\s+of\s+(?:the|this)\s+month)?")
_WEEKDAY = re.compile(r"(?:(this|next|coming|last|on)\s+)?([a-z]+)")
_RELATIVE = re.compile(
    r"(?:in\s+)?(\d{1,3}|" + "|".join(_NUMBERS) + r")\s+(day|week|month|year)s?"
    r"(?:\s+(?:from\s+(?:now|today)|later|time))?"
)
_LEADING_WEEKDAY = re.compile(r"([a-z]+),?\s+(.*\d.*)")
_HAS_YEAR = re.compile(r"(?<!\d)(?:19|20)\d\d(?!\d)")
_MONTH_NAME = re.compile(r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)")
_LETTERS = re.compile(r"[a-z]")
# `end of March`, `mid Jan 2027`, `start of april`: a day placed in a named month.
_PART_OF_MONTH = re.compile(
    r"(end|start|beginning|mid|middle)(?:\s+of\s+|-|\s+)(?:the\s+)?([a-z]+)\.?(?:\s+(\d{4}))?"
)
# `March`, `March 2027`: a month and no day, which a due date needs.
_MONTH_ALONE = re.compile(r"(?:in\s+)?([a-z]+)\.?(?:\s+(\d{4}))?")


def _month_number(word: str) -> int | None:
    """1-12 for a month's name or its start (`mar`, `sept`, `december`), else None."""
    if len(word) < 3:
        return None
    for number in range(1, 13):
        if month_lengths.month_name[number].lower().startswith(word):
            return number
    return None


def _part_of_month(words: str, today: date, back: timedelta) -> date | None:
    """`end of March` (its last day), `mid March` (the 15th), `start of March` (the
    1st); without a year, read as any date without one is (RECENT)."""
    match = _PART_OF_MONTH.fullmatch(words)
    month = _month_number(match.group(2)) if match else None
    if match is None or month is None:
        return None
    part, year = match.group(1), _year(match.group(3), today)
    if part == "end":
        last = month_lengths.monthrange(year or today.year, month)[1]
        if year is None:
            # The coming (or just past) end of that month, February's length included.
            found = _occurrence(month, 28, today, back)
            return (
                found.replace(day=month_lengths.monthrange(found.year, month)[1]) if found else None
            )
        return date(year, month, last)
    day = 15 if part in ("mid", "middle") else 1
    return date(year, month, day) if year else _occurrence(month, day, today, back)


def month_alone(text: str) -> str | None:
    """The month as a date writes it (`Mar 2027`) when `text` names a month and no
    day (`March 2027`), else None."""
    match = _MONTH_ALONE.fullmatch(" ".join(text.lower().split()))
    month = _month_number(match.group(1)) if match else None
    if match is None or month is None:
        return None
    return " ".join(filter(None, (month_lengths.month_abbr[month], match.group(2))))


def _end_of_month(day: date) -> date:
    return day.replace(day=month_lengths.monthrange(day.year, day.month)[1])


def _end_of_quarter(day: date) -> date:
    return _end_of_month(day.replace(month=(day.month - 1) // 3 * 3 + 3, day=1))


def _next_monday(today: date) -> date:
    return today + timedelta(days=7 - today.weekday())


_SHORTCUTS = {
    ("today", "tonight", "eod", "end of day", "end of today"): lambda t: t,
    ("tomorrow", "tmrw", "tmr", "tomorow", "tommorow", "tommorrow"): lambda t: (
        t + timedelta(days=1)
    ),
    ("day after tomorrow", "the day after tomorrow"): lambda t: t + timedelta(days=2),
    ("next week", "early next week", "start of next week"): _next_monday,
    ("eow", "end of week", "end of the week", "end of this week", "this week"): lambda t: (
        t + timedelta(days=(4 - t.weekday()) % 7)
    ),
    ("end of next week",): lambda t: _next_monday(t) + timedelta(days=4),
    ("eom", "end of month", "end of the month", "end of this month", "month end"): _end_of_month,
    ("next month", "start of next month"): lambda t: _end_of_month(t) + timedelta(days=1),
    ("end of next month",): lambda t: _end_of_month(_end_of_month(t) + timedelta(days=1)),
    ("eoq", "end of quarter", "end of the quarter", "end of this quarter", "quarter end"): (
        _end_of_quarter
    ),
    ("end of next quarter",): lambda t: _end_of_quarter(_end_of_quarter(t) + timedelta(days=1)),
    ("eoy", "end of year", "end of the year", "end of this year", "year end"): lambda t: date(
        t.year, 12, 31
    ),
}
_SHORTCUT = {phrase: rule for phrases, rule in _SHORTCUTS.items() for phrase in phrases}


def _next_occurrence(month: int, day: int, today: date) -> date | None:
    """The first `day` of `month` from today on (29 Feb waits for a leap year)."""
    for year in range(today.year, today.year + 5):
        try:
            found = date(year, month, day)
        except ValueError:
            continue
        if found >= today:
            return found
    return None


def _occurrence(month: int, day: int, today: date, back: timedelta) -> date | None:
    """`day` of `month` without a year: the last one if it was at most `back` ago, else
    the next (see the module's docstring)."""
    try:
        last = date(today.year, month, day)
        if last >= today:
            last = date(today.year - 1, month, day)
    except ValueError:  # 29 Feb outside a leap year: only the next
        last = None
    if last is not None and today - last <= back:
        return last
    return _next_occurrence(month, day, today)


def _next_day_of_month(day: int, today: date) -> date | None:
    """The next `day`th of a month from today on, skipping months too short for it."""
    if not 1 <= day <= 31:
        return None
    first = today.replace(day=1)
    for ahead in range(0, 13):
        month = first + relativedelta(months=ahead)
        if day <= month_lengths.monthrange(month.year, month.month)[1]:
            found = month.replace(day=day)
            if found >= today:
                return found
    return None


def _weekday(words: str, today: date) -> date | None:
    match = _WEEKDAY.fullmatch(words)
    if match is None or match.group(2) not in _WEEKDAYS:
        return None
    target = _WEEKDAYS[match.group(2)]
    if match.group(1) == "next":
        return _next_monday(today) + timedelta(days=target)
    if match.group(1) == "last":
        return today - timedelta(days=(today.weekday() - target - 1) % 7 + 1)
    return today + timedelta(days=(target - today.weekday()) % 7)


def _weekday_gone_by(words: str, day: date, today: date) -> date:
    """For a field of days that have been (the last contact): a bare weekday (`tue`)
    is the last one, today included, not the coming one; `next tue` stays ahead, and
    is refused as such."""
    match = _WEEKDAY.fullmatch(words)
    if day <= today or match is None or match.group(1) in ("next", "coming"):
        return day
    return day - timedelta(days=7)


def _relative(words: str, today: date) -> date | None:
    match = _RELATIVE.fullmatch(words)
    if match is None:
        return None
    count = _NUMBERS.get(match.group(1)) or int(match.group(1))
    unit = match.group(2)
    if unit in ("day", "week"):
        return today + timedelta(days=count * (7 if unit == "week" else 1))
    step = relativedelta(months=count) if unit == "month" else relativedelta(years=count)
    return today + step


def _year(text: str | None, today: date) -> int | None:
    if text is None:
        return None
    year = int(text)
    return year + (today.year // 100 * 100) if year < 100 else year


def _numeric(
    match: re.Match[str], today: date, order: NumericOrder | None, typed: str, back: timedelta
) -> date | None:
    first, second = int(match.group(1)), int(match.group(3))
    year = _year(match.group(4), today)

    def make(day: int, month: int) -> date | None:
        if year is None:
            return _occurrence(month, day, today, back) if 1 <= month <= 12 else None
        try:
            return date(year, month, day)
        except ValueError:
            return None

    day_first, month_first = make(first, second), make(second, first)
    if order is NumericOrder.DAY_FIRST and day_first is not None:
        return day_first
    if order is NumericOrder.MONTH_FIRST and month_first is not None:
        return month_first
    if day_first is None or month_first is None or day_first == month_first:
        # Only one order makes a date (`15/12`): that one, whoever typed it.
        return day_first or month_first
    raise AmbiguousDate(typed, (day_first, month_first), today=today)


def _written(words: str, today: date, back: timedelta) -> date | None:
    """Dates with a month name (`15 Dec`, `December 15th`, `15 Dec 2026`), by dateparser."""
    if not _LETTERS.search(words):
        return None  # bare numbers are the numeric rule's, never dateparser's guess
    try:
        parsed = dateparser.parse(
            words,
            languages=["en"],
            settings={
                "PREFER_DATES_FROM": "future",
                "RETURN_AS_TIMEZONE_AWARE": False,
                "DATE_ORDER": "DMY",
                "REQUIRE_PARTS": ["day", "month"],
                "RELATIVE_BASE": datetime.combine(today, time(12, 0)),
            },
        )
    except (ValueError, OverflowError):  # `in 99999 years` and the like
        parsed = None
    if parsed is None:
        return None
    if _HAS_YEAR.search(words) or not _MONTH_NAME.search(words):
        return parsed.date()  # a year written, or a relative day (`a week from fri`)
    return _occurrence(parsed.month, parsed.day, today, back)


def _read(
    words: str, today: date, order: NumericOrder | None, typed: str, back: timedelta = RECENT
) -> date | None:
    """The day `words` (lower case, single spaces) names, or None; no range check. A date
    without a year is the last one if it was at most `back` ago, else the next."""
    words = _FILLERS.sub("", words.strip(" ,!?")).rstrip(" ,")
    if words in _SHORTCUT:
        return _SHORTCUT[words](today)
    if iso := _ISO.fullmatch(words):
        try:
            return date(*(int(part) for part in iso.groups()))
        except ValueError:
            return None
    if numeric := _NUMERIC.fullmatch(words):
        return _numeric(numeric, today, order, typed, back)
    if ordinal := _ORDINAL.fullmatch(words):
        return _next_day_of_month(int(ordinal.group(1)), today)
    found = _weekday(words, today) or _relative(words, today) or _part_of_month(words, today, back)
    if found is not None:
        return found
    leading = _LEADING_WEEKDAY.fullmatch(words)
    if leading is not None and leading.group(1) in _WEEKDAYS:
        # `Tue 15 Dec`: read the date, then hold it to the weekday written with it.
        rest = _read(leading.group(2), today, order, typed, back)
        if rest is not None and rest.weekday() != _WEEKDAYS[leading.group(1)]:
            raise UsageError(f"“{typed}”: {full_day(rest)} is a {rest:%A}. Which day did you mean?")
        return rest
    return _written(words, today, back)


# Words that put a date at the end of a sentence: `call them on fri`, `send it by 15 Dec`.
_DATE_PREPOSITIONS = frozenset({"by", "on", "before", "until", "till", "due"})


@dataclass(frozen=True)
class DateAtEnd:
    """A sentence split before the date it ends with (see DayReader.date_at_end)."""

    before: str
    day: str


@dataclass(frozen=True)
class DayReader:
    """Reads one person's dates: their today (in their time zone) and their locale's
    numeric order (None until Slack has told us)."""

    today: date
    order: NumericOrder | None = None

    def read(self, text: str, field: DateField, *, usage: str | None = None) -> date:
        """The day `text` names for `field`, or a UsageError that says what was read."""
        typed = " ".join(text.split())
        if not typed or len(typed) > MAX_LENGTH:
            raise UsageError(
                f"I couldn't read “{typed[:MAX_LENGTH]}” as a date. {EXAMPLES}",
                usage=usage,
                key=field.key or None,
            )
        try:
            day = _read(typed.lower(), self.today, self.order, typed, field.looks_back)
            if day is not None and field.past:
                day = _weekday_gone_by(" ".join(typed.lower().split()), day, self.today)
        except AmbiguousDate as asked:
            readings = tuple(d for d in asked.readings if self._fault(d, field) is None)
            if len(readings) == 1:  # only one reading is a day this field can take
                return readings[0]
            raise AmbiguousDate(
                typed, asked.readings, today=self.today, usage=usage, key=field.key or None
            ) from None
        except UsageError as error:
            raise UsageError(error.problem, usage=usage, key=field.key or None) from None
        if day is None and (month := month_alone(typed)):
            raise UsageError(
                f"“{typed}” is a month, and I need a day in it: `1 {month}`, `mid {month}` "
                f"or `end of {month}`.",
                usage=usage,
                key=field.key or None,
            )
        if day is None:
            raise UsageError(
                f"I couldn't read “{typed}” as a date. {EXAMPLES}",
                usage=usage,
                key=field.key or None,
            )
        return self.check(day, field, typed=typed, usage=usage)

    def read_leading(
        self, text: str, field: DateField, *, usage: str | None = None, most_words: int = 5
    ) -> tuple[date, str]:
        """The date the text starts with (the longest run of words that reads as one),
        and the words after it: `24 Dec Office closed` -> (24 Dec, "Office closed")."""
        words = text.split()
        for size in range(min(len(words), most_words), 0, -1):
            head = " ".join(words[:size])
            try:
                found = _read(head.lower(), self.today, self.order, head) is not None
            except AmbiguousDate:
                found = True  # a date, in two ways: read() below asks which
            except UsageError:
                found = False
            if found:
                return self.read(head, field, usage=usage), " ".join(words[size:])
        return self.read(" ".join(words[:most_words]), field, usage=usage), ""

    def date_at_end(
        self, text: str, *, keep_words: int = 0, most_words: int = 5
    ) -> DateAtEnd | None:
        """The date a sentence ends with, written without its field's key: `send the deck
        by 15 Dec` -> (`send the deck`, `15 Dec`). The longest run of last words that
        reads as a day, a `by`/`on`/`before`/`until` in front of it left out; None when
        the text does not end in one, or when no word would be left after the first
        `keep_words` (the account's). A bare number (`version 2`) counts only after such
        a word (`by 2`)."""
        words = text.split()
        for size in range(min(len(words) - keep_words - 1, most_words), 0, -1):
            before, phrase = words[:-size], words[-size:]
            if phrase[0].lower() in _DATE_PREPOSITIONS:
                continue  # the shorter run without it is tried next
            led = before[-1].lower() in _DATE_PREPOSITIONS
            if phrase[-1].isdigit() and len(phrase) == 1 and not led:
                continue
            typed = " ".join(phrase)
            try:
                found = _read(typed.lower(), self.today, self.order, typed) is not None
            except UsageError:  # a date in two ways (`5/6`), or a weekday that does not fit
                found = True
            if not found:
                continue
            if led:
                before = before[:-1]
                if len(before) <= keep_words:  # `Acme by fri`: nothing said of what
                    return None
            return DateAtEnd(before=" ".join(before), day=typed)
        return None

    def check(
        self, day: date, field: DateField, *, typed: str | None = None, usage: str | None = None
    ) -> date:
        """`day` if `field` can take it; else a UsageError naming the day read."""
        fault = self._fault(day, field)
        if fault is None:
            return day
        read = f"“{typed}” reads as {full_day(day)}" if typed else full_day(day)
        raise UsageError(f"{read}, {fault}", usage=usage, key=field.key or None)

    def _fault(self, day: date, field: DateField) -> str | None:
        if field.past:
            return self._past_fault(day, field)
        if field.either:
            first, last = field.first_day(self.today), field.last_day(self.today)
            if first <= day <= last:
                return None
            return (
                f"more than {field.within} {'ago' if day < first else 'away'}. {field.named} "
                f"must be from {full_day(first)} to {full_day(last)}."
            )
        if day < self.today:
            return (
                f"which has passed. {field.named} must be from today ({full_day(self.today)}) on."
            )
        last = field.last_day(self.today)
        if day > last:
            return (
                f"more than {field.within} away. {field.named} must be within {field.within}, "
                f"by {full_day(last)}."
            )
        return None

    def _past_fault(self, day: date, field: DateField) -> str | None:
        if day > self.today:
            return (
                f"which is still ahead. {field.named} must be today ({full_day(self.today)}) "
                "or before."
            )
        first = field.first_day(self.today)
        if day < first:
            return (
                f"more than {field.within} ago. {field.named} must be within {field.within}, "
                f"from {full_day(first)} on."
            )
        return None


def parse_day(text: str, *, today: date) -> date:
    """Any day `text` names, within the widest range a field allows (for tools and tests)."""
    return DayReader(today).read(text, LONGEST)


def warm_up() -> None:
    """dateparser loads its language data on first use (~150 ms): do it before serving."""
    parse_day("15 Dec", today=date(2026, 12, 1))


def end_of_day(day: date, tz: ZoneInfo) -> datetime:
    """The instant `day` is over in `tz` (its next midnight), DST-correct."""
    return datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=tz)
