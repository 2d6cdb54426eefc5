"""/rapport settings: working hours in one line, everything else in the form."""

from __future__ import annotations

from datetime import time

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from bot.devtools.localslack import LocalSlack
from bot.services.errors import UsageError
from bot.services.settings import parse_hours
from handlers.edge import after_ack
from storage.db import SessionFactory
from storage.models import UserPrefs
from tests.slackkit import ALICE, SlackSender, view_submission


@pytest.mark.parametrize(
    ("written", "start", "end"),
    [
        ("8-17", time(8), time(17)),
        ("8:30 - 17:30", time(8, 30), time(17, 30)),
        ("9am to 5pm", time(9), time(17)),
        ("08:00–16:45", time(8), time(16, 45)),
        ("7.30 until 15", time(7, 30), time(15)),
        # An end before the start, without am/pm, after a morning start: the afternoon.
        ("9-5", time(9), time(17)),
        ("8:30 to 5:30", time(8, 30), time(17, 30)),
    ],
)
def test_hours_read_as_people_write_them(written: str, start: time, end: time) -> None:
    assert parse_hours(written) == (start, end)


@pytest.mark.parametrize("written", ["17-8", "9-9", "9am-5am", "8", "soon", "8-", "x-17"])
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


def _settings_values(away_from: str | None, away_until: str | None) -> dict:
    return {
        "work_start": {"value": {"type": "timepicker", "selected_time": "09:00"}},
        "work_end": {"value": {"type": "timepicker", "selected_time": "17:00"}},
        "work_days": {
            "value": {"type": "checkboxes", "selected_options": [{"value": "0"}, {"value": "1"}]}
        },
        "tz_override": {"value": {"type": "plain_text_input", "value": "Europe/London"}},
        "away_from": {"value": {"type": "datepicker", "selected_date": away_from}},
        "away_until": {"value": {"type": "datepicker", "selected_date": away_until}},
        "manager": {"value": {"type": "users_select", "selected_user": None}},
        "digest": {"value": {"type": "checkboxes", "selected_options": []}},
    }


@pytest.mark.parametrize(
    ("away_from", "away_until", "error"),
    [
        # The one range rule for dates (bot.services.dates), in its words, under the field.
        (
            "2026-11-20",
            "2026-12-02",
            "Wed 2 Dec 2026, which has passed. The last day away must be from today "
            "(Thu 3 Dec 2026) on.",
        ),
        (
            "2028-12-20",
            "2029-01-05",
            "Fri 5 Jan 2029, more than two years away. The last day away must be within two "
            "years, by Sun 3 Dec 2028.",
        ),
        # Under way since Monday, back next week: fine.
        ("2026-11-30", "2026-12-08", None),
    ],
)
def test_time_away_is_held_to_the_range_rule_for_dates(
    slack_user: SlackSender,
    db: SessionFactory,
    away_from: str,
    away_until: str,
    error: str | None,
) -> None:
    with freeze_time("2026-12-03T10:00:00Z", real_asyncio=True):
        reply = slack_user.interact(
            view_submission("user_settings", _settings_values(away_from, away_until))
        )
    with db() as session:
        prefs = session.get(UserPrefs, ("T0ACME", ALICE))
    if error is None:
        assert not reply.body.get("errors"), reply.body
        assert prefs is not None and str(prefs.away_until) == away_until
    else:
        assert reply.body == {"response_action": "errors", "errors": {"away_until": error}}
        assert prefs is None or prefs.away_until is None


def test_the_form_leaves_out_time_away_that_has_ended(
    slack_user: SlackSender, slack: LocalSlack, db: SessionFactory
) -> None:
    """Offered again, it could not be saved (the last day away has passed)."""

    def away_dates() -> list[str]:
        after_ack.drain()
        view = slack.calls("views.open")[-1].args["view"]
        blocks = {b.get("block_id"): b for b in view["blocks"]}
        return [
            blocks[name]["element"].get("initial_date", "") for name in ("away_from", "away_until")
        ]

    with freeze_time("2026-12-03T10:00:00Z", real_asyncio=True):
        saved = slack_user.interact(
            view_submission("user_settings", _settings_values("2026-11-30", "2026-12-08"))
        )
        assert not saved.body.get("errors"), saved.body
        slack_user.command("/rapport", "settings")
        assert away_dates() == ["2026-11-30", "2026-12-08"]
    with freeze_time("2026-12-09T10:00:00Z", real_asyncio=True):
        slack_user.command("/rapport", "settings")
        assert away_dates() == ["", ""]
