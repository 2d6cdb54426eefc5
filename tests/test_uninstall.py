"""A workspace removes Rapport: `app_uninstalled` and `tokens_revoked` come in from the
local fake Slack, signed, through the real HTTP server, and every send for that
workspace stops at once while the others' go on; a reinstall brings it all back."""

from __future__ import annotations

import logging
import os
import re
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from freezegun import freeze_time
from pydantic import ValidationError
from sqlalchemy import Engine, func, select

from bot.config import Settings
from bot.devtools.localslack import LocalSlack
from bot.services import uninstalls
from bot.slackapi.installs import InstalledTeams
from storage.db import SessionFactory
from storage.models import (
    SLACK_BOTS,
    SLACK_INSTALLATIONS,
    DeliveryHold,
    Nudge,
    OutboxStatus,
    TeamUninstall,
)
from tests import test_cli
from tests.conftest import at
from tests.distribution import (
    ACME,
    CLIENT_ID,
    GLOBEX,
    Browser,
    kept,
    outbox_of,
    posted_to,
    queue_dm,
    rows_of,
    uninstall,
)

# Named here too for the modules that take it from this one.
from tests.distribution import UNINSTALLED_AT as UNINSTALLED_AT
from tests.scheduling import Scenario
from tests.slackkit import ALICE, BOB, SIGNING_SECRET, ServerThread, SlackSender

NOW = "2026-11-27T09:30:00Z"


def count(engine: Engine, table: object, team: str) -> int:
    column = table.c.team_id if hasattr(table, "c") else table.team_id  # type: ignore[attr-defined]
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).where(column == team)).scalar() or 0)


@pytest.fixture
def two_teams(browser: Browser, world: Scenario) -> Scenario:
    """Acme (Alice) and Globex (Bob) installed, each with a follow-up due on Friday
    morning and a message waiting in the outbox."""
    for user in (ALICE, BOB):
        world.slack.add_user(user, tz="Europe/Paris")
    assert browser.install(ACME).status_code == 200
    assert browser.install(GLOBEX, admin=BOB).status_code == 200
    with freeze_time(at("2026-11-23T10:00:00Z"), real_asyncio=True):
        for team, user in ((ACME, ALICE), (GLOBEX, BOB)):
            reply = world.slack_user.command(
                "/followup", "initech send the pricing sheet due: fri", user=user, team=team
            )
            assert reply.status == 200
        world.settle()
    queue_dm(world.db, ACME, ALICE, "acme's waiting message")
    queue_dm(world.db, GLOBEX, BOB, "globex's waiting message")
    world.slack.clear()
    return world


@pytest.mark.parametrize(
    "order", [("app_uninstalled", "tokens_revoked"), ("tokens_revoked", "app_uninstalled")]
)
def test_an_uninstall_stops_the_teams_sends_at_once_and_no_other_teams(
    two_teams: Scenario, distributed: ServerThread, engine: Engine, order: tuple[str, str]
) -> None:
    world = two_teams
    uninstall(world.slack, distributed, ACME, order=order)

    with world.db() as session:
        (mark,) = session.scalars(select(TeamUninstall)).all()
    assert (mark.team_id, mark.event, mark.since) == (ACME, order[0], at("2026-11-25T12:00:00Z"))
    # Bolt's revocation listeners deleted Acme's installation; Globex's stays.
    for table in (SLACK_INSTALLATIONS, SLACK_BOTS):
        assert (count(engine, table, ACME), count(engine, table, GLOBEX)) == (0, 1)

    report = world.sweep(NOW)
    assert posted_to(world.slack) == {"D0BOB"}, "Globex's follow-up and message went out"
    assert not [c for c in world.slack.calls() if c.token == world.slack.token_of(ACME)]
    assert report.delivery.held == 0, "Acme's rows are not even tried"
    assert outbox_of(world.db, ACME) == [OutboxStatus.PENDING], "held, not failed"
    assert set(outbox_of(world.db, GLOBEX)) == {OutboxStatus.SENT}
    assert count(engine, Nudge, ACME) == 0, "nothing planned for Acme"
    assert count(engine, Nudge, GLOBEX) == 1


def test_a_revoked_token_holds_only_its_teams_deliveries(
    two_teams: Scenario, engine: Engine
) -> None:
    world = two_teams
    world.slack.revoke(world.slack.token_of(ACME))  # Slack answers invalid_auth for it

    report = world.sweep(NOW)
    assert report.delivery.held >= 1
    assert posted_to(world.slack) == {"D0BOB"}
    assert set(outbox_of(world.db, ACME)) == {OutboxStatus.PENDING}
    assert set(outbox_of(world.db, GLOBEX)) == {OutboxStatus.SENT}
    with world.db() as session:
        assert [hold.team_id for hold in session.scalars(select(DeliveryHold))] == [ACME]


