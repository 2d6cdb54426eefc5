"""A click on a reminder that no longer holds its item (its message gone from the
database, the item taken over by a newer reminder, a value this code does not write)
changes nothing and is answered with the one "this reminder is out of date" reply,
only the clicker sees; in the pick-a-day modal, under the picker."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from freezegun import freeze_time
from sqlalchemy import delete, select, update

from messages.ids import REMINDER_OUT_OF_DATE
from storage.models import Commitment, Nudge, NudgeStatus, OutboxMessage, Qbr
from tests.conftest import at
from tests.scheduling import Scenario
from tests.slackkit import view_submission

MONDAY = "2026-11-23T15:00:00Z"
DUE = "2026-11-27T09:00:00Z"  # "fri"
CLICK = "2026-11-27T10:00:00Z"


def reminded(s: Scenario) -> dict[str, Any]:
    s.say(MONDAY, "/followup", "acme send the pricing sheet due: fri")
    s.sweep(DUE)
    (message,) = s.dms()
    return message


def gone(s: Scenario) -> None:
    """The reminder's rows are gone (a database restored from before it was sent)."""
    with s.db.begin() as session:
        session.execute(delete(Nudge))
        session.execute(delete(OutboxMessage))


def taken_over(s: Scenario) -> None:
    """Its item is no longer in it: a newer reminder stands for it."""
    with s.db.begin() as session:
        session.execute(update(Nudge).values(status=NudgeStatus.SUPERSEDED, outbox_id=None))


def answers(s: Scenario) -> list[str]:
    """The replies only the clicker saw, each as the problem it tells."""
    return [call.args["text"] for call in s.slack.calls("response_url")]


def commitment(s: Scenario) -> Commitment:
    with s.db() as session:
        found = session.scalars(select(Commitment)).one()
        session.expunge(found)
        return found


def choose(value: str) -> Callable[[dict[str, Any]], None]:
    return lambda action: action.update(selected_option={"value": value})


STALE = [pytest.param(gone, id="message gone"), pytest.param(taken_over, id="taken over")]


@pytest.mark.parametrize("stale", STALE)
def test_done_on_a_stale_reminder_changes_nothing(
    s: Scenario, stale: Callable[[Scenario], None]
) -> None:
    message = reminded(s)
    stale(s)
    s.click(CLICK, message, "nudge_done", response_url=s.slack.response_url("stale"))
    assert commitment(s).done_at is None
    assert answers(s) == [REMINDER_OUT_OF_DATE]
    assert s.slack.calls("chat.update") == []


@pytest.mark.parametrize("stale", STALE)
def test_a_snooze_on_a_stale_reminder_changes_nothing(
    s: Scenario, stale: Callable[[Scenario], None]
) -> None:
    message = reminded(s)
    stale(s)
    url = s.slack.response_url("stale")
    s.click(CLICK, message, "nudge_snooze", extra=choose("1h"), response_url=url)
    assert commitment(s).snoozed_until is None
    s.click(CLICK, message, "nudge_snooze", extra=choose("pick"), response_url=url)
    assert s.slack.calls("views.open") == [], "no day asked for"
    assert answers(s) == [REMINDER_OUT_OF_DATE] * 2


def test_values_this_code_does_not_write_change_nothing(s: Scenario) -> None:
    message = reminded(s)
    url = s.slack.response_url("stale")
    s.click(CLICK, message, "nudge_snooze", extra=choose("2h"), response_url=url)
    assert commitment(s).snoozed_until is None

    def forged(action: dict[str, Any]) -> None:
        action["block_id"] = "act:1:commitment:1"  # a part missing

    s.click(CLICK, message, "nudge_done", extra=forged, response_url=url)
    assert commitment(s).done_at is None
    assert answers(s) == [REMINDER_OUT_OF_DATE] * 2
    # The reminder itself still works.
    s.click(CLICK, message, "nudge_snooze", extra=choose("1h"), response_url=url)
    assert commitment(s).snoozed_until == at("2026-11-27T11:00:00Z")
    assert len(answers(s)) == 2


def test_a_held_button_whose_day_does_not_read_marks_nothing(s: Scenario) -> None:
    s.say(MONDAY, "/rapport", "qbr acme next: 2026-12-10 every: quarter")
    s.sweep("2026-12-03T09:00:00Z")
    (message,) = s.dms()
    url = s.slack.response_url("stale")
    s.click("2026-12-10T15:00:00Z", message, "nudge_qbr_held", value="10 Dec", response_url=url)
    with s.db() as session:
        assert session.scalars(select(Qbr)).one().held_count == 0
    assert answers(s) == [REMINDER_OUT_OF_DATE]


def test_a_rating_asked_on_a_stale_check_in_reminder_opens_nothing(s: Scenario) -> None:
    s.say(MONDAY, "/concede", "acme give: 5% discount get: 24-month term")
    s.say(MONDAY, "/rapport", "won acme")
    s.sweep("2026-11-30T09:00:00Z")  # the first check-in, a week after the win
    (message,) = s.dms()
    taken_over(s)
    url = s.slack.response_url("stale")
    s.click("2026-11-30T10:00:00Z", message, "nudge_rate", response_url=url)
    assert s.slack.calls("views.open") == []
    assert answers(s) == [REMINDER_OUT_OF_DATE]


def pick_a_day(s: Scenario, message: dict[str, Any], day: str) -> dict[str, Any]:
    """Snooze, Pick a date…: the submission of `day` in the modal it opens."""
    s.click(CLICK, message, "nudge_snooze", extra=choose("pick"))
    (opened,) = s.slack.calls("views.open")
    submission = view_submission(
        "snooze_until",
        {"until": {"day": {"type": "datepicker", "selected_date": day}}},
        private_metadata=opened.args["view"]["private_metadata"],
    )
    return submission


def test_the_day_picked_for_a_reminder_gone_meanwhile_snoozes_nothing(s: Scenario) -> None:
    message = reminded(s)
    submission = pick_a_day(s, message, "2026-12-04")
    gone(s)
    with freeze_time(at(CLICK), real_asyncio=True):
        answer = s.slack_user.interact(submission).body
        s.settle()
    assert answer == {"response_action": "errors", "errors": {"until": REMINDER_OUT_OF_DATE}}
    assert commitment(s).snoozed_until is None
    assert len(s.dms()) == 1, "said once, in the modal; no DM about it"


def test_a_day_the_picker_refuses_snoozes_nothing(s: Scenario) -> None:
    message = reminded(s)
    submission = pick_a_day(s, message, "2028-01-10")
    with freeze_time(at(CLICK), real_asyncio=True):
        answer = s.slack_user.interact(submission).body
        s.settle()
    assert "within one year" in answer["errors"]["until"]
    assert commitment(s).snoozed_until is None
