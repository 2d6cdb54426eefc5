"""Enterprise Grid: a user id is one person in every workspace of an org, so a person's
own settings (working hours, time away, manager, digest opt-out, zone) are kept once,
for the org, and hold for what Rapport does for them in each of its workspaces.
Through the real HTTP server in distributed mode, the org installed as a whole
(tests/test_install_flow.py)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, time
from typing import Any

import pytest
from freezegun import freeze_time
from sqlalchemy import Engine, MetaData, Table, insert, select, update

from bot.scheduler.delivery import ChannelPacer
from bot.services.uninstalls import purge_some
from storage.db import SessionFactory
from storage.installs import record_enterprise
from storage.models import Commitment, UserPrefs
from storage.uninstalls import team_tables
from tests import test_install_flow as install_flow
from tests import test_migrations
from tests.conftest import at
from tests.scheduling import Scenario
from tests.slackkit import ALICE, BOB, Reply, blocks_text, view_submission
from tests.test_install_flow import GRID, GRID_EU, GRID_US, Browser

# Distributed mode's fixtures: Rapport served with OAuth, a browser that installs it.
oauth_settings = install_flow.oauth_settings
distributed = install_flow.distributed
browser = install_flow.browser
world = install_flow.world

# Another org, with a workspace of its own; and a workspace in no org.
OTHER_ORG, OTHER_EU = "E0OTHER", "T0OTHEREU"
ALONE = "T0ALONE"

MONDAY = "2026-11-23T10:00:00Z"  # "fri" is Fri 27 Nov 2026


@pytest.fixture
def grid(browser: Browser, world: Scenario, engine: Engine) -> Iterator[Scenario]:
    """The org installed as a whole, both its workspaces known to be in it (as their
    first requests note them), Alice and Bob in UTC."""
    world.slack.add_user(ALICE, tz="UTC")
    world.slack.add_user(BOB, tz="UTC")
    assert browser.install_org(GRID).status_code == 200
    note_org(engine, GRID, GRID_EU, GRID_US)
    yield world


def note_org(engine: Engine, org: str, *teams: str) -> None:
    for team in teams:
        record_enterprise(engine, team_id=team, enterprise_id=org, now=datetime.now(UTC))


def say(
    world: Scenario,
    when: str,
    team: str,
    command: str,
    text: str,
    *,
    user: str = ALICE,
    org: str | None = GRID,
) -> Reply:
    """`user` types `command` in the workspace `team` (of `org`, installed as a whole)."""
    with freeze_time(at(when), real_asyncio=True):
        reply = world.slack_user.command(command, text, user=user, team=team, org=org)
        world.settle()
    assert reply.status == 200 and "not installed" not in reply.text, reply
    return reply


def save_form(
    world: Scenario,
    when: str,
    team: str,
    *,
    user: str = ALICE,
    org: str = GRID,
    away: tuple[str, str] | None = None,
    manager: str | None = None,
    no_digests: bool = False,
) -> None:
    """`user` saves the settings form in the workspace `team`: 9 to 5, Monday to
    Friday, and the time away, manager and digest opt-out given."""
    values: dict[str, dict[str, Any]] = {
        "work_start": {"value": {"type": "timepicker", "selected_time": "09:00"}},
        "work_end": {"value": {"type": "timepicker", "selected_time": "17:00"}},
        "work_days": {
            "value": {
                "type": "checkboxes",
                "selected_options": [{"value": str(day)} for day in range(5)],
            }
        },
        "tz_override": {"value": {"type": "plain_text_input", "value": None}},
        "away_from": {"value": {"type": "datepicker", "selected_date": away and away[0]}},
        "away_until": {"value": {"type": "datepicker", "selected_date": away and away[1]}},
        "manager": {"value": {"type": "users_select", "selected_user": manager}},
        "digest": {
            "value": {
                "type": "checkboxes",
                "selected_options": [{"value": "opt_out"}] if no_digests else [],
            }
        },
    }
    payload = view_submission("user_settings", values, user=user, team=team)
    # From a workspace of an org Rapport is installed in as a whole, as Slack sends it.
    payload["enterprise"] = {"id": org, "name": org}
    payload["team"]["enterprise_id"] = org
    payload["is_enterprise_install"] = True
    with freeze_time(at(when), real_asyncio=True):
        reply = world.slack_user.interact(payload)
        world.settle()
    assert reply.status == 200 and not reply.body.get("errors"), reply


def kept(db: SessionFactory) -> dict[tuple[str, str], str]:
    """Whose settings are stored, under which scope: (scope, user) -> working hours."""
    with db() as session:
        return {
            (p.team_id, p.user_id): f"{p.work_start:%H:%M}-{p.work_end:%H:%M}"
            for p in session.scalars(select(UserPrefs))
        }


def test_working_hours_set_in_one_workspace_hold_the_nudges_of_another(grid: Scenario) -> None:
    say(grid, MONDAY, GRID_EU, "/rapport", "settings hours: 14-17")
    say(grid, MONDAY, GRID_US, "/followup", "initech send the pricing sheet due: fri")
    assert kept(grid.db) == {(GRID, ALICE): "14:00-17:00"}, "one person, kept for the org"

    grid.slack.clear()
    grid.sweep("2026-11-27T09:30:00Z")
    assert grid.dms(ALICE) == [], "Alice starts at two, in every workspace of the org"
    grid.sweep("2026-11-27T14:05:00Z")
    (due,) = grid.dm_texts(ALICE)
    assert "send the pricing sheet" in due


def test_time_away_set_in_one_workspace_holds_the_nudges_of_another(grid: Scenario) -> None:
    save_form(grid, MONDAY, GRID_EU, away=("2026-11-26", "2026-11-30"))
    say(grid, MONDAY, GRID_US, "/followup", "initech send the pricing sheet due: fri")

    grid.slack.clear()
    for day in ("2026-11-27", "2026-11-30"):
        grid.sweep(f"{day}T10:00:00Z")
    assert grid.dms(ALICE) == [], "away, from every workspace of the org"
    grid.sweep("2026-12-01T10:00:00Z")
    assert any("send the pricing sheet" in text for text in grid.dm_texts(ALICE))


def test_a_manager_named_in_one_workspace_sees_the_escalations_of_another(
    grid: Scenario,
) -> None:
    save_form(grid, "2026-11-13T10:00:00Z", GRID_EU, manager=BOB)
    say(grid, "2026-11-13T10:00:00Z", GRID_US, "/followup", "initech old promise due: 2026-11-16")

    grid.slack.clear()
    grid.sweep("2026-12-03T09:00:00Z")  # long overdue: the ladder has run out
    assert any("old promise" in text for text in grid.dm_texts(BOB)), "escalated to Bob"
    listing = say(grid, "2026-12-03T10:00:00Z", GRID_US, "/rapport", "due", user=BOB).text
    assert "Escalated to you" in listing and "old promise" in listing


def test_a_digest_opt_out_made_in_one_workspace_holds_in_the_digests_of_another(
    grid: Scenario,
) -> None:
    save_form(grid, MONDAY, GRID_EU, no_digests=True)
    for user, followup in ((ALICE, "initech alices promise"), (BOB, "umbrella bobs promise")):
        say(grid, MONDAY, GRID_US, "/followup", f"{followup} due: 2026-11-25", user=user)
    say(grid, MONDAY, GRID_US, "/rapport", "digest <#C0USSALES|sales> day: mon time: 09:00")

    scene = replace(grid, pacer=ChannelPacer(grid.db, interval=0))  # posts without a pause
    scene.slack.clear()
    assert scene.sweep("2026-11-30T09:00:00Z").digests == 1
    posted = "\n".join(
        blocks_text(call.args)
        for call in scene.slack.calls("chat.postMessage")
        if call.args["channel"] == "C0USSALES"
    )
    assert "bobs promise" in posted and "alices promise" not in posted


def test_a_zone_learned_in_one_workspace_re_times_the_follow_ups_of_another(
    grid: Scenario,
) -> None:
    """Slack could not say Alice's zone when she made a promise in one workspace (it
    ended at midnight in the team's default zone); learned at her next command in the
    other, it is hers in both, and both promises end at midnight in Tokyo."""
    grid.slack.add_user(ALICE, tz="Asia/Tokyo")
    grid.slack.fail_next("users.info", status=503)
    say(grid, MONDAY, GRID_US, "/followup", "initech send the pricing sheet due: fri")
    say(grid, MONDAY, GRID_EU, "/followup", "hooli send the contract due: fri")
    with grid.db() as session:
        ends = dict(session.execute(select(Commitment.team_id, Commitment.due_at)).all())
    assert ends == {GRID_EU: at("2026-11-27T15:00:00Z"), GRID_US: at("2026-11-27T15:00:00Z")}


def test_the_sweep_asks_slack_once_for_the_zone_of_a_person_of_two_workspaces(
    grid: Scenario,
) -> None:
    for team in (GRID_EU, GRID_US):
        say(grid, MONDAY, team, "/followup", f"initech promise in {team} due: fri")
    with grid.db.begin() as session:  # known a week ago: stale
        session.execute(update(UserPrefs).values(slack_tz_fetched_at=at(MONDAY)))
    grid.slack.clear()
    grid.sweep("2026-11-30T10:00:00Z")
    assert len(grid.slack.calls("users.info")) == 1
    assert len(grid.dms(ALICE)) == 2


def test_a_workspace_in_no_org_keeps_its_people_to_itself(grid: Scenario, browser: Browser) -> None:
    """The same user id in a workspace outside the org is a person of that workspace:
    the org's settings are not theirs, nor theirs the org's."""
    assert browser.install(ALONE).status_code == 200
    say(grid, MONDAY, GRID_EU, "/rapport", "settings hours: 14-17")
    say(grid, MONDAY, ALONE, "/rapport", "settings hours: 7-12", org=None)
    assert kept(grid.db) == {(GRID, ALICE): "14:00-17:00", (ALONE, ALICE): "07:00-12:00"}

    say(grid, MONDAY, ALONE, "/followup", "hooli send the contract due: fri", org=None)
    say(grid, MONDAY, GRID_US, "/followup", "initech send the pricing sheet due: fri")
    grid.slack.clear()
    grid.sweep("2026-11-27T07:30:00Z")
    (alone,) = grid.dm_texts(ALICE)
    assert "send the contract" in alone and "pricing sheet" not in alone
    grid.sweep("2026-11-27T14:05:00Z")
    assert "send the pricing sheet" in grid.dm_texts(ALICE)[-1]


def test_two_orgs_never_share_a_persons_settings(
    grid: Scenario, browser: Browser, engine: Engine
) -> None:
    """A user id is unique within an org, not across orgs: the same id in two orgs is
    two people, each with their own hours and manager."""
    assert browser.install_org(OTHER_ORG).status_code == 200
    note_org(engine, OTHER_ORG, OTHER_EU)
    save_form(grid, "2026-11-13T10:00:00Z", GRID_EU, manager=BOB)
    say(grid, MONDAY, OTHER_EU, "/rapport", "settings hours: 14-17", org=OTHER_ORG)
    assert kept(grid.db) == {(GRID, ALICE): "09:00-17:00", (OTHER_ORG, ALICE): "14:00-17:00"}

    say(
        grid,
        "2026-11-13T10:00:00Z",
        OTHER_EU,
        "/followup",
        "hooli old promise due: 2026-11-16",
        org=OTHER_ORG,
    )
    grid.slack.clear()
    grid.sweep("2026-12-03T09:00:00Z")
    assert grid.dms(BOB) == [], "Bob manages Alice in the other org, not in this one"
    assert grid.dms(ALICE) == [], "Alice of the other org starts at two"
    listing = say(
        grid, "2026-12-03T10:00:00Z", OTHER_EU, "/rapport", "due", user=BOB, org=OTHER_ORG
    )
    assert "Escalated to you" not in listing.text


def test_a_purge_of_one_workspace_of_the_org_leaves_the_orgs_people(
    grid: Scenario, browser: Browser
) -> None:
    """A person's settings under the org's id are the org's: deleting one workspace's
    data (`rapport purge --team`) leaves them; the org's own purge takes them. A
    workspace outside any org keeps its people's under its own id, so its purge
    deletes them with the rest (user_prefs is one of its tables)."""
    assert UserPrefs.__table__ in team_tables()
    say(grid, MONDAY, GRID_EU, "/rapport", "settings hours: 14-17")
    say(grid, MONDAY, GRID_EU, "/followup", "initech send the pricing sheet due: fri")
    with grid.db.begin() as session:
        purged = purge_some(session, team_id=GRID_EU, limit=1000)
    assert purged.done and "accounts" in purged.rows and "user_prefs" not in purged.rows
    assert kept(grid.db) == {(GRID, ALICE): "14:00-17:00"}

    assert browser.install(ALONE).status_code == 200
    say(grid, MONDAY, ALONE, "/rapport", "settings hours: 7-12", org=None)
    with grid.db.begin() as session:
        assert purge_some(session, team_id=ALONE, limit=1000).rows["user_prefs"] == 1
    assert kept(grid.db) == {(GRID, ALICE): "14:00-17:00"}


def test_people_of_a_workspace_noted_in_its_org_later_move_to_the_org(
    grid: Scenario, browser: Browser, engine: Engine
) -> None:
    """A workspace of the org installed on its own, its people's settings kept under
    it, is noted in the org at a later request: they move to the org, except where the
    org has the person already (the settings its other workspaces use)."""
    asia = "T0GRIDASIA"
    assert browser.install(asia).status_code == 200
    say(grid, MONDAY, GRID_EU, "/rapport", "settings hours: 14-17")
    for user, hours in ((ALICE, "7-12"), (BOB, "8-16")):
        say(grid, MONDAY, asia, "/rapport", f"settings hours: {hours}", user=user, org=None)
    assert set(kept(grid.db)) == {(GRID, ALICE), (asia, ALICE), (asia, BOB)}

    note_org(engine, GRID, asia)
    assert kept(grid.db) == {(GRID, ALICE): "14:00-17:00", (GRID, BOB): "08:00-16:00"}


# --- migration 0023: the settings of people of workspaces already noted in an org ---

empty_engine = test_migrations.empty_engine


def test_the_migration_moves_the_settings_of_an_orgs_workspaces_to_the_org(
    empty_engine: Engine,
) -> None:
    """Alice has settings in both workspaces of the org: the ones of the workspace
    where Rapport saw her last are kept (her hours there, 14-17). Bob's one row moves;
    Carol's, in a workspace of no org, stays. Down again, each workspace of the org
    has a copy."""
    test_migrations.step(empty_engine, "upgrade", "0022")
    meta = MetaData()
    prefs = Table("user_prefs", meta, autoload_with=empty_engine)
    orgs = Table("team_enterprises", meta, autoload_with=empty_engine)

    def person(team: str, user: str, seen: str | None, hours: tuple[int, int]) -> dict[str, Any]:
        return {
            "team_id": team,
            "user_id": user,
            "slack_tz_fetched_at": at(seen).replace(tzinfo=None) if seen else None,
            "work_start": time(hours[0]),
            "work_end": time(hours[1]),
            "work_days": "01234",
            "digest_opt_out": False,
        }

    with empty_engine.begin() as conn:
        seen = at(MONDAY).replace(tzinfo=None)
        conn.execute(
            insert(orgs),
            [{"team_id": t, "enterprise_id": GRID, "seen_at": seen} for t in (GRID_EU, GRID_US)],
        )
        conn.execute(
            insert(prefs),
            [
                person(GRID_EU, ALICE, "2026-11-20T10:00:00Z", (9, 17)),
                person(GRID_US, ALICE, "2026-11-25T10:00:00Z", (14, 17)),
                person(GRID_US, BOB, None, (8, 16)),
                person(ALONE, "U0CAROL", None, (7, 12)),
            ],
        )

    def stored() -> dict[tuple[str, str], str]:
        with empty_engine.connect() as conn:
            rows = conn.execute(select(prefs.c.team_id, prefs.c.user_id, prefs.c.work_start))
            return {(team, user): str(start)[:5] for team, user, start in rows}

    test_migrations.step(empty_engine, "upgrade", "0023")
    assert stored() == {(GRID, ALICE): "14:00", (GRID, BOB): "08:00", (ALONE, "U0CAROL"): "07:00"}

    test_migrations.step(empty_engine, "downgrade", "0022")
    assert stored() == {
        (GRID_EU, ALICE): "14:00",
        (GRID_US, ALICE): "14:00",
        (GRID_EU, BOB): "08:00",
        (GRID_US, BOB): "08:00",
        (ALONE, "U0CAROL"): "07:00",
    }
    test_migrations.step(empty_engine, "upgrade", "heads")
    assert test_migrations.differences(empty_engine) == []