def test_a_reinstall_clears_the_mark_and_sends_what_was_held(
    two_teams: Scenario,
    browser: Browser,
    distributed: ServerThread,
    oauth_settings: Settings,
    engine: Engine,
) -> None:
    world = two_teams
    uninstall(world.slack, distributed, ACME)
    world.sweep(NOW)
    assert outbox_of(world.db, ACME) == [OutboxStatus.PENDING]

    assert browser.install(ACME).status_code == 200
    with world.db() as session:
        assert session.scalars(select(TeamUninstall)).all() == []
    world.slack.clear()
    # A fresh process's view of the tokens (InstalledTeams keeps one a minute).
    again = replace(world, client_for=InstalledTeams(oauth_settings, engine))
    again.sweep("2026-11-27T09:31:00Z")
    assert "D0ALICE" in posted_to(world.slack), "the held message and the follow-up go"
    assert set(outbox_of(world.db, ACME)) == {OutboxStatus.SENT}
    assert {c.token for c in world.slack.calls("chat.postMessage")} == {world.slack.token_of(ACME)}


# --- one-workspace mode: the events come too, and the next request is a reinstall ----


@pytest.fixture
def one_team(
    slack_user: SlackSender, slack: LocalSlack, db: SessionFactory, client_for, settings: Settings
) -> Iterator[Scenario]:
    yield Scenario(slack_user, slack, db, client_for, settings)


def test_one_workspace_mode_stops_on_uninstall_and_resumes_at_the_next_request(
    one_team: Scenario, served: ServerThread
) -> None:
    world = one_team
    world.slack.add_user(ALICE, tz="Europe/Paris")
    world.say("2026-11-23T10:00:00Z", "/followup", "initech send the pricing sheet due: fri")
    queue_dm(world.db, "T0ACME", ALICE, "a waiting message")
    uninstall(world.slack, served, "T0ACME", tokens=["xoxb-test-token"])

    world.sweep(NOW)
    assert posted_to(world.slack) == set()
    assert outbox_of(world.db, "T0ACME") == [OutboxStatus.PENDING]

    world.slack.state.revoked.clear()  # installed again, the bot token works
    assert world.slack_user.command("/followup", "initech").status == 200
    world.slack.clear()
    world.sweep("2026-11-27T09:31:00Z")
    assert posted_to(world.slack) == {"D0ALICE"}
    assert set(outbox_of(world.db, "T0ACME")) == {OutboxStatus.SENT}


def test_revoking_only_peoples_tokens_leaves_the_bot_sending(
    one_team: Scenario, served: ServerThread
) -> None:
    status = one_team.slack.send_event(
        {"type": "tokens_revoked", "tokens": {"oauth": [ALICE], "bot": []}},
        events_url=f"{served.url}/slack/events",
        signing_secret=SIGNING_SECRET,
        team_id="T0ACME",
    )
    assert status == 200
    with one_team.db() as session:
        assert session.scalars(select(TeamUninstall)).all() == []


# --- the retention period: the data goes after it, by the sweep, in batches -----------


