"""Every command that takes a date reads it the same way and says the day it understood."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from bot.devtools.localslack import LocalSlack
from handlers.edge import after_ack
from messages.ids import Action, View
from storage.db import SessionFactory
from storage.models import Account, Commitment, Qbr, TeamHoliday, UserPrefs
from tests.slackkit import ALICE, BOB, TEAM, SlackSender, block_action, blocks_text, view_submission

# Thursday 3 December 2026, mid-morning in London.
NOW = "2026-12-03T10:00:00+00:00"


def say(slack_user: SlackSender, command: str, text: str, *, user: str = ALICE) -> Any:
    with freeze_time(NOW, real_asyncio=True):
        reply = slack_user.command(command, text, user=user)
        after_ack.drain()
    assert reply.status == 200 and reply.ephemeral
    return reply


def due_days(db: SessionFactory) -> list[date]:
    with db() as session:
        return [c.due_on for c in session.scalars(select(Commitment).order_by(Commitment.id))]


@pytest.mark.parametrize(
    ("written", "meant", "shown"),
    [
        ("15 Dec", date(2026, 12, 15), "Tue 15 Dec 2026"),
        ("the 15th", date(2026, 12, 15), "Tue 15 Dec 2026"),
        ("Dec 15", date(2026, 12, 15), "Tue 15 Dec 2026"),
        ("eom", date(2026, 12, 31), "Thu 31 Dec 2026"),
        ("next tue", date(2026, 12, 8), "Tue 8 Dec 2026"),
    ],
)
def test_followup_reads_the_date_and_says_it_in_full(
    slack_user: SlackSender, db: SessionFactory, written: str, meant: date, shown: str
) -> None:
    reply = say(slack_user, "/followup", f"Globex send deck due: {written}")
    assert due_days(db) == [meant]
    assert shown in reply.text


def test_qbr_next_reads_a_day_and_month(slack_user: SlackSender, db: SessionFactory) -> None:
    reply = say(slack_user, "/rapport", "qbr Globex next: 20 Jan")
    assert "Wed 20 Jan 2027" in reply.text
    with db() as session:
        assert session.scalars(select(Qbr.next_on)).one() == date(2027, 1, 20)


def answered(slack: LocalSlack, count: int) -> str:
    """The answer sent to the response_url after the ack (the `count`-th so far)."""
    return blocks_text(slack.wait_for("response_url", count)[count - 1].args)


def test_holidays_add_reads_the_whole_date_and_keeps_the_name(
    slack_user: SlackSender, slack: LocalSlack, db: SessionFactory
) -> None:
    slack.add_user(ALICE, is_admin=True)  # team days off are for workspace admins
    say(slack_user, "/rapport", "holidays add 31 Dec")
    assert "Added *Thu 31 Dec 2026*" in answered(slack, 1)
    say(slack_user, "/rapport", "holidays add 24 Dec Office closed")
    with db() as session:
        days = session.execute(select(TeamHoliday.day, TeamHoliday.name).order_by(TeamHoliday.day))
        assert [tuple(row) for row in days] == [
            (date(2026, 12, 24), "Office closed"),
            (date(2026, 12, 31), "Team day off"),
        ]
    say(slack_user, "/rapport", "holidays remove 24 Dec")
    assert "Removed *Thu 24 Dec 2026*" in answered(slack, 3)


@pytest.mark.parametrize(
    ("command", "text", "says"),
    [
        ("/rapport", "pause Globex until: 31 Dec 2027 reason: budget freeze", "within one year"),
        ("/rapport", "qbr Globex next: 2029-06-01", "A QBR (`next:`) must be within two years"),
        ("/rapport", "holidays add 2029-01-01", "A team day off must be within two years"),
        ("/followup", "Globex send deck due: 1 Dec 2026", "reads as Tue 1 Dec 2026, which has"),
    ],
)
def test_every_date_field_refuses_out_of_range_with_the_day_read(
    slack_user: SlackSender, db: SessionFactory, command: str, text: str, says: str
) -> None:
    if text.startswith("pause"):
        say(slack_user, "/followup", "Globex send deck due: fri")
    reply = say(slack_user, command, text)
    assert says in reply.text
    with db() as session:
        assert session.scalars(select(Qbr)).all() == []
        assert session.scalars(select(TeamHoliday)).all() == []
        assert all(a.paused_until is None for a in session.scalars(select(Account)))


def test_ambiguous_numbers_ask_with_a_button_for_each_reading(
    slack_user: SlackSender, slack: LocalSlack, db: SessionFactory
) -> None:
    reply = say(slack_user, "/followup", "Globex send deck due: 5/1")

    assert due_days(db) == []
    assert "Tue 5 Jan 2027" in reply.text and "Sat 1 May 2027" in reply.text
    assert "`/followup Globex send deck due: 5 Jan`" in reply.text
    (actions,) = [b for b in reply.body["blocks"] if b["type"] == "actions"]
    buttons = {b["text"]["text"]: b for b in actions["elements"]}
    assert set(buttons) == {"Tue 5 Jan 2027", "Sat 1 May 2027"}

    chosen = buttons["Tue 5 Jan 2027"]
    with freeze_time(NOW, real_asyncio=True):
        clicked = slack_user.interact(
            block_action(chosen["action_id"], chosen["value"], response_url=slack.response_url())
        )
    assert clicked.status == 200
    assert due_days(db) == [date(2027, 1, 5)]
    (answer,) = slack.wait_for("response_url")
    assert answer.args["replace_original"] is True
    assert "Tue 5 Jan 2027" in str(answer.args["blocks"])


def test_a_run_button_that_was_tampered_with_runs_nothing(
    slack_user: SlackSender, slack: LocalSlack, db: SessionFactory
) -> None:
    value = '{"command": "/sudo", "text": "x"}'
    reply = slack_user.interact(
        block_action(Action.RUN_COMMAND, value, response_url=slack.response_url())
    )
    assert reply.status == 200
    (answer,) = slack.wait_for("response_url")
    assert "out of date" in str(answer.args)
    assert due_days(db) == []


@pytest.mark.parametrize(
    ("locale", "meant"), [("en-US", date(2027, 5, 1)), ("en-GB", date(2027, 1, 5))]
)
def test_numbers_read_in_the_locale_slack_gives_once_learnt(
    slack_user: SlackSender, slack: LocalSlack, db: SessionFactory, locale: str, meant: date
) -> None:
    slack.state.users[ALICE] = {"tz": "Europe/London", "locale": locale}
    say(slack_user, "/followup", "Globex send deck due: fri")
    (lookup,) = slack.calls("users.info")
    assert lookup.args["include_locale"] in (True, "true", "1")
    with db() as session:
        prefs = session.get(UserPrefs, (TEAM, ALICE))
        assert prefs is not None and prefs.slack_locale == locale

    reply = say(slack_user, "/followup", "Globex book the demo due: 5/1")
    assert due_days(db)[-1] == meant
    assert f"{meant:%a} {meant.day} {meant:%b %Y}" in reply.text


def test_a_person_slack_gives_no_locale_for_is_asked_and_not_looked_up_again(
    slack_user: SlackSender, slack: LocalSlack, db: SessionFactory
) -> None:
    slack.state.users[BOB] = {"tz": "America/New_York"}
    say(slack_user, "/followup", "Globex send deck due: fri", user=BOB)
    reply = say(slack_user, "/followup", "Globex send deck due: 5/1", user=BOB)
    assert "Which one?" in reply.text
    assert len(slack.calls("users.info")) == 1
    with db() as session:
        prefs = session.get(UserPrefs, (TEAM, BOB))
        assert prefs is not None and prefs.slack_locale == ""


def test_snooze_picker_holds_to_the_snooze_range(slack_user: SlackSender) -> None:
    def pick(day: str) -> dict[str, Any]:
        picked = {"until": {"day": {"type": "datepicker", "selected_date": day}}}
        with freeze_time(NOW, real_asyncio=True):
            return slack_user.interact(view_submission(View.HOME_SNOOZE_UNTIL, picked)).body

    assert "A snooze must be within one year" in pick("2028-01-10")["errors"]["until"]
    assert "which has passed" in pick("2026-12-01")["errors"]["until"]
    assert pick("2026-12-10") == {}
