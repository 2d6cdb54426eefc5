"""Enterprise Grid: App Home and the weekly digests stay within the workspace they
were set up in, unless an admin of the org chooses the org (`/rapport org`). Through
the real HTTP server, an org-wide install (tests/distribution.py's fixtures), signed
requests and the local fake Slack."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace

import pytest
from freezegun import freeze_time
from sqlalchemy import Engine, select

from bot.devtools.localslack import event_envelope
from bot.scheduler.delivery import ChannelPacer
from storage import uninstalls
from storage.installs import record_enterprise
from storage.models import Commitment, OrgView
from tests.conftest import at
from tests.distribution import GRID, GRID_EU, GRID_US, Browser
from tests.scheduling import Scenario
from tests.slackkit import ALICE, BOB, Reply, blocks_text

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
    assert "*App Home:* each person's own items from the workspace it is opened in" in shown


def test_an_org_admin_chooses_the_org_for_home_and_keeps_digests_to_each_workspace(
    org: Scenario,
) -> None:
    say(org, "org home: org digests: workspace")
    assert "Done" in org.answer().text
    assert chosen(org) == ("org", "workspace")
    # Every workspace of the org reads the same choice.
    shown = say(org, "org", user=BOB, team=GRID_US).text
    assert "every workspace of the org, each naming the workspace it is from" in shown
    assert "*Weekly digests:* the accounts of the channel's own workspace" in shown


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


# --- App Home --------------------------------------------------------------------------

NAMES = {GRID_EU: "Grid Europe", GRID_US: "Grid Americas"}


def promise(world: Scenario, team: str, followup: str, *, user: str = ALICE) -> None:
    with freeze_time(at(MONDAY), real_asyncio=True):
        reply = world.slack_user.command("/followup", followup, user=user, team=team, org=GRID)
        world.settle()
    assert reply.status == 200 and "not installed" not in reply.text, reply.text


def home(world: Scenario, team: str, *, user: str = ALICE, org: str | None = GRID) -> dict:
    """The App Home `user` is shown on opening it in `team`, a workspace of `org`."""
    event = {"type": "app_home_opened", "user": user, "channel": "D0HOME", "tab": "home"}
    envelope = event_envelope(event, team_id=team, enterprise_id=org)
    # Rapport is installed for the whole org, as Slack says of each request of it.
    envelope["authorizations"][0].update(enterprise_id=org, is_enterprise_install=org is not None)
    before = len(world.slack.calls("views.publish"))
    with freeze_time(at(MONDAY), real_asyncio=True):
        assert world.slack_user.post_signed(json.dumps(envelope)).status_code == 200
        world.settle()
    published = world.slack.wait_for("views.publish", before + 1)[before]
    assert published.args["user_id"] == user
    view: dict = published.args["view"]
    return view


def buttons_of(view: dict) -> list[str]:
    """The block ids of the follow-ups Home offers Done and Snooze for."""
    return [b["block_id"] for b in view["blocks"] if b["type"] == "actions"]


@pytest.fixture
def named(org: Scenario) -> Scenario:
    org.slack.state.team_names.update(NAMES)
    return org


def test_by_default_each_workspaces_home_shows_only_its_own_follow_ups(named: Scenario) -> None:
    promise(named, GRID_EU, "initech send the pricing sheet due: fri")
    promise(named, GRID_US, "umbrella call about the SLA due: fri")
    eu, us = blocks_text(home(named, GRID_EU)), blocks_text(home(named, GRID_US))
    assert "pricing sheet" in eu and "SLA" not in eu and "Grid Americas" not in eu
    assert "SLA" in us and "pricing sheet" not in us and "Grid Europe" not in us


def test_with_home_org_a_reps_home_lists_their_follow_up_from_the_other_workspace_named(
    named: Scenario,
) -> None:
    promise(named, GRID_EU, "initech send the pricing sheet due: fri")
    promise(named, GRID_US, "umbrella call about the SLA due: fri")
    promise(named, GRID_US, "hooli demo the new plan due: fri", user=BOB)
    say(named, "org home: org")
    assert "Done" in named.answer().text

    view = home(named, GRID_EU)
    text = blocks_text(view)
    assert "*initech*: send the pricing sheet" in text
    assert "*umbrella* _(in Grid Americas)_: call about the SLA" in text
    assert "Close or snooze it from Rapport's Home in Grid Americas." in text
    assert "hooli" not in text.lower(), "Bob's follow-up is his own"
    # Buttons only on this workspace's own follow-up.
    with named.db() as session:
        own = session.scalar(select(Commitment.id).where(Commitment.team_id == GRID_EU))
    assert buttons_of(view) == [f"home_commitment_{own}"]
    # The other way round, from the other workspace.
    us = blocks_text(home(named, GRID_US))
    assert "*initech* _(in Grid Europe)_: send the pricing sheet" in us
    assert "*umbrella*: call about the SLA" in us


def test_a_workspace_of_another_org_or_of_none_never_sees_the_orgs_follow_ups(
    named: Scenario, browser: Browser, engine: Engine
) -> None:
    promise(named, GRID_US, "umbrella call about the SLA due: fri")
    say(named, "org home: org")
    # Another org, installed for the whole org too, and its admin chose the org as well.
    other_org, other_team = "E0OTHER", "T0OTHERA"
    named.slack.add_user(ALICE, org=other_org, org_role="admin")
    assert browser.install_org(other_org).status_code == 200
    record_enterprise(engine, team_id=other_team, enterprise_id=other_org, now=at(MONDAY))
    with freeze_time(at(MONDAY), real_asyncio=True):
        named.slack_user.command("/rapport", "org home: org", team=other_team, org=other_org)
        named.settle()
    assert "SLA" not in blocks_text(home(named, other_team, org=other_org))
    # A workspace in no org.
    browser.install("T0ACME")
    assert "SLA" not in blocks_text(home(named, "T0ACME", org=None))


def test_a_workspace_that_uninstalled_leaves_the_orgs_home_at_once(named: Scenario) -> None:
    promise(named, GRID_US, "umbrella call about the SLA due: fri")
    say(named, "org home: org")
    assert "SLA" in blocks_text(home(named, GRID_EU))
    with named.db.begin() as session:
        uninstalls.mark(
            session, team_id=GRID_US, enterprise_id=GRID, event="app_uninstalled", now=at(MONDAY)
        )
    assert "SLA" not in blocks_text(home(named, GRID_EU))


# --- Weekly digests --------------------------------------------------------------------

SALES = "C0GRIDSALES"


def digest_of_week(named: Scenario) -> str:
    """Both workspaces' follow-ups overdue by the next Monday, a weekly digest set up in
    GRID_EU's #sales; the digest's text as it was posted there that Monday."""
    promise(named, GRID_EU, "initech send the pricing sheet due: 2026-11-25")
    promise(named, GRID_US, "umbrella call about the SLA due: 2026-11-25", user=BOB)
    say(named, f"digest <#{SALES}|sales> day: mon time: 09:00")
    scene = replace(named, pacer=ChannelPacer(named.db, interval=0))
    scene.slack.clear()
    assert scene.sweep("2026-11-30T09:00:00Z").digests == 1
    posts = [c.args for c in scene.slack.calls("chat.postMessage") if c.args["channel"] == SALES]
    assert posts, "the digest was posted"
    return "\n".join(blocks_text(post) for post in posts)


def test_by_default_a_digest_covers_its_own_workspaces_accounts(named: Scenario) -> None:
    posted = digest_of_week(named)
    assert "initech" in posted and "umbrella" not in posted
    assert "Grid Americas" not in posted and "_(Grid Europe)_" not in posted


def test_with_digests_org_a_digest_lists_both_workspaces_accounts_each_named(
    named: Scenario,
) -> None:
    say(named, "org digests: org")
    assert "Done" in named.answer().text
    posted = digest_of_week(named)
    assert "*initech* _(Grid Europe)_: send the pricing sheet" in posted
    assert "*umbrella* _(Grid Americas)_: call about the SLA" in posted
    assert "Covers 2 accounts across the team, in Grid Europe and Grid Americas." in posted


def test_the_preview_of_an_org_digest_shows_both_workspaces_as_the_channel_gets_them(
    named: Scenario,
) -> None:
    promise(named, GRID_EU, "initech send the pricing sheet due: 2026-11-25")
    promise(named, GRID_US, "umbrella call about the SLA due: 2026-11-25", user=BOB)
    say(named, "org digests: org")
    named.slack.clear()
    with freeze_time(at("2026-11-27T10:00:00Z"), real_asyncio=True):
        preview = f"digest <#{SALES}|sales> preview"
        named.slack_user.command("/rapport", preview, team=GRID_EU, org=GRID)
        named.settle()
    shown = "\n".join(Reply(200, call.args).text for call in named.slack.calls("response_url"))
    assert "*initech* _(Grid Europe)_" in shown and "*umbrella* _(Grid Americas)_" in shown
