"""A team's own holiday country: set with /rapport holidays, used by its nudges."""

from __future__ import annotations

from datetime import date
from functools import partial

import pytest
from freezegun import freeze_time

from bot.services import people, team_calendar
from bot.services.errors import UsageError
from storage.db import SessionFactory
from tests.conftest import at
from tests.scheduling import Scenario
from tests.slackkit import ALICE, BOB, OTHER_TEAM, TEAM, Reply

MONDAY = "2027-03-22T10:00:00Z"
GOOD_FRIDAY = "2027-03-26"  # a public holiday in Germany, a working day in the US
THANKSGIVING = "2026-11-26"  # the other way round


@pytest.fixture(autouse=True)
def admins(s: Scenario) -> None:
    # Changing the team's calendar is for workspace admins (tests/test_lifecycle.py).
    s.slack.add_user(ALICE, is_admin=True)


def say(s: Scenario, when: str, command: str, text: str, *, user: str, team: str) -> Reply:
    with freeze_time(at(when), real_asyncio=True):
        reply = s.slack_user.command(command, text, user=user, team=team)
        s.settle()
    # A change is answered after Slack has said whether they are an admin.
    return s.answer() if "checking that with Slack" in reply.text else reply


def test_a_team_with_country_de_skips_a_german_holiday_and_a_team_without_does_not(
    s: Scenario,
) -> None:
    chosen = say(s, MONDAY, "/rapport", "holidays country: de", user=ALICE, team=TEAM)
    assert "DE public holidays" in chosen.text and "chosen for this team" in chosen.text
    say(s, MONDAY, "/followup", f"acme send the deck due: {GOOD_FRIDAY}", user=ALICE, team=TEAM)
    say(s, MONDAY, "/followup", f"acme send the deck due: {GOOD_FRIDAY}", user=BOB, team=OTHER_TEAM)

    s.sweep(f"{GOOD_FRIDAY}T09:00:00Z")
    assert s.dms(ALICE) == []
    assert len(s.dms(BOB)) == 1

    s.sweep("2027-03-29T09:00:00Z")  # Easter Monday: a German holiday too
    assert s.dms(ALICE) == []
    s.sweep("2027-03-30T09:00:00Z")
    assert "send the deck" in s.dm_texts(ALICE)[0]


def test_the_team_country_wins_over_the_deployment_and_none_falls_back_to_it(
    s: Scenario,
) -> None:
    us = s.settings.model_copy(update={"holiday_country": "US"})
    say(s, "2026-11-23T15:00:00Z", "/rapport", "holidays country: DE", user=ALICE, team=TEAM)
    say(
        s,
        "2026-11-23T15:00:00Z",
        "/followup",
        f"acme send the deck due: {THANKSGIVING}",
        user=ALICE,
        team=TEAM,
    )
    s.sweep(f"{THANKSGIVING}T09:00:00Z", us)
    assert len(s.dms(ALICE)) == 1, "Thanksgiving is a working day in Germany"

    cleared = say(
        s, "2026-11-23T15:00:00Z", "/rapport", "holidays country: none", user=ALICE, team=TEAM
    )
    assert "chosen for this team" not in cleared.text
    say(
        s,
        "2026-11-23T15:00:00Z",
        "/followup",
        f"globex send the contract due: {THANKSGIVING}",
        user=ALICE,
        team=TEAM,
    )
    s.sweep(f"{THANKSGIVING}T10:00:00Z", us)
    assert not any("send the contract" in text for text in s.dm_texts(ALICE))


def test_an_unknown_country_is_refused_and_nothing_changes(s: Scenario) -> None:
    say(s, MONDAY, "/rapport", "holidays country: DE", user=ALICE, team=TEAM)
    for text in ("holidays country: XX", "holidays country:", "holidays country: Germany"):
        reply = say(s, MONDAY, "/rapport", text, user=ALICE, team=TEAM)
        assert reply.status == 200 and reply.ephemeral
        assert "/rapport holidays" in reply.text, text
    listed = say(s, MONDAY, "/rapport", "holidays", user=ALICE, team=TEAM)
    assert "DE public holidays" in listed.text
    other = say(s, MONDAY, "/rapport", "holidays", user=BOB, team=OTHER_TEAM)
    assert "public holidays" not in other.text.split("\n")[0]


def test_country_codes_are_checked_against_the_holidays_package() -> None:
    assert people.holiday_country_code(" de ") == "DE"
    assert people.holiday_country_code("None") is None
    with pytest.raises(UsageError, match="not a country"):
        people.holiday_country_code("ZZ")


def test_one_sweep_reads_the_team_countries_once(db: SessionFactory) -> None:
    with db.begin() as session:
        people.set_team_holiday_country(
            session, team_id=TEAM, country="DE", user_id=ALICE, now=at(MONDAY)
        )
    countries = people.HolidayCountries("US")
    with db() as session:
        assert countries.of(session, TEAM) == "DE"
    with db.begin() as session:
        people.set_team_holiday_country(
            session, team_id=OTHER_TEAM, country="GB", user_id=BOB, now=at(MONDAY)
        )
    with db() as session:
        # Read once, at the first question: the rest of the sweep asks no more.
        assert countries.of(session, OTHER_TEAM) == "US"
        assert people.HolidayCountries("US").of(session, OTHER_TEAM) == "GB"


def test_removing_a_day_that_is_not_a_team_day_off_says_so(s: Scenario) -> None:
    """Issue 11: `holidays remove 31 Dec` answered "Removed" when there was none."""
    reply = say(s, MONDAY, "/rapport", "holidays remove 31 Dec", user=ALICE, team=TEAM)
    assert "There is no team day off on *Fri 31 Dec 2027*, so nothing was removed" in reply.text
    assert "Removed" not in reply.text and "/rapport holidays add" in reply.text


def test_a_day_off_removed_by_someone_else_meanwhile_is_not_removed_twice(
    db: SessionFactory,
) -> None:
    """The change is made after the ack (once Slack says who is admin): by then the day
    may be gone, and the answer must not claim to have removed it."""
    day = team_calendar.DayOffChange(date(2027, 12, 31), add=True, name="Office closed")
    gone = team_calendar.DayOffChange(date(2027, 12, 31), add=False)
    with db.begin() as session:
        apply = partial(
            team_calendar.apply_change,
            session,
            team_id=TEAM,
            user_id=ALICE,
            is_workspace_admin=True,
            now=at(MONDAY),
        )
        assert apply(change=day) is True
        assert apply(change=day) is False
        assert apply(change=gone) is True
        assert apply(change=gone) is False
