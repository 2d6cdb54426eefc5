"""Enterprise Grid: App Home and the weekly digests stay within the workspace they
were set up in, unless an admin of the org chooses the org (`/rapport org`). Through
the real HTTP server, an org-wide install (tests/test_install_flow.py's), signed
requests and the local fake Slack."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from freezegun import freeze_time
from sqlalchemy import Engine

from storage.installs import record_enterprise
from storage.models import OrgView
from tests.conftest import at
from tests.scheduling import Scenario
from tests.slackkit import ALICE, BOB, Reply
from tests.test_install_flow import GRID, GRID_EU, GRID_US, Browser

# The fixtures of an installed world: the distributed server, the installer's browser.
from tests.test_install_flow import browser as browser
from tests.test_install_flow import distributed as distributed
from tests.test_install_flow import oauth_settings as oauth_settings
from tests.test_install_flow import world as world

MONDAY = "2026-11-23T10:00:00Z"


@pytest.fixture
def org(browser: Browser, world: Scenario, engine: Engine) -> Iterator[Scenario]:
    """Rapport installed for the whole org GRID, with two workspaces; Alice is an admin
    of the org, Bob a workspace admin but no admin of the org."""
    world.slack.add_user(ALICE, org=GRID, org_role="admin")
    world.slack.add_user(BOB, org=GRID, is_admin=True)
    assert browser.install_org(GRID).status_code == 200
    # What each workspace's first request notes (bot/app/oauth.py, once a process:
    # an earlier test's requests noted it in a database since emptied).
    for team in (GRID_EU, GRID_US):
        record_enterprise(engine, team_id=team, enterprise_id=GRID, now=at(MONDAY))
    yield world


def say(world: Scenario, text: str, *, user: str = ALICE, team: str = GRID_EU) -> Reply:
    """`/rapport TEXT` from a workspace of the org, at MONDAY, its after-ack work done."""
    with freeze_time(at(MONDAY), real_asyncio=True):
        reply = world.slack_user.command("/rapport", text, user=user, team=team, org=GRID)
        world.settle()
    assert reply.status == 200 and reply.ephemeral, reply.text
    return reply


def chosen(world: Scenario) -> tuple[str, str] | None:
    with world.db() as session:
        row = session.get(OrgView, GRID)
        return None if row is None else (row.home, row.digests)


def test_a_workspace_admin_who_is_no_org_admin_is_refused_and_nothing_changes(
    org: Scenario,
) -> None:
    checking = say(org, "org home: org digests: org", user=BOB)
    assert "checking that with Slack" in checking.text
    refused = org.answer().text
    assert "Only an admin or owner of your Enterprise Grid org" in refused
    assert "Nothing changed" in refused
    assert chosen(org) is None
    shown = say(org, "org", user=BOB).text
    assert "*App Home:* each person's own items from each workspace's own" in shown


def test_an_org_admin_chooses_the_org_for_home_and_keeps_digests_to_each_workspace(
    org: Scenario,
) -> None:
    say(org, "org home: org digests: workspace")
    assert "Done" in org.answer().text
    assert chosen(org) == ("org", "workspace")
    # Every workspace of the org reads the same choice.
    shown = say(org, "org", user=BOB, team=GRID_US).text
    assert "every workspace of the org, each naming the workspace it is from" in shown
    assert "*Weekly digests:* the accounts of each workspace's own" in shown


def test_without_slacks_word_on_the_role_nothing_changes(org: Scenario) -> None:
    org.slack.fail_next("users.info", error="fatal_error")
    say(org, "org home: org")
    assert "Slack would not say whether you are an admin of your org" in org.answer().text
    assert chosen(org) is None


def test_a_workspace_in_no_org_is_told_the_setting_is_for_grid_orgs(
    browser: Browser, world: Scenario
) -> None:
    world.slack.add_user(ALICE, org=GRID, org_role="admin")
    browser.install("T0ACME")
    with freeze_time(at(MONDAY), real_asyncio=True):
        reply = world.slack_user.command("/rapport", "org home: org", team="T0ACME")
        world.settle()
    assert "is for Enterprise Grid orgs" in reply.text and "nothing changed" in reply.text
    assert chosen(world) is None


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("org home: everywhere", "I read `everywhere`"),
        ("org scope org", "I read `scope org`"),
        ("org home org", "Did you mean `home: org`?"),
    ],
)
def test_a_setting_written_wrong_says_what_was_read_and_how_to_write_it(
    org: Scenario, typed: str, said: str
) -> None:
    reply = say(org, typed)
    assert said in reply.text and "/rapport org" in reply.text
    assert chosen(org) is None
