"""An Enterprise Grid org's life with an org-wide install, through the real HTTP server
and the local fake Slack: the org of a workspace seen only through events is noted,
an org admin lets the install into workspaces and takes it out of them, removes it
from the whole org and installs it again, and an operator deletes an org's data."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace

import pytest
import yaml
from freezegun import freeze_time
from sqlalchemy import Engine, and_, func, select

from bot.app.oauth import MANIFEST
from bot.config import Settings
from bot.devtools.localslack import LocalSlack, event_envelope
from bot.slackapi.installs import InstalledTeams
from storage.db import SessionFactory
from storage.installs import record_enterprise
from storage.models import SLACK_BOTS, SLACK_INSTALLATIONS, OutboxStatus, TeamUninstall
from storage.orgs import org_of
from tests import test_uninstall as uninstall_tests
from tests.conftest import at
from tests.distribution import (
    GRID,
    GRID_EU,
    GRID_US,
    UNINSTALLED_AT,
    Browser,
    outbox_of,
    posted_to,
    queue_dm,
    rows_of,
    uninstall,
)
from tests.scheduling import Scenario
from tests.slackkit import ALICE, BOB, SIGNING_SECRET, ServerThread
from tests.test_uninstall import NOW

operator = uninstall_tests.operator
rapport_here = uninstall_tests.rapport_here

# A workspace of the org that an admin installed Rapport in as well: its own install
# serves it, whatever becomes of the org-wide one.
GRID_OWN = "T0GRIDOWN"
CAROL = "U0CAROL"
SEEN_BY_EVENTS = "T0GRIDHOME"


def events_url(server: ServerThread) -> str:
    return f"{server.url}/slack/events"


def marks(db: SessionFactory) -> dict[str, tuple[str | None, str]]:
    """Each mark: its team, and its org and event."""
    with db() as session:
        return {
            m.team_id: (m.enterprise_id, m.event) for m in session.scalars(select(TeamUninstall))
        }


def org_installs(engine: Engine) -> int:
    """The org-wide install's rows (no team, the org), in both of slack_sdk's tables."""
    with engine.connect() as conn:
        return sum(
            int(
                conn.execute(
                    select(func.count())
                    .select_from(table)
                    .where(and_(table.c.team_id.is_(None), table.c.enterprise_id == GRID))
                ).scalar()
                or 0
            )
            for table in (SLACK_INSTALLATIONS, SLACK_BOTS)
        )


def uninstall_org(
    slack: LocalSlack,
    server: ServerThread,
    *,
    envelope_team: str | None = None,
    order: tuple[str, str] = ("app_uninstalled", "tokens_revoked"),
) -> None:
    """An org admin removes Rapport from the whole org on Wednesday."""
    with freeze_time(at(UNINSTALLED_AT), real_asyncio=True):
        statuses = slack.uninstall(
            envelope_team,
            enterprise_id=GRID,
            org_wide=True,
            events_url=events_url(server),
            signing_secret=SIGNING_SECRET,
            order=order,
        )
    assert statuses == [200, 200]


@pytest.fixture
def grid(browser: Browser, world: Scenario, engine: Engine) -> Iterator[Scenario]:
    """The org installed org-wide; Alice (EU) and Bob (US) each have a follow-up due on
    Friday morning, made in a workspace of the org, and a message waiting; a third
    workspace of the org has an install of its own and Carol's follow-up."""
    for user in (ALICE, BOB, CAROL):
        world.slack.add_user(user, tz="Europe/Paris")
    assert browser.install_org(GRID).status_code == 200
    assert browser.allow(team_id=GRID_OWN, user_id=CAROL, enterprise_id=GRID).status_code == 200
    with freeze_time(at("2026-11-23T10:00:00Z"), real_asyncio=True):
        for team, user in ((GRID_EU, ALICE), (GRID_US, BOB)):
            reply = world.slack_user.command(
                "/followup",
                "initech send the pricing sheet due: fri",
                user=user,
                team=team,
                org=GRID,
            )
            assert reply.status == 200 and "not installed" not in reply.text
        own = world.slack_user.command(
            "/followup", "initech send the pricing sheet due: fri", user=CAROL, team=GRID_OWN
        )
        assert own.status == 200
        world.settle()
    # The server notes each workspace's org once a process, and the database is new
    # at each test: noted here, as an earlier test's server may have.
    for team in (GRID_EU, GRID_US, GRID_OWN):
        record_enterprise(engine, team_id=team, enterprise_id=GRID, now=at(NOW))
    for team, user in ((GRID_EU, ALICE), (GRID_US, BOB), (GRID_OWN, CAROL)):
        queue_dm(world.db, team, user, f"{team}'s waiting message")
    world.slack.clear()
    yield world


def fresh(world: Scenario, oauth_settings: Settings, engine: Engine) -> Scenario:
    """The world as a fresh process sees the tokens (InstalledTeams keeps one a minute)."""
    return replace(world, client_for=InstalledTeams(oauth_settings, engine))


# --- 1. events from an org-wide install note their workspace's org ----------------


