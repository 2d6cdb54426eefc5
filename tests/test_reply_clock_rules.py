"""The reply clock's rules, without Slack: working time counted in the owner's hours
and days (bot/services/calendar.py), the norm as people write it, the response-time
tally, and its part of the health score."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.services import questions
from bot.services.calendar import WorkCalendar
from bot.services.errors import UsageError
from bot.services.health import PARTS, Raw, combine, replies_part
from bot.services.questions import ReplyTally, read_norm, tally

BERLIN = ZoneInfo("Europe/Berlin")
PLAIN = WorkCalendar(tz=ZoneInfo("UTC"))  # 09:00-18:00, Monday to Friday


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("asked", "due"),
    [
        ("2026-12-03T10:00", "2026-12-03T14:00"),  # inside the day
        ("2026-12-03T16:00", "2026-12-04T11:00"),  # two hours today, two tomorrow
        ("2026-12-04T16:00", "2026-12-07T11:00"),  # Friday: the weekend is not counted
        ("2026-12-05T11:00", "2026-12-07T13:00"),  # Saturday: from Monday's opening
        ("2026-12-03T07:30", "2026-12-03T13:00"),  # before hours: from the opening
        ("2026-12-03T14:00", "2026-12-03T18:00"),  # runs out exactly at the close
    ],
)
def test_four_working_hours_run_out_in_working_time(asked: str, due: str) -> None:
    assert PLAIN.after_working(utc(asked), 240) == utc(due)


def test_a_holiday_or_time_away_stops_the_clock_like_a_weekend() -> None:
    away = WorkCalendar(
        tz=ZoneInfo("UTC"), away_from=date(2026, 12, 7), away_until=date(2026, 12, 8)
    )
    assert away.after_working(utc("2026-12-04T16:00"), 240) == utc("2026-12-09T11:00")
    german = WorkCalendar(tz=BERLIN, country="DE")
    # 24 Dec is a working day in Germany's calendar; 25 and 26 Dec are holidays.
    asked = datetime(2026, 12, 24, 16, tzinfo=BERLIN)
    assert german.after_working(asked, 240) == datetime(2026, 12, 28, 11, tzinfo=BERLIN)


def test_working_minutes_count_only_the_owners_hours() -> None:
    assert PLAIN.working_minutes(utc("2026-12-04T16:00"), utc("2026-12-07T10:30")) == 210
    assert PLAIN.working_minutes(utc("2026-12-05T10:00"), utc("2026-12-06T10:00")) == 0
    assert PLAIN.working_minutes(utc("2026-12-03T12:00"), utc("2026-12-03T11:00")) == 0


def test_the_clock_keeps_its_hour_across_a_daylight_saving_change() -> None:
    berlin = WorkCalendar(tz=BERLIN)
    # Friday 27 March 2026, 16:00; the clocks go forward on Sunday 29 March.
    asked = datetime(2026, 3, 27, 16, tzinfo=BERLIN)
    assert berlin.after_working(asked, 240) == datetime(2026, 3, 30, 11, tzinfo=BERLIN)
    assert berlin.working_minutes(asked, datetime(2026, 3, 30, 11, tzinfo=BERLIN)) == 240


@given(
    start=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31)),
    minutes=st.integers(min_value=0, max_value=questions.MAX_NORM_MINUTES),
)
def test_the_time_a_norm_allows_is_that_norm_of_working_time(start: datetime, minutes: int) -> None:
    berlin = WorkCalendar(tz=BERLIN, country="DE")
    begins = start.replace(tzinfo=UTC)
    due = berlin.after_working(begins, minutes)
    assert berlin.working_minutes(begins, due) == minutes


@pytest.mark.parametrize(
    ("typed", "minutes"),
    [
        ("4h", 240),
        ("4 hours", 240),
        ("1 hour", 60),
        ("90m", 90),
        ("90 min", 90),
        ("1h30", 90),
        ("1h 30m", 90),
        ("1:30", 90),
        ("2.5h", 150),
        ("2,5 h", 150),
        ("4", 240),
        ("40h", 2400),
    ],
)
def test_a_norm_is_read_as_people_write_it(typed: str, minutes: int) -> None:
    assert read_norm(typed) == minutes


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("soon", "not a length of time"),
        ("", "not a length of time"),
        ("half a day", "not a length of time"),
        ("10m", "as 10 working minutes"),
        ("41h", "as 41 working hours"),
        ("90", "as 90 working hours"),
    ],
)
def test_a_norm_that_does_not_read_says_what_was_read(typed: str, says: str) -> None:
    with pytest.raises(UsageError) as refused:
        read_norm(typed)
    assert says in refused.value.problem and refused.value.key == "norm"


def test_the_tally_counts_answers_and_questions_past_their_clock() -> None:
    now = utc("2026-12-03T17:00")
    rows = [
        (utc("2026-12-03T14:00"), utc("2026-12-03T11:00"), 60),  # within
        (utc("2026-12-03T14:00"), utc("2026-12-03T15:00"), 300),  # late
        (utc("2026-12-03T14:00"), utc("2026-12-03T13:00"), 180),  # within
        (utc("2026-12-03T16:00"), None, None),  # waiting past its clock
        (utc("2026-12-03T18:00"), None, None),  # still inside it: not counted yet
    ]
    counted = tally(rows, now)
    assert counted == ReplyTally(answered=3, within=2, waiting_late=1, median_minutes=180)
    assert counted.late == 1 and counted.counted == 4
    assert tally([], now).empty


def test_replies_are_a_tenth_of_a_full_score_and_change_nothing_without_questions() -> None:
    full = {key: Raw(1.0, "") for key in PARTS}
    replies = next(p for p in combine(1, full).parts if p.key == "replies")
    assert replies.weight == pytest.approx(10)
    kept = next(p for p in combine(1, full).parts if p.key == "kept")
    assert kept.weight == pytest.approx(22.5)
    # No question on record: every other part weighs what it did before the part came.
    without = {**full, "replies": Raw(None, "")}
    kept = next(p for p in combine(1, without).parts if p.key == "kept")
    assert kept.weight == pytest.approx(25)


def test_a_late_answer_earns_half_and_a_question_still_owed_nothing() -> None:
    assert replies_part(ReplyTally(2, 2, 0, 30)).fraction == 1
    assert replies_part(ReplyTally(2, 1, 0, 30)).fraction == 0.75
    late = replies_part(ReplyTally(1, 0, 1, 400))
    assert late.fraction == 0.25
    assert late.detail == (
        "0 of 2 client questions in the last 90 days answered within the team's norm "
        "(1 late); 1 still waiting past the norm; median reply after 6h 40m of working time"
    )
    assert replies_part(ReplyTally()).fraction is None
