"""/rapport settings: working hours in one line, everything else in the form."""

from __future__ import annotations

from datetime import time

import pytest
from sqlalchemy import select

from bot.errors import UsageError
from bot.localslack import LocalSlack
from bot.services.settings import parse_hours
from handlers import after_ack
from storage.db import SessionFactory
from storage.scheduling_models import UserPrefs
from tests.slackkit import ALICE, SlackSender


@pytest.mark.parametrize(
    ("written", "start", "end"),
    [
        ("8-17", time(8), time(17)),
        ("8:30 - 17:30", time(8, 30), time(17, 30)),
        ("9am to 5pm", time(9), time(17)),
        ("08:00–16:45", time(8), time(16, 45)),
        ("7.30 until 15", time(7, 30), time(15)),
    ],
)
def test_hours_read_as_people_write_them(written: str, start: time, end: time) -> None:
    assert parse_hours(written) == (start, end)


@pytest.mark.parametrize("written", ["17-8", "9-9", "8", "soon", "8-", "x-17"])
def test_hours_that_are_not_a_working_day_name_the_field(written: str) -> None:
    with pytest.raises(UsageError) as raised:
        parse_hours(written)
    assert raised.value.key == "hours"


def test_settings_hours_sets_them_without_the_form(
    slack_user: SlackSender, slack: LocalSlack, db: SessionFactory
) -> None:
    reply = slack_user.command("/rapport", "settings hours: 8-17")
    after_ack.drain()
    assert reply.status == 200 and reply.ephemeral
    assert "08:00 to 17:00" in reply.text
    with db() as session:
        prefs = session.scalars(select(UserPrefs).where(UserPrefs.user_id == ALICE)).one()
    assert (prefs.work_start, prefs.work_end) == (time(8), time(17))
    assert slack.calls("views.open") == []


def test_settings_with_other_words_opens_the_form_and_says_so(
    slack_user: SlackSender, slack: LocalSlack, db: SessionFactory
) -> None:
    reply = slack_user.command("/rapport", "settings tz: Europe/Berlin")
    after_ack.drain()
    assert "settings form is open" in reply.text
    assert "tz: Europe/Berlin" in reply.text
    assert len(slack.calls("views.open")) == 1
    with db() as session:
        # The form was opened on the stored settings; the words typed changed none.
        assert all(p.tz_override is None for p in session.scalars(select(UserPrefs)))
