"""The one date reader: what a hurried rep types, read as the day they meant, or refused
with the day it read."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.services.dates import (
    CONTACT,
    DUE,
    HOLIDAY,
    PAUSE,
    QBR,
    SNOOZE,
    AmbiguousDate,
    DateAtEnd,
    DateField,
    DayReader,
    NumericOrder,
    order_of_locale,
    short_day,
)
from bot.services.errors import UsageError
from messages.formats import full_day

# Thursday 3 December 2026, the day the issue was written.
TODAY = date(2026, 12, 3)
READER = DayReader(TODAY)
FIELDS = (DUE, QBR, PAUSE, HOLIDAY, SNOOZE)


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        # written dates, day or month first; no year: the next one
        ("15 Dec", date(2026, 12, 15)),
        ("Dec 15", date(2026, 12, 15)),
        ("15 December", date(2026, 12, 15)),
        ("december 15th", date(2026, 12, 15)),
        ("20 Jan", date(2027, 1, 20)),
        ("31 Dec", date(2026, 12, 31)),
        ("3 Dec", TODAY),
        ("1 Oct", date(2027, 10, 1)),  # 63 days back, further than RECENT: the next
        ("29 Feb", date(2028, 2, 29)),
        ("15 Dec 2026", date(2026, 12, 15)),
        ("Dec 15, 2026", date(2026, 12, 15)),
        ("Tue 15 Dec 2026", date(2026, 12, 15)),
        ("tue 15 dec", date(2026, 12, 15)),
        # a day of the month
        ("the 15th", date(2026, 12, 15)),
        ("15th", date(2026, 12, 15)),
        ("the 2nd", date(2027, 1, 2)),
        ("the 3rd", TODAY),
        # weekdays: the coming one (today counts), or the one of next week
        ("fri", date(2026, 12, 4)),
        ("Friday", date(2026, 12, 4)),
        ("thu", TODAY),
        ("mon", date(2026, 12, 7)),
        ("next tue", date(2026, 12, 8)),
        ("next thu", date(2026, 12, 10)),
        ("by fri", date(2026, 12, 4)),
        # relative
        ("today", TODAY),
        ("tomorrow", date(2026, 12, 4)),
        ("tmrw", date(2026, 12, 4)),
        ("in 3 days", date(2026, 12, 6)),
        ("in 2 weeks", date(2026, 12, 17)),
        ("in a month", date(2027, 1, 3)),
        ("2 weeks from now", date(2026, 12, 17)),
        ("next week", date(2026, 12, 7)),
        ("end of week", date(2026, 12, 4)),
        ("end of month", date(2026, 12, 31)),
        ("EOM", date(2026, 12, 31)),
        ("eoq", date(2026, 12, 31)),
        ("end of next month", date(2027, 1, 31)),
        ("next month", date(2027, 1, 1)),
        # ISO and numbers only one order can read
        ("2026-12-15", date(2026, 12, 15)),
        ("2027-1-5", date(2027, 1, 5)),
        ("15/12", date(2026, 12, 15)),
        ("12/15", date(2026, 12, 15)),
        ("15.12.", date(2026, 12, 15)),
        ("15.12.2026", date(2026, 12, 15)),
        ("12/12", date(2026, 12, 12)),
    ],
)
def test_reads_what_a_rep_types(typed: str, meant: date) -> None:
    assert READER.read(typed, DUE) == meant


def test_eoq_is_the_end_of_the_quarter_it_falls_in() -> None:
    assert DayReader(date(2027, 2, 10)).read("eoq", DUE) == date(2027, 3, 31)
    assert DayReader(date(2027, 7, 1)).read("end of quarter", DUE) == date(2027, 9, 30)


@pytest.mark.parametrize(
    ("order", "meant"),
    [(NumericOrder.DAY_FIRST, date(2027, 1, 5)), (NumericOrder.MONTH_FIRST, date(2027, 5, 1))],
)
def test_numbers_read_in_the_persons_own_order(order: NumericOrder, meant: date) -> None:
    assert DayReader(TODAY, order).read("5/1", DUE) == meant


def test_numbers_that_read_both_ways_ask_when_the_order_is_unknown() -> None:
    with pytest.raises(AmbiguousDate) as asked:
        READER.read("5/1", DUE)
    assert asked.value.readings == (date(2027, 1, 5), date(2027, 5, 1))
    assert asked.value.retyped == ("5 Jan", "1 May")
    assert "Tue 5 Jan 2027" in asked.value.problem and "Sat 1 May 2027" in asked.value.problem


@pytest.mark.parametrize(
    ("typed", "read"),
    [("2 Dec", "Wed 2 Dec 2026"), ("Nov 20", "Fri 20 Nov 2026"), ("20.11.", "Fri 20 Nov 2026")],
)
def test_a_date_without_a_year_just_past_is_refused_as_passed_not_read_as_next_year(
    typed: str, read: str
) -> None:
    # Typed on 3 Dec: "2 Dec" was yesterday. Next year's would be a silent misread.
    with pytest.raises(UsageError, match=f"reads as {read}, which has passed"):
        READER.read(typed, DUE)


def test_a_past_day_without_a_year_is_this_years_for_a_field_of_past_days() -> None:
    # The last contact, typed on 3 Dec: "1 Dec" was two days ago, not a year ahead.
    assert READER.read("1 Dec", CONTACT) == date(2026, 12, 1)


def test_an_ambiguous_date_whose_one_reading_has_passed_takes_the_other() -> None:
    # 1/12 on 3 Dec: 1 Dec was two days ago, 12 Jan is ahead.
    assert READER.read("1/12", DUE) == date(2027, 1, 12)


def test_a_team_day_off_months_ahead_is_next_years_not_one_gone_months_ago() -> None:
    # In March, 31 Dec is the coming one (the last was 81 days ago).
    assert DayReader(date(2027, 3, 22)).read("31 Dec", HOLIDAY) == date(2027, 12, 31)


def test_an_ambiguous_date_with_only_one_reading_in_range_takes_it() -> None:
    # 03/12/2026: 3 Dec (today) or 12 Mar 2026 (past): only one is a due date.
    assert READER.read("03/12/2026", DUE) == TODAY


@pytest.mark.parametrize(
    ("locale", "order"),
    [
        ("en-US", NumericOrder.MONTH_FIRST),
        ("en-GB", NumericOrder.DAY_FIRST),
        ("de-DE", NumericOrder.DAY_FIRST),
        ("es-LA", NumericOrder.DAY_FIRST),
        ("pt-BR", NumericOrder.DAY_FIRST),
        ("ja-JP", NumericOrder.MONTH_FIRST),
        ("zh-TW", NumericOrder.MONTH_FIRST),
        ("", None),
        (None, None),
        ("xx-YY", None),
    ],
)
def test_order_of_slack_locales(locale: str | None, order: NumericOrder | None) -> None:
    assert order_of_locale(locale) is order


@pytest.mark.parametrize(
    ("field", "typed", "says"),
    [
        (DUE, "2029-01-05", "A due date (`due:`) must be within two years, by Sun 3 Dec 2028"),
        (QBR, "2029-01-05", "A QBR (`next:`) must be within two years, by Sun 3 Dec 2028"),
        (HOLIDAY, "2029-01-05", "A team day off must be within two years"),
        (PAUSE, "31 Dec 2027", "A pause (`until:`) must be within one year, by Fri 3 Dec 2027"),
        (PAUSE, "20 Jan 2029", "“20 Jan 2029” reads as Sat 20 Jan 2029"),
        (DUE, "2026-12-01", "“2026-12-01” reads as Tue 1 Dec 2026, which has passed"),
        (DUE, "yesterday", "from today (Thu 3 Dec 2026) on"),
        (QBR, "1 Dec 2026", "which has passed. A QBR (`next:`) must be from today"),
    ],
)
def test_one_range_rule_states_the_day_read(field: DateField, typed: str, says: str) -> None:
    with pytest.raises(UsageError) as refused:
        READER.read(typed, field)
    assert says in refused.value.problem


@pytest.mark.parametrize("typed", ["someday maybe", "5pm", "-1", "31/11", "", "x" * 41])
def test_what_is_no_date_is_refused_with_examples(typed: str) -> None:
    with pytest.raises(UsageError) as refused:
        READER.read(typed, DUE)
    assert "as a date" in refused.value.problem and "`15 Dec`" in refused.value.problem


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("end of March", date(2027, 3, 31)),
        ("end of feb", date(2027, 2, 28)),
        ("end of Feb 2028", date(2028, 2, 29)),
        ("end of December", date(2026, 12, 31)),
        ("mid Jan", date(2027, 1, 15)),
        ("mid-march 2027", date(2027, 3, 15)),
        ("start of April", date(2027, 4, 1)),
        ("beginning of may", date(2027, 5, 1)),
    ],
)
def test_a_part_of_a_named_month_is_a_day_in_it(typed: str, read: date) -> None:
    assert READER.read(typed, DUE) == read


@pytest.mark.parametrize(("typed", "asks"), [("jan", "`mid Jan`"), ("March 2027", "`1 Mar 2027`")])
def test_a_month_alone_is_asked_for_its_day(typed: str, asks: str) -> None:
    with pytest.raises(UsageError) as refused:
        READER.read(typed, DUE)
    assert "is a month" in refused.value.problem and asks in refused.value.problem


def test_a_weekday_that_does_not_match_its_date_is_questioned() -> None:
    with pytest.raises(UsageError) as refused:
        READER.read("Mon 15 Dec", DUE)
    assert "Tue 15 Dec 2026 is a Tuesday" in refused.value.problem


@pytest.mark.parametrize(
    ("typed", "meant", "rest"),
    [
        ("24 Dec Office closed", date(2026, 12, 24), "Office closed"),
        ("31 Dec", date(2026, 12, 31), ""),
        ("next tue team offsite", date(2026, 12, 8), "team offsite"),
        ("2026-12-24 Christmas Eve", date(2026, 12, 24), "Christmas Eve"),
        ("Dec 24 2026", date(2026, 12, 24), ""),
    ],
)
def test_read_leading_takes_the_longest_date_at_the_start(
    typed: str, meant: date, rest: str
) -> None:
    assert READER.read_leading(typed, HOLIDAY) == (meant, rest)


@pytest.mark.parametrize(
    ("typed", "keep", "found"),
    [
        ("Acme Corp send the deck by 15 Dec", 2, DateAtEnd("Acme Corp send the deck", "15 Dec")),
        ("Acme call on fri", 1, DateAtEnd("Acme call", "fri")),
        ("Acme send pricing end of month", 1, DateAtEnd("Acme send pricing", "end of month")),
        ("Acme send it by 2", 1, DateAtEnd("Acme send it", "2")),
        # a bare number is a version, a count: a date only after `by` or `on`
        ("Acme send version 2", 1, None),
        ("Acme call Mike", 1, None),
        # nothing would be left of what is to be done
        ("Acme Corp 15 Dec", 2, None),
        ("Acme by fri", 1, None),
    ],
)
def test_date_at_end_splits_a_sentence_before_its_date(
    typed: str, keep: int, found: DateAtEnd | None
) -> None:
    assert READER.date_at_end(typed, keep_words=keep) == found


# --- properties ------------------------------------------------------------------------

todays = st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31))
orders = st.sampled_from([None, NumericOrder.DAY_FIRST, NumericOrder.MONTH_FIRST])


def written_forms(day: date, today: date, order: NumericOrder | None) -> list[str]:
    """Every way Rapport reads a date back: its own full format, ISO, the month as a
    word day or month first, the short form it suggests, and numbers in the reader's
    order when known."""
    forms = [
        full_day(day),
        day.isoformat(),
        f"{day.day} {day:%b %Y}",
        f"{day:%b} {day.day}, {day.year}",
        f"{day.day} {day:%B} {day.year}",
        f"{day:%A} {day.day} {day:%B} {day.year}",
        short_day(day, today),
    ]
    numeric = {
        NumericOrder.DAY_FIRST: f"{day.day}/{day.month}/{day.year}",
        NumericOrder.MONTH_FIRST: f"{day.month}/{day.day}/{day.year}",
    }
    if order is not None:
        forms.append(numeric[order])
    elif day.day > 12 or day.day == day.month:  # only one order reads them: no question
        forms.extend(numeric.values())
    return forms


@settings(max_examples=60)
@given(today=todays, ahead=st.integers(min_value=0, max_value=730), order=orders)
def test_a_formatted_date_reads_back_to_itself(
    today: date, ahead: int, order: NumericOrder | None
) -> None:
    day = min(today + timedelta(days=ahead), DUE.last_day(today))
    reader = DayReader(today, order)
    for form in written_forms(day, today, order):
        assert reader.read(form, DUE) == day, form


fragments = st.sampled_from(
    [
        "15", "12/10", "31", "dec", "december", "the", "th", "next", "fri", "in", "999",
        "days", "weeks", "years", "months", "2026", "2029", "9999", "eom", "eoq", "end of",
        "/", "-", ".", ",", "tomorrow", "today", "week", "month", "29 feb", "0", "00",
    ]
)  # fmt: skip
typed_text = st.one_of(
    st.text(max_size=30),
    st.lists(fragments, min_size=1, max_size=5).map(" ".join),
    st.lists(fragments, min_size=1, max_size=4).map("".join),
)


@settings(max_examples=300)
@given(today=todays, text=typed_text, order=orders, field=st.sampled_from(FIELDS))
def test_no_reading_ever_lands_more_than_two_years_out(
    today: date, text: str, order: NumericOrder | None, field: DateField
) -> None:
    try:
        day = DayReader(today, order).read(text, field)
    except UsageError:
        return
    assert today <= day <= today + relativedelta(years=2)
    assert day <= field.last_day(today)


@pytest.mark.parametrize(
    ("typed", "field", "read"),
    [
        # A day gone by: the latest such weekday, today included.
        ("tue", CONTACT, date(2026, 12, 1)),
        ("thu", CONTACT, date(2026, 12, 3)),
        ("last thu", CONTACT, date(2026, 11, 26)),
        ("on mon", CONTACT, date(2026, 11, 30)),
        # A day ahead: as before; `last` names the latest before today.
        ("tue", DUE, date(2026, 12, 8)),
        ("last tue", CONTACT, date(2026, 12, 1)),
    ],
)
def test_a_weekday_is_read_toward_its_field(typed: str, field: DateField, read: date) -> None:
    assert READER.read(typed, field) == read


def test_next_weekday_is_still_ahead_for_a_day_gone_by() -> None:
    with pytest.raises(UsageError) as refused:
        READER.read("next tue", CONTACT)
    assert "Tue 8 Dec 2026" in refused.value.problem
