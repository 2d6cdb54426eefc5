"""One calendar rule for every date the product picks: working days of the owner,
moved dates said out loud, words that follow the real distance, lead times that
shrink when the event is near. Services only, no Slack."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from bot.services import due, followups, rhythm
from bot.services.calendar import WorkCalendar
from messages.formats import relative_day
from storage.models import Qbr

UTC_ZONE = ZoneInfo("UTC")
THU_3_DEC = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)  # "today" in the story
PLAIN = WorkCalendar(tz=UTC_ZONE)


def qbr_on(day: date, *, calendar: WorkCalendar = PLAIN, now: datetime = THU_3_DEC) -> Qbr:
    review = Qbr(cadence="quarter", held_count=0, on_time_count=0, missed_count=0)
    review.next_on = day
    review.lead_days = rhythm.fit_lead_days(day, calendar, now)
    return review


def test_a_qbr_on_a_monday_is_reminded_the_friday_before_not_on_sunday() -> None:
    reminders = rhythm.qbr_reminders(qbr_on(date(2026, 12, 14)), PLAIN)
    assert [(r.kind, r.day) for r in reminders] == [
        ("qbr_lead", date(2026, 12, 7)),
        ("qbr_eve", date(2026, 12, 11)),
        ("qbr_after", date(2026, 12, 15)),
        ("qbr_lapsed", date(2026, 12, 22)),
    ]
    assert all(r.at.hour == 9 for r in reminders)


def test_lead_times_shrink_when_the_qbr_is_near() -> None:
    tuesday = qbr_on(date(2026, 12, 8))
    ahead = rhythm.reminders_ahead(tuesday, PLAIN, THU_3_DEC)
    assert [(r.kind, r.day) for r in ahead] == [
        ("qbr_lead", date(2026, 12, 4)),  # the first working day still ahead
        ("qbr_eve", date(2026, 12, 7)),
    ]
    friday = qbr_on(date(2026, 12, 4))  # `qbr next: fri` on Thursday afternoon
    assert rhythm.reminders_ahead(friday, PLAIN, THU_3_DEC) == []
    monday = qbr_on(date(2026, 12, 7))
    assert [r.day for r in rhythm.reminders_ahead(monday, PLAIN, THU_3_DEC)] == [date(2026, 12, 4)]


def test_time_away_and_holidays_move_reminders_to_the_working_day_before() -> None:
    away = WorkCalendar(
        tz=UTC_ZONE, country="DE", away_from=date(2026, 12, 7), away_until=date(2026, 12, 11)
    )
    review = qbr_on(date(2026, 12, 14), calendar=away)
    ahead = rhythm.reminders_ahead(review, away, THU_3_DEC)
    assert [r.day for r in ahead] == [date(2026, 12, 4)], "one reminder, before the leave"
    assert away.why_not_working(date(2026, 12, 8)) == "during your time away"
    assert away.why_not_working(date(2026, 12, 25)) == "a public holiday (Christmas Day)"
    assert PLAIN.why_not_working(date(2026, 12, 6)) == "a Sunday, not one of your working days"
    assert PLAIN.why_not_working(date(2026, 12, 7)) is None


def test_held_on_schedule_only_within_a_week_either_side() -> None:
    review = qbr_on(date(2027, 1, 17))
    assert not rhythm.held_on_schedule(review.next_on, date(2026, 12, 3))  # 45 days early
    assert rhythm.held_on_schedule(review.next_on, date(2027, 1, 10))
    assert rhythm.held_on_schedule(review.next_on, date(2027, 1, 24))
    assert not rhythm.held_on_schedule(review.next_on, date(2027, 1, 25))

    rhythm.mark_qbr_held(
        review, review_on=review.next_on, today=date(2026, 12, 3), calendar=PLAIN, now=THU_3_DEC
    )
    assert (review.held_count, review.on_time_count) == (1, 0)
    # Held far off: the next one follows from the day it was held, on a working day.
    assert review.next_on == date(2027, 3, 3)


def test_the_next_qbr_lands_on_a_working_day() -> None:
    review = qbr_on(date(2026, 11, 20))  # a Friday; plus a quarter is Sat 20 Feb 2027
    review.next_on = date(2026, 11, 20)
    now = datetime(2026, 11, 20, 15, tzinfo=UTC)
    rhythm.mark_qbr_held(
        review, review_on=review.next_on, today=date(2026, 11, 20), calendar=PLAIN, now=now
    )
    assert review.next_on == date(2027, 2, 22)
    assert review.on_time_count == 1


def test_skipped_and_moved_reviews() -> None:
    review = qbr_on(date(2026, 12, 14))
    tuesday = datetime(2026, 12, 15, 10, tzinfo=UTC)
    assert rhythm.move_qbr(
        review, review_on=date(2026, 12, 14), to=date(2026, 12, 17), calendar=PLAIN, now=tuesday
    )
    assert review.next_on == date(2026, 12, 17)
    assert not rhythm.move_qbr(
        review, review_on=date(2026, 12, 14), to=date(2026, 12, 18), calendar=PLAIN, now=tuesday
    ), "already answered"
    assert rhythm.mark_qbr_skipped(
        review, review_on=date(2026, 12, 17), calendar=PLAIN, now=tuesday
    )
    assert review.missed_count == 1 and review.held_count == 0
    assert review.next_on == date(2027, 3, 17)


def test_words_follow_the_real_distance() -> None:
    today = date(2026, 12, 11)  # a Friday
    assert relative_day(date(2026, 12, 11), today) == "today"
    assert relative_day(date(2026, 12, 12), today) == "tomorrow"
    assert relative_day(date(2026, 12, 14), today) == "on Monday"
    assert relative_day(date(2026, 12, 18), today) == "in 7 days"
    assert relative_day(date(2026, 12, 10), today) == "yesterday"
    assert relative_day(date(2026, 12, 8), today) == "3 days ago"


def test_a_follow_up_due_on_sunday_is_first_reminded_on_monday() -> None:
    commitment = SimpleNamespace(
        due_on=date(2026, 12, 6),
        due_at=datetime(2026, 12, 7, tzinfo=UTC),
        direction="ours",
        ladder_anchor=None,
        ladder_step=0,
        next_nudge_at=None,
    )
    followups.start_ladder(commitment, PLAIN, THU_3_DEC)  # type: ignore[arg-type]
    assert followups.first_reminder_day(commitment, PLAIN) == date(2026, 12, 7)  # type: ignore[arg-type]


def test_urgency_puts_today_and_overdue_before_escalations_and_what_is_coming() -> None:
    today = date(2026, 12, 3)
    ranks = [
        due.Ranked(due.urgency("followup_escalation", date(2026, 11, 17), today), 1),
        due.Ranked(due.urgency("followup_escalation", date(2026, 11, 18), today), 2),
        due.Ranked(due.urgency("followup_due", today, today), 3),
        due.Ranked(due.urgency("followup_unkept", date(2026, 12, 2), today), 4),
        due.Ranked(due.urgency("qbr_eve", date(2026, 12, 4), today), 5),
        due.Ranked(due.urgency("checkin", today, today), 6),
        due.Ranked(due.urgency("touch", None, today), 7),
    ]
    assert [ranks[i].newness for i in due.by_urgency(ranks)] == [6, 3, 4, 7, 5, 2, 1]


# --- the property: nothing the product schedules lands on a non-working day ----------

DAYS = st.dates(min_value=date(2026, 1, 1), max_value=date(2028, 12, 31))


@st.composite
def calendars(draw: st.DrawFn) -> WorkCalendar:
    work_days = draw(st.frozensets(st.integers(0, 6), min_size=1, max_size=7))
    away_from = draw(st.none() | DAYS)
    return WorkCalendar(
        tz=ZoneInfo(draw(st.sampled_from(["UTC", "Europe/Berlin", "America/Los_Angeles"]))),
        days=work_days,
        country=draw(st.sampled_from([None, "DE", "US", "GB"])),
        team_days_off=draw(st.frozensets(DAYS, max_size=20)),
        away_from=away_from,
        away_until=None
        if away_from is None
        else away_from + timedelta(days=draw(st.integers(0, 40))),
    )


@given(calendars(), DAYS, st.integers(0, 400), st.integers(0, 23))
def test_every_qbr_date_and_reminder_is_on_a_working_day(
    calendar: WorkCalendar, today: date, ahead: int, hour: int
) -> None:
    now = datetime.combine(today, datetime.min.time(), calendar.tz) + timedelta(hours=hour)
    review = qbr_on(today + timedelta(days=ahead), calendar=calendar, now=now)
    for reminder in rhythm.qbr_reminders(review, calendar):
        assert calendar.is_working_day(reminder.day), reminder
        assert reminder.at == calendar.opening(reminder.day)
    for reminder in rhythm.reminders_ahead(review, calendar, now):
        assert now < reminder.at and reminder.day < review.next_on
    # Whatever the answer, the next review is one the owner can hold.
    held_on = calendar.today(now)
    rhythm.mark_qbr_held(
        review, review_on=review.next_on, today=held_on, calendar=calendar, now=now
    )
    assert calendar.is_working_day(review.next_on) and review.next_on > held_on
    rhythm.mark_qbr_skipped(review, review_on=review.next_on, calendar=calendar, now=now)
    assert calendar.is_working_day(review.next_on)


@given(calendars(), DAYS, st.integers(0, 120))
def test_the_first_follow_up_reminder_is_on_a_working_day(
    calendar: WorkCalendar, today: date, ahead: int
) -> None:
    now = datetime.combine(today, datetime.min.time(), calendar.tz)
    due_on = today + timedelta(days=ahead)
    commitment = SimpleNamespace(
        due_on=due_on,
        due_at=datetime.combine(due_on + timedelta(days=1), datetime.min.time(), calendar.tz),
        direction="ours",
        ladder_anchor=None,
        ladder_step=0,
        next_nudge_at=None,
    )
    followups.start_ladder(commitment, calendar, now)  # type: ignore[arg-type]
    first = followups.first_reminder_day(commitment, calendar)  # type: ignore[arg-type]
    assert first is not None and calendar.is_working_day(first) and first >= today
