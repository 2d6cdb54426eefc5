"""/rapport health and the rating buttons on check-in nudges, through signed Slack requests."""

from __future__ import annotations

import pytest

from bot.config import Settings
from bot.delivery import ClientForTeam
from bot.localslack import LocalSlack
from storage.db import SessionFactory
from tests.scheduling import Scenario
from tests.slackkit import BOB, SlackSender

MONDAY = "2026-11-23T15:00:00Z"


@pytest.fixture
def s(
    slack_user: SlackSender,
    slack: LocalSlack,
    db: SessionFactory,
    client_for: ClientForTeam,
    settings: Settings,
) -> Scenario:
    return Scenario(slack_user, slack, db, client_for, settings)


def test_health_of_an_account_shows_every_part(s: Scenario) -> None:
    s.say(MONDAY, "/concede", "acme give: 5% discount get: 24-month term")
    s.say(MONDAY, "/concede", "acme give: free onboarding")
    reply = s.say(MONDAY, "/rapport", "health acme")
    assert reply.status == 200 and reply.ephemeral
    text = reply.text
    assert "acme" in text and "/100" in text
    for label in (
        "Commitments kept on time",
        "Staying in touch",
        "The buyer's ratings",
        "Give/get balance",
        "QBRs on schedule",
        "Check-ins done",
    ):
        assert label in text
    assert "1 of 2 gives traded for something in return; 1 one-way" in text
    assert "no data yet: no QBR scheduled" in text
    assert "shared among the parts that have data" in text


def test_health_of_an_unknown_account_is_a_clear_error(s: Scenario) -> None:
    reply = s.say(MONDAY, "/rapport", "health initech")
    assert reply.status == 200 and reply.ephemeral
    assert "no account called “initech”" in reply.text


def test_health_alone_lists_my_accounts_lowest_first(s: Scenario) -> None:
    s.say(MONDAY, "/concede", "acme give: 5% discount get: 24-month term")
    s.say(MONDAY, "/concede", "globex give: free onboarding")
    s.say(MONDAY, "/concede", "initech give: a pilot", user=BOB)
    reply = s.say(MONDAY, "/rapport", "health")
    assert reply.ephemeral
    text = reply.text
    assert "globex" in text and "acme" in text and "initech" not in text
    assert text.index("globex") < text.index("acme"), "the one-way give scores lower"
    assert "weakest: give/get balance" in text