def test_the_teams_data_is_deleted_after_the_retention_period_and_no_other_teams(
    two_teams: Scenario, distributed: ServerThread, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    world = two_teams
    world.sweep(NOW)  # Globex's follow-up goes out; Acme's data is all still there
    uninstall(world.slack, distributed, ACME)
    acme, globex = rows_of(engine, ACME), rows_of(engine, GLOBEX)
    assert {"accounts", "commitments", "outbox", "team_uninstalls"} <= set(acme)

    world.sweep("2026-12-25T11:59:00Z")  # a minute short of 30 days
    assert rows_of(engine, ACME) == acme

    with caplog.at_level(logging.INFO, logger="rapport.purge"):
        world.sweep("2026-12-25T12:00:00Z")
    assert rows_of(engine, ACME) == {}, "every table, the mark included"
    assert kept(rows_of(engine, GLOBEX), globex), "Globex's data untouched"
    (said,) = [r.getMessage() for r in caplog.records if r.name == "rapport.purge"]
    assert "data is deleted" in said and "accounts 1" in said and "commitments 1" in said


@pytest.fixture
def acme_gone(two_teams: Scenario, distributed: ServerThread) -> Scenario:
    """The two teams, Acme uninstalled on Wednesday."""
    uninstall(two_teams.slack, distributed, ACME)
    return two_teams


@pytest.fixture
def at_once(oauth_settings: Settings) -> Settings:
    """RAPPORT_UNINSTALL_RETENTION_DAYS=0."""
    return oauth_settings.model_copy(update={"uninstall_retention_days": 0})


def test_with_no_retention_the_data_goes_at_the_next_sweep_in_batches(
    acme_gone: Scenario, engine: Engine, at_once: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = acme_gone
    monkeypatch.setattr(uninstalls, "PURGE_BATCH", 2)
    monkeypatch.setattr(uninstalls, "PURGE_PER_SWEEP", 3)
    before = sum(rows_of(engine, ACME).values())
    globex = rows_of(engine, GLOBEX)

    sweeps = 0
    while rows_of(engine, ACME):
        world.sweep(NOW, settings=at_once)
        sweeps += 1
        assert sweeps < 10
    assert sweeps == -(-(before - 1) // 3), "3 rows a sweep, the mark last"
    assert kept(rows_of(engine, GLOBEX), globex)


def test_the_sweeps_write_nothing_for_an_uninstalled_team(
    acme_gone: Scenario, engine: Engine
) -> None:
    """Its rows wait as it left them, for a reinstall or their deletion: not even the
    health watch's row of a new day is added (its pass is not run for it)."""
    before = rows_of(engine, ACME)
    for day in ("2026-11-27T09:30:00Z", "2026-11-28T09:30:00Z"):
        acme_gone.sweep(day)
    assert rows_of(engine, ACME) == before


def test_a_reinstall_after_the_deletion_began_stops_it(
    acme_gone: Scenario,
    browser: Browser,
    engine: Engine,
    at_once: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = acme_gone
    monkeypatch.setattr(uninstalls, "PURGE_PER_SWEEP", 1)
    world.sweep(NOW, settings=at_once)
    left = rows_of(engine, ACME)
    assert browser.install(ACME).status_code == 200
    world.sweep("2026-11-27T09:31:00Z", settings=at_once)
    assert rows_of(engine, ACME)["accounts"] == left["accounts"] == 1


def test_the_retention_period_is_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert Settings(_env_file=None).uninstall_retention_days == 30  # type: ignore[call-arg]
    monkeypatch.setenv("RAPPORT_UNINSTALL_RETENTION_DAYS", "7")
    assert Settings(_env_file=None).uninstall_retention_days == 7  # type: ignore[call-arg]
    monkeypatch.setenv("RAPPORT_UNINSTALL_RETENTION_DAYS", "-1")
    with pytest.raises(ValidationError):
        Settings(_env_file=None)  # type: ignore[call-arg]


# --- the operator's commands: rapport installs [check], rapport purge ----------------


Operator = Callable[..., "subprocess.CompletedProcess[str]"]
rapport_here = test_cli.rapport_here  # `rapport ARGS` in this process


@pytest.fixture
def operator(
    oauth_settings: Settings, database_url: str, tmp_path: Path, rapport_here: test_cli.Rapport
) -> Operator:
    """`rapport ARGS` in distributed mode on the test database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "RAPPORT_"))}
    env |= {
        "DATABASE_URL": database_url,
        "SLACK_CLIENT_ID": CLIENT_ID,
        "SLACK_CLIENT_SECRET": "client-secret",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": oauth_settings.slack_api_url,
        "SLACK_MAX_RETRIES": "0",
    }
    return lambda *args: rapport_here(*args, env=env, cwd=tmp_path)


def test_purge_says_what_it_would_delete_then_deletes_it_with_yes(
    two_teams: Scenario, engine: Engine, operator: Operator
) -> None:
    acme, globex = rows_of(engine, ACME), rows_of(engine, GLOBEX)

    counted = operator("purge", "--team", ACME)
    assert counted.returncode == 0
    assert re.search(r"accounts\s+1\n", counted.stdout)
    assert re.search(r"slack_installations\s+1\n", counted.stdout)
    assert f"rows of team {ACME} would be deleted; nothing was deleted" in counted.stdout
    assert rows_of(engine, ACME) == acme

    done = operator("purge", "--team", ACME, "--yes")
    assert done.returncode == 0 and f"deleted {sum(acme.values())} rows" in done.stdout
    assert rows_of(engine, ACME) == {}
    assert rows_of(engine, GLOBEX) == globex
    assert "Rapport keeps nothing" in operator("purge", "--team", ACME).stdout


def test_purge_refuses_a_team_not_written_as_slack_writes_it(operator: Operator) -> None:
    done = operator("purge", "--team", "acme", "--yes")
    assert done.returncode == 2
    assert "read 'acme', which is not a Slack team id" in done.stderr


def test_installs_lists_each_workspace_and_its_state(
    two_teams: Scenario, distributed: ServerThread, operator: Operator
) -> None:
    listed = operator("installs")
    assert listed.returncode == 0
    lines = {line.split()[0]: line for line in listed.stdout.splitlines() if line[:2] == "T0"}
    assert set(lines) == {ACME, GLOBEX}
    assert f"by={BOB}" in lines[GLOBEX] and "bot=U0RAPPORT" in lines[GLOBEX]
    assert "expires=never" in lines[GLOBEX] and "state=active" in lines[GLOBEX]
    assert "scopes: commands,chat:write" in listed.stdout

    uninstall(two_teams.slack, distributed, ACME)
    listed = operator("installs")
    (acme,) = [line for line in listed.stdout.splitlines() if line.startswith(ACME)]
    assert acme.endswith(
        "state=uninstalled since 2026-11-25 12:00 UTC, data deleted from 2026-12-25 12:00 UTC"
    )


def test_installs_check_reports_each_token_slack_refuses(
    two_teams: Scenario, operator: Operator
) -> None:
    fine = operator("installs", "check")
    assert (fine.returncode, fine.stdout.strip()) == (0, "installs check: 2 of 2 tokens work")
    assert len(two_teams.slack.calls("auth.test")) == 2

    two_teams.slack.revoke(two_teams.slack.token_of(GLOBEX))
    failing = operator("installs", "check")
    assert failing.returncode == 1
    assert failing.stdout.splitlines() == [
        f"{GLOBEX}: Slack refuses its token (invalid_auth)",
        "installs check: 1 of 2 tokens work",
    ]


def test_installs_in_one_workspace_mode_in_a_process_of_its_own(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_URL"))}
    env |= {"SLACK_BOT_TOKEN": "xoxb-x", "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    done = test_cli.rapport("installs", env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "one-workspace mode" in done.stdout


def test_a_reminder_planned_before_the_uninstall_waits_as_it_is(
    two_teams: Scenario, distributed: ServerThread, engine: Engine
) -> None:
    world = two_teams
    world.sweep("2026-11-27T08:00:00Z")
    with world.db.begin() as session:  # Acme's next reminder, planned for 09:00
        sent = session.scalars(select(Nudge).where(Nudge.team_id == ACME)).one()
        waiting = {c.name: getattr(sent, c.name) for c in Nudge.__table__.c if c.name != "id"}
        waiting |= {"slot": "next", "status": "pending", "outbox_id": None}
        session.add(Nudge(**waiting | {"deliver_at": at("2026-11-27T09:00:00Z")}))
    before = outbox_of(world.db, ACME)
    uninstall(world.slack, distributed, ACME)
    world.slack.clear()

    world.sweep(NOW)
    assert "D0ALICE" not in posted_to(world.slack)
    assert ALICE not in [c.args["user"] for c in world.slack.calls("users.info")]
    assert outbox_of(world.db, ACME) == before, "no message made of it"
    with world.db() as session:
        assert session.scalar(select(Nudge.status).where(Nudge.slot == "next")) == "pending"


def test_the_outbox_command_names_an_uninstalled_team_whose_messages_wait(
    acme_gone: Scenario, operator: Operator
) -> None:
    shown = operator("outbox")
    assert shown.returncode == 0
    assert (
        f"team {ACME}: uninstalled since 2026-11-25 12:00 UTC; its messages wait for a "
        "reinstall, and its data is deleted from 2026-12-25 12:00 UTC"
    ) in shown.stdout


def test_with_oauth_only_a_reinstall_brings_a_workspace_back(
    two_teams: Scenario, distributed: ServerThread
) -> None:
    """The bot's token revoked (no uninstall): a command Bolt still lets through (it
    checked that token before) does not count as the workspace coming back."""
    world = two_teams
    status = world.slack.send_event(
        {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["U0RAPPORT"]}},
        events_url=f"{distributed.url}/slack/events",
        signing_secret=SIGNING_SECRET,
        team_id=ACME,
    )
    assert status == 200
    world.slack_user.command("/followup", "initech")
    with world.db() as session:
        assert [mark.team_id for mark in session.scalars(select(TeamUninstall))] == [ACME]