def test_a_workspace_seen_only_through_events_gets_the_orgs_token_in_the_sweep(
    browser: Browser,
    world: Scenario,
    distributed: ServerThread,
    oauth_settings: Settings,
    engine: Engine,
) -> None:
    """Bolt authorizes an org-wide install's event by the org alone (its authorization
    names no team): the workspace is read from the envelope and its org noted, so
    the sweep finds the org's token for it. (A workspace no other test uses: the
    server notes a workspace's org once a process.)"""
    assert browser.install_org(GRID).status_code == 200
    status = world.slack.send_event(
        {"type": "app_home_opened", "user": ALICE, "channel": "D0ALICE", "tab": "home"},
        events_url=events_url(distributed),
        signing_secret=SIGNING_SECRET,
        team_id=SEEN_BY_EVENTS,
        enterprise_id=GRID,
        org_wide=True,
    )
    assert status == 200
    with world.db() as session:
        assert org_of(session, team_id=SEEN_BY_EVENTS) == GRID
    teams = InstalledTeams(oauth_settings, engine)
    assert teams(SEEN_BY_EVENTS).token == world.slack.token_of(None, GRID)


# --- 2. the org-wide install taken out of workspaces, and let in again ----------------


def test_access_revoked_stops_those_workspaces_and_granted_brings_them_back(
    grid: Scenario, distributed: ServerThread, oauth_settings: Settings, engine: Engine
) -> None:
    with freeze_time(at(UNINSTALLED_AT), real_asyncio=True):
        status = grid.slack.team_access(
            GRID,
            [GRID_EU],
            granted=False,
            events_url=events_url(distributed),
            signing_secret=SIGNING_SECRET,
        )
    assert status == 200
    assert marks(grid.db) == {GRID_EU: (GRID, "team_access_revoked")}
    assert org_installs(engine) == 2, "the org-wide install still serves the others"

    grid.sweep(NOW)
    assert posted_to(grid.slack) == {"D0BOB", "D0CAROL"}
    assert outbox_of(grid.db, GRID_EU) == [OutboxStatus.PENDING], "held, not failed"

    # Let in again, with a workspace new to Rapport: its org is noted from the event.
    status = grid.slack.team_access(
        GRID,
        [GRID_EU, "T0GRIDASIA"],
        granted=True,
        events_url=events_url(distributed),
        signing_secret=SIGNING_SECRET,
    )
    assert status == 200
    assert marks(grid.db) == {}
    with grid.db() as session:
        assert org_of(session, team_id="T0GRIDASIA") == GRID
    grid.slack.clear()
    fresh(grid, oauth_settings, engine).sweep("2026-11-27T09:31:00Z")
    assert "D0ALICE" in posted_to(grid.slack), "the held message and the follow-up go"
    assert set(outbox_of(grid.db, GRID_EU)) == {OutboxStatus.SENT}


# --- 3. the org-wide install removed: the whole org stops ----------------------------


@pytest.mark.parametrize("envelope_team", [None, GRID], ids=["team-null", "team-is-org"])
@pytest.mark.parametrize(
    "order",
    [("app_uninstalled", "tokens_revoked"), ("tokens_revoked", "app_uninstalled")],
    ids=["uninstalled-first", "revoked-first"],
)
def test_an_org_wide_uninstall_stops_the_org_and_each_of_its_workspaces(
    grid: Scenario,
    distributed: ServerThread,
    engine: Engine,
    envelope_team: str | None,
    order: tuple[str, str],
) -> None:
    uninstall_org(grid.slack, distributed, envelope_team=envelope_team, order=order)
    first = order[0]
    assert marks(grid.db) == {
        GRID: (GRID, first),
        GRID_EU: (GRID, first),
        GRID_US: (GRID, first),
    }, "the org and the workspaces it served; not the one with an install of its own"
    with grid.db() as session:
        (org_mark,) = session.scalars(select(TeamUninstall).where(TeamUninstall.team_id == GRID))
    assert org_mark.since == at(UNINSTALLED_AT)
    assert org_installs(engine) == 0, "Bolt's revocation listeners deleted the org's install"

    report = grid.sweep(NOW)
    assert posted_to(grid.slack) == {"D0CAROL"}
    assert report.delivery.held == 0, "the org's rows are not even tried"
    for team in (GRID_EU, GRID_US):
        assert outbox_of(grid.db, team) == [OutboxStatus.PENDING]


def test_a_workspace_level_uninstall_inside_the_org_stops_that_workspace_alone(
    grid: Scenario, distributed: ServerThread, engine: Engine
) -> None:
    uninstall(grid.slack, distributed, GRID_OWN, enterprise_id=GRID)
    assert marks(grid.db) == {GRID_OWN: (GRID, "app_uninstalled")}
    assert uninstall_tests.count(engine, SLACK_BOTS, GRID_OWN) == 0, "its own install deleted"
    assert org_installs(engine) == 2


# --- 4. the org installs Rapport org-wide again --------------------------------------


def test_an_org_wide_reinstall_brings_back_the_org_and_its_workspaces(
    grid: Scenario,
    browser: Browser,
    distributed: ServerThread,
    oauth_settings: Settings,
    engine: Engine,
) -> None:
    uninstall_org(grid.slack, distributed)
    grid.sweep(NOW)
    assert outbox_of(grid.db, GRID_EU) == [OutboxStatus.PENDING]

    assert browser.install_org(GRID).status_code == 200
    assert marks(grid.db) == {}
    grid.slack.clear()
    fresh(grid, oauth_settings, engine).sweep("2026-11-27T09:31:00Z")
    assert {"D0ALICE", "D0BOB"} <= posted_to(grid.slack)
    org_token = grid.slack.token_of(None, GRID)
    for team in (GRID_EU, GRID_US):
        assert set(outbox_of(grid.db, team)) == {OutboxStatus.SENT}
    sent = {c.args["channel"]: c.token for c in grid.slack.calls("chat.postMessage")}
    assert sent["D0ALICE"] == sent["D0BOB"] == org_token


# --- retention, and the operator's commands ------------------------------------------


def test_the_orgs_own_rows_go_with_its_workspaces_after_the_retention_period(
    grid: Scenario, distributed: ServerThread, engine: Engine
) -> None:
    queue_dm(grid.db, GRID, ALICE, "a row the org keeps under its own id")
    uninstall_org(grid.slack, distributed)
    own = rows_of(engine, GRID_OWN)
    # People's settings are the org's too (storage/orgs.py): kept under its id.
    assert {"outbox", "team_uninstalls", "user_prefs"} <= rows_of(engine, GRID).keys()

    grid.sweep("2026-12-25T12:00:00Z")
    for scope in (GRID, GRID_EU, GRID_US):
        assert rows_of(engine, scope) == {}, scope
    assert rows_of(engine, GRID_OWN).keys() >= own.keys(), (
        "the workspace with its own install stays"
    )


def test_purge_of_an_org_counts_each_workspace_then_deletes_them_and_the_orgs_rows(
    grid: Scenario, engine: Engine, operator: uninstall_tests.Operator
) -> None:
    # The org's own rows: those kept under its id, and its org-wide install's two.
    queue_dm(grid.db, GRID, ALICE, "a row the org keeps under its own id")
    before = {scope: rows_of(engine, scope) for scope in (GRID, GRID_EU, GRID_US, GRID_OWN)}

    counted = operator("purge", "--enterprise", GRID)
    assert counted.returncode == 0, counted.stderr
    out = counted.stdout
    for team in (GRID_EU, GRID_US, GRID_OWN):
        assert re.search(rf"team {team}: \d+ rows", out), out
    own = sum(rows_of(engine, GRID).values()) + org_installs(engine)
    assert re.search(rf"enterprise {GRID} \(its own rows\): {own} rows", out), out
    assert "nothing was deleted" in out
    assert {scope: rows_of(engine, scope) for scope in before} == before

    done = operator("purge", "--enterprise", GRID, "--yes")
    assert done.returncode == 0, done.stderr
    for scope in before:
        assert rows_of(engine, scope) == {}, scope
    assert org_installs(engine) == 0, "the org-wide install went with the org's rows"


def test_installs_shows_the_orgs_mark_on_its_org_wide_install(
    grid: Scenario, distributed: ServerThread, operator: uninstall_tests.Operator
) -> None:
    listed = operator("installs")
    (org,) = [line for line in listed.stdout.splitlines() if line.startswith("(org-wide)")]
    assert f"enterprise={GRID}" in org and org.endswith("state=active")

    uninstall_org(grid.slack, distributed)
    lines = operator("installs").stdout.splitlines()
    (org,) = [line for line in lines if line.startswith(f"{GRID} (org-wide)")]
    assert org.endswith(
        "state=uninstalled since 2026-11-25 12:00 UTC, data deleted from 2026-12-25 12:00 UTC"
    )
    assert [line.split()[0] for line in lines if "state=uninstalled" in line] == [
        GRID,
        GRID_EU,
        GRID_US,
    ]
    assert (
        f"org {GRID}: uninstalled since 2026-11-25 12:00 UTC; its messages wait for a "
        "reinstall" in operator("outbox").stdout
    )


def test_the_local_slack_sends_the_org_events_as_slack_does() -> None:
    org = event_envelope(
        {"type": "team_access_granted", "team_ids": [GRID_EU]},
        team_id=None,
        enterprise_id=GRID,
        org_wide=True,
    )
    assert org["team_id"] is None and org["enterprise_id"] == GRID
    (authorization,) = org["authorizations"]
    assert authorization["team_id"] is None and authorization["is_enterprise_install"]
    one = event_envelope({"type": "app_uninstalled"}, team_id=GRID_OWN, enterprise_id=GRID)
    assert one["authorizations"][0]["enterprise_id"] == GRID
    assert one["authorizations"][0]["team_id"] == GRID_OWN


def test_the_manifest_is_org_ready_and_hears_the_orgs_access_events() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    settings = manifest["settings"]
    assert settings["org_deploy_enabled"] is True
    assert {"team_access_granted", "team_access_revoked"} <= set(
        settings["event_subscriptions"]["bot_events"]
    )
