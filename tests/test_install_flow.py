"""Distributed mode through the real HTTP server: workspaces install Rapport through
/slack/install → Slack's consent (the local fake's) → /slack/oauth_redirect, and each
one's commands and nudges then go out with that workspace's own token."""

from __future__ import annotations

import logging
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from html import unescape
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
import yaml
from freezegun import freeze_time
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine, delete, func, select, update

from bot.app.oauth import MANIFEST, ORG_REWRITE_S, OrgsOfWorkspaces, manifest_scopes
from bot.config import Settings
from bot.devtools.localslack import LocalSlack
from bot.scheduler.delivery import ChannelPacer
from bot.slackapi.installs import InstalledTeams
from messages.pages import NOT_INSTALLED
from storage import outbox
from storage.installs import record_enterprise
from storage.models import SLACK_BOTS, SLACK_INSTALLATIONS, SLACK_OAUTH_STATES, TeamEnterprise
from tests.conftest import BOT_TOKEN, at
from tests.distribution import (
    ACME,
    CLIENT_ID,
    COOKIE,
    GLOBEX,
    GRID,
    GRID_EU,
    GRID_US,
    Browser,
    renewals,
)

# The fixtures are tests/distribution.py's; named here too for the modules that take
# them from this one.
from tests.distribution import browser as browser
from tests.distribution import distributed as distributed
from tests.distribution import oauth_settings as oauth_settings
from tests.distribution import world as world
from tests.scheduling import Scenario
from tests.slackkit import ALICE, BOB, ServerThread, SlackSender


def stored(engine: Engine) -> tuple[int, int]:
    with engine.connect() as conn:
        installs = conn.execute(select(func.count()).select_from(SLACK_INSTALLATIONS)).scalar()
        bots = conn.execute(select(func.count()).select_from(SLACK_BOTS)).scalar()
    return installs or 0, bots or 0


def test_the_install_page_asks_for_the_manifests_scopes(browser: Browser) -> None:
    page, state = browser.open_install_page()
    assert page.status_code == 200 and "Add Rapport to your Slack workspace" in page.text
    link = re.search(r'id="add-to-slack" href="([^"]+)"', page.text)
    assert link is not None
    asked = parse_qs(urlparse(unescape(link.group(1))).query)
    assert asked["client_id"] == [CLIENT_ID]
    assert asked["scope"] == [",".join(manifest_scopes().bot)]
    assert "chat:write" in asked["scope"][0]
    # The browser that opened the page is the one whose way back is trusted.
    assert f"{COOKIE}={state}" in page.headers["set-cookie"]


def test_the_manifest_sends_installers_back_to_the_redirect_page(
    distributed: ServerThread, oauth_settings: Settings
) -> None:
    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    (url,) = manifest["oauth_config"]["redirect_urls"]
    assert urlparse(url).path == "/slack/oauth_redirect"
    assert httpx.get(f"{distributed.url}/slack/oauth_redirect").status_code == 400


def test_two_workspaces_install_and_each_is_served_with_its_own_token(
    browser: Browser, world: Scenario, engine: Engine
) -> None:
    world.slack.add_user(ALICE, tz="Europe/Paris")
    world.slack.add_user(BOB, tz="Europe/Paris")
    done = browser.install(ACME, name="Acme & Co")
    assert done.status_code == 200
    assert "Rapport is now in Acme &amp; Co" in done.text and "/rapport help" in done.text
    assert browser.install(GLOBEX, admin=BOB).status_code == 200
    acme_token, globex_token = (world.slack.token_of(team) for team in (ACME, GLOBEX))
    assert acme_token != globex_token

    # Each team's command is authorized with its own token (Bolt's auth.test), and
    # the Slack calls it makes after the ack carry it too.
    world.say("2026-11-23T10:00:00Z", "/followup", "initech send the pricing sheet due: fri")
    with freeze_time(at("2026-11-23T10:00:00Z"), real_asyncio=True):
        globex = "umbrella call about the SLA due: fri"
        world.slack_user.command("/followup", globex, user=BOB, team=GLOBEX)
        world.settle()
    assert {c.token for c in world.slack.calls("auth.test")} == {acme_token, globex_token}
    for call in world.slack.calls("users.info"):
        assert call.token == (acme_token if call.args["user"] == ALICE else globex_token)

    # Neither sees the other's accounts.
    assert "pricing sheet" in world.slack_user.command("/followup", "initech").text
    other = world.slack_user.command("/followup", "initech", user=BOB, team=GLOBEX)
    assert "pricing sheet" not in other.text

    # Each team's nudge goes out with that team's token.
    world.slack.clear()
    world.sweep("2026-11-27T09:30:00Z")
    sent = {call.args["channel"]: call.token for call in world.slack.calls("chat.postMessage")}
    assert sent == {"D0ALICE": acme_token, "D0BOB": globex_token}


def test_an_org_wide_install_serves_each_workspace_of_the_org_with_the_orgs_token(
    browser: Browser, world: Scenario, engine: Engine
) -> None:
    """Installed for a whole Enterprise Grid org, Rapport has no install per workspace:
    each workspace's commands, and the nudges the sweep sends it, go with the org's
    token, and each workspace still sees only its own accounts."""
    world.slack.add_user(ALICE, tz="Europe/Paris")
    world.slack.add_user(BOB, tz="Europe/Paris")
    done = browser.install_org(GRID)
    assert done.status_code == 200 and "Rapport is now in E0GRID" in done.text
    org_token = world.slack.token_of(None, GRID)

    asked = {GRID_EU: "initech send the pricing sheet", GRID_US: "umbrella call about the SLA"}
    with freeze_time(at("2026-11-23T10:00:00Z"), real_asyncio=True):
        for (team, followup), user in zip(asked.items(), (ALICE, BOB), strict=True):
            reply = world.slack_user.command(
                "/followup", f"{followup} due: fri", user=user, team=team, org=GRID
            )
            assert reply.status == 200 and "not installed" not in reply.text
        world.settle()
    assert {c.token for c in world.slack.calls("auth.test")} == {org_token}
    assert {c.token for c in world.slack.calls("users.info")} == {org_token}

    # One org, two workspaces: neither sees the other's accounts.
    eu = world.slack_user.command("/followup", "", team=GRID_EU, org=GRID).text
    us = world.slack_user.command("/followup", "", user=BOB, team=GRID_US, org=GRID).text
    assert "pricing sheet" in eu and "SLA" not in eu
    assert "SLA" in us and "pricing sheet" not in us

    # The sweep finds the org's install for each workspace, and sends with its token.
    world.slack.clear()
    report = world.sweep("2026-11-27T09:30:00Z").delivery
    assert (report.sent, report.held) == (2, 0)
    sent = {call.args["channel"]: call.token for call in world.slack.calls("chat.postMessage")}
    assert sent == {"D0ALICE": org_token, "D0BOB": org_token}


def test_a_workspace_of_the_org_with_an_install_of_its_own_keeps_its_own_token(
    browser: Browser, slack: LocalSlack, engine: Engine, oauth_settings: Settings
) -> None:
    """An admin installed Rapport in one workspace of the org as well: that workspace
    is served with its own install's token, the org's other workspaces with the org's,
    and a workspace whose org is not known yet with none (its messages wait)."""
    browser.install_org(GRID)
    browser.install(GRID_EU)
    now = datetime.now(UTC)
    for team in (GRID_EU, GRID_US):
        record_enterprise(engine, team_id=team, enterprise_id=GRID, now=now)
    teams = InstalledTeams(oauth_settings, engine)
    assert teams(GRID_EU).token == slack.token_of(GRID_EU)
    assert teams(GRID_US).token == slack.token_of(None, GRID)
    assert teams("T0GRIDASIA").token is None


def test_a_team_no_install_serves_waits_and_nothing_goes_to_slack_without_a_token(
    browser: Browser, world: Scenario, engine: Engine
) -> None:
    """A workspace with data that no installation serves (one of an org-wide install's
    workspaces before its org is known, say): its messages are held, and not one call is
    made for it, since Slack refuses any call without a token."""
    world.slack.add_user(ALICE, tz="Europe/Paris")
    world.slack.add_user(BOB, tz="Europe/Paris")
    browser.install(ACME)
    browser.install(GLOBEX, admin=BOB)
    with freeze_time(at("2026-11-23T10:00:00Z"), real_asyncio=True):
        for team, user in ((ACME, ALICE), (GLOBEX, BOB)):
            followup = "initech send the pricing sheet due: fri"
            assert world.slack_user.command("/followup", followup, user=user, team=team).status
        world.settle()
    with engine.begin() as conn:
        for table in (SLACK_INSTALLATIONS, SLACK_BOTS):
            conn.execute(delete(table).where(table.c.team_id == ACME))
    world.slack.clear()

    report = world.sweep("2026-11-27T09:30:00Z").delivery
    assert (report.sent, report.held) == (1, 1)
    assert {c.args["channel"] for c in world.slack.calls("chat.postMessage")} == {"D0BOB"}
    assert [c.method for c in world.slack.calls() if c.token is None] == []


@pytest.mark.usefixtures("db")
def test_a_workspaces_org_is_written_at_its_first_request_not_at_each(engine: Engine) -> None:
    def orgs_noted() -> dict[str, str]:
        with engine.connect() as conn:
            noted = select(TeamEnterprise.team_id, TeamEnterprise.enterprise_id)
            return dict(conn.execute(noted).all())

    clock = [0.0]
    orgs = OrgsOfWorkspaces(engine, clock=lambda: clock[0])
    orgs.note(team_id=GRID_EU, enterprise_id=GRID)
    assert orgs_noted() == {GRID_EU: GRID}
    with engine.begin() as conn:
        conn.execute(delete(TeamEnterprise))  # as the purge of an uninstalled workspace does
    orgs.note(team_id=GRID_EU, enterprise_id=GRID)
    assert orgs_noted() == {}, "the next requests cost no write"
    clock[0] += ORG_REWRITE_S
    orgs.note(team_id=GRID_EU, enterprise_id=GRID)
    assert orgs_noted() == {GRID_EU: GRID}, "written again after a while"
    orgs.note(team_id=GRID_EU, enterprise_id="E0OTHER")
    assert orgs_noted() == {GRID_EU: "E0OTHER"}, "moved to another org"


@pytest.mark.usefixtures("frozen_installs")
def test_the_orgs_rotating_token_is_renewed_once_for_all_its_workspaces(
    browser: Browser, slack: LocalSlack, engine: Engine, oauth_settings: Settings
) -> None:
    """Token rotation on an org-wide install: the sweep's lookup for one workspace
    renews the org's token about to run out and saves it on the org's install, where
    the lookup for the org's next workspace finds it renewed."""
    with freeze_time(at("2026-11-23T09:00:00Z"), real_asyncio=True):
        assert browser.install_org(GRID, rotation=True, expires_in=3 * 3600).status_code == 200
        for team in (GRID_EU, GRID_US):
            record_enterprise(engine, team_id=team, enterprise_id=GRID, now=datetime.now(UTC))
    old = slack.token_of(None, GRID)
    slack.clear()
    teams = InstalledTeams(oauth_settings, engine)
    with freeze_time(at("2026-11-23T10:30:00Z"), real_asyncio=True):
        renewed = teams(GRID_EU).token
        assert renewed == slack.token_of(None, GRID) != old
        assert teams(GRID_US).token == renewed
    assert renewals(slack) == [GRID]


@pytest.mark.usefixtures("frozen_installs")
def test_two_workspaces_of_the_org_asking_at_once_renew_its_token_once(
    browser: Browser, slack: LocalSlack, engine: Engine, oauth_settings: Settings
) -> None:
    with freeze_time(at("2026-11-23T09:00:00Z"), real_asyncio=True):
        assert browser.install_org(GRID, rotation=True, expires_in=3 * 3600).status_code == 200
        for team in (GRID_EU, GRID_US):
            record_enterprise(engine, team_id=team, enterprise_id=GRID, now=datetime.now(UTC))
    slack.clear()
    slack.fail_next("oauth.v2.access", accepted=True, delay=0.3)  # a slow renewal
    teams = InstalledTeams(oauth_settings, engine)
    start = threading.Barrier(2)

    def ask(team: str) -> str | None:
        start.wait()
        return teams(team).token

    with freeze_time(at("2026-11-23T10:30:00Z"), real_asyncio=True), ThreadPoolExecutor(2) as pool:
        tokens = set(pool.map(ask, (GRID_EU, GRID_US)))
    assert renewals(slack) == [GRID]
    assert tokens == {slack.token_of(None, GRID)}


def test_each_teams_weekly_digest_goes_to_its_channel_with_its_own_token(
    browser: Browser, world: Scenario
) -> None:
    browser.install(ACME)
    browser.install(GLOBEX, admin=BOB)
    scene = replace(world, pacer=ChannelPacer(world.db, interval=0))  # posts without a pause
    for team, user, channel in ((ACME, ALICE, "C0ACMESALES"), (GLOBEX, BOB, "C0GLOBEXSALES")):
        with freeze_time(at("2026-11-23T10:00:00Z"), real_asyncio=True):
            followup = "initech send the pricing sheet due: 2026-11-25"
            assert (
                scene.slack_user.command("/followup", followup, user=user, team=team).status == 200
            )
            digest = f"digest <#{channel}|sales> day: mon time: 09:00"
            assert scene.slack_user.command("/rapport", digest, user=user, team=team).status == 200
    scene.settle()
    scene.slack.clear()

    assert scene.sweep("2026-11-30T09:00:00Z").digests == 2
    tokens = {
        "C0ACMESALES": world.slack.token_of(ACME),
        "C0GLOBEXSALES": world.slack.token_of(GLOBEX),
    }
    posts = [c for c in scene.slack.calls("chat.postMessage") if c.args["channel"] in tokens]
    assert {c.args["channel"] for c in posts} == set(tokens)
    for post in posts:
        assert post.token == tokens[post.args["channel"]]
    uploads = scene.slack.calls("files.completeUploadExternal")
    assert len(uploads) == 2, "each team's chart"
    for upload in uploads:
        assert upload.token == tokens[upload.args["channel_id"]]


def test_a_reinstall_by_another_admin_updates_the_install_and_keeps_the_data(
    browser: Browser, world: Scenario, engine: Engine
) -> None:
    browser.install(ACME)
    first = world.slack.token_of(ACME)
    world.say("2026-11-23T10:00:00Z", "/followup", "initech send the pricing sheet due: fri")

    assert browser.install(ACME, admin=BOB).status_code == 200
    second = world.slack.token_of(ACME)
    assert second != first
    world.slack.clear()
    listed = world.slack_user.command("/followup", "initech")
    assert "pricing sheet" in listed.text, "the team's data stays"
    assert [c.token for c in world.slack.calls("auth.test")] == [second]


def test_consent_refused_on_slacks_page_shows_why_and_stores_nothing(
    browser: Browser, engine: Engine
) -> None:
    _, state = browser.open_install_page()
    back = browser.come_back({"error": "access_denied", "state": state}, state_cookie=state)
    assert back.status_code == 200
    assert "The install was cancelled on Slack's page" in unescape(back.text)
    assert "Nothing was saved." in back.text and 'href="/slack/install"' in back.text
    assert stored(engine) == (0, 0)


@pytest.mark.parametrize("how", ["missing", "expired", "reused", "other browser"])
def test_a_way_back_without_a_good_state_shows_why_and_stores_nothing(
    browser: Browser, engine: Engine, how: str
) -> None:
    _, state = browser.open_install_page()
    code = browser.slack.consent(GLOBEX, team_name="Globex", user_id=BOB)
    query, cookie = {"code": code, "state": state}, state
    if how == "reused":
        assert browser.come_back(query, state_cookie=cookie).status_code == 200
    before = stored(engine)
    if how == "missing":
        query, cookie = {"code": code}, None
    elif how == "expired":
        with engine.begin() as conn:
            conn.execute(update(SLACK_OAUTH_STATES).values(expire_at=datetime(2026, 1, 1)))
    elif how == "other browser":
        cookie = None  # the link opened in a browser that never saw the install page
    back = browser.come_back(query, state_cookie=cookie)
    assert back.status_code in (400, 401)
    assert "This install link has run out or was already used" in back.text
    assert "Nothing was saved." in back.text
    assert stored(engine) == before
    # Slack was not even asked for the install the code stands for.
    assert len(browser.slack.calls("oauth.v2.access")) == (1 if how == "reused" else 0)


def test_a_team_without_an_install_is_told_how_to_install_and_logged_once(
    world: Scenario, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        for _ in range(2):
            reply = world.slack_user.command("/followup", "initech", team="T0NOWHERE")
            assert reply.status == 200
    told = [c.args.get("text") for c in world.slack.wait_for("response_url", 2)]
    assert told == [NOT_INSTALLED, NOT_INSTALLED]
    about = [r for r in caplog.records if "T0NOWHERE" in r.getMessage()]
    assert len(about) == 1 and about[0].exc_info is None
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_an_install_with_token_rotation_keeps_the_refresh_token_and_expiry(
    browser: Browser, engine: Engine
) -> None:
    assert browser.install(ACME, rotation=True).status_code == 200
    with engine.connect() as conn:
        bot = conn.execute(select(SLACK_BOTS)).one()
    assert bot.bot_token == browser.slack.token_of(ACME)
    assert bot.bot_token.startswith("xoxe.xoxb-") and bot.bot_refresh_token.startswith("xoxe-1-")
    assert bot.bot_token_expires_at is not None


def test_a_request_refreshes_its_workspaces_token_before_it_expires(
    browser: Browser, world: Scenario, engine: Engine, oauth_settings: Settings
) -> None:
    """Token rotation on: Bolt renews a token about to expire before the listener runs,
    and stores the new one, which the sweep then sends with."""
    browser.install(ACME, rotation=True)
    old = world.slack.token_of(ACME)
    soon = datetime.now(UTC).replace(tzinfo=None) + timedelta(minutes=10)
    with engine.begin() as conn:
        for table in (SLACK_INSTALLATIONS, SLACK_BOTS):
            conn.execute(update(table).values(bot_token_expires_at=soon))
    world.slack.clear()

    assert world.slack_user.command("/followup", "initech").status == 200
    (renewal,) = world.slack.calls("oauth.v2.access")
    assert renewal.args["grant_type"] == "refresh_token"
    new = world.slack.token_of(ACME)
    assert new != old
    assert [call.token for call in world.slack.calls("auth.test")] == [new]
    assert InstalledTeams(oauth_settings, engine)(ACME).token == new


def test_the_local_slack_answers_installs_as_slack_does(slack: LocalSlack) -> None:
    """oauth.v2.access for one workspace and for a whole Enterprise Grid org, with and
    without token rotation; auth.test for each token it handed out."""
    client = WebClient(base_url=slack.api_url)
    code = slack.consent(ACME, team_name="Acme", user_id=ALICE)
    one = client.oauth_v2_access(client_id=CLIENT_ID, client_secret="s", code=code)
    assert one["team"] == {"id": ACME, "name": "Acme"} and not one["is_enterprise_install"]
    assert "refresh_token" not in one.data
    assert client.auth_test(token=one["access_token"])["team_id"] == ACME
    with pytest.raises(SlackApiError, match="invalid_code"):
        client.oauth_v2_access(client_id=CLIENT_ID, client_secret="s", code=code)
    assert slack.calls("oauth.v2.access")[0].args["client_id"] == CLIENT_ID

    org = slack.consent(None, user_id=BOB, enterprise_id="E0GRID", org_wide=True, rotation=True)
    grid = client.oauth_v2_access(client_id=CLIENT_ID, client_secret="s", code=org)
    assert grid["team"] is None and grid["enterprise"]["id"] == "E0GRID"
    assert grid["is_enterprise_install"] and grid["expires_in"] == 43200
    said = client.auth_test(token=grid["access_token"])
    assert said["enterprise_id"] == "E0GRID" and said["is_enterprise_install"]
    renewed = client.oauth_v2_access(
        client_id=CLIENT_ID,
        client_secret="s",
        grant_type="refresh_token",
        refresh_token=grid["refresh_token"],
    )
    assert renewed["access_token"] != grid["access_token"]
    assert [c.token for c in slack.calls("auth.test")] == [
        one["access_token"],
        grid["access_token"],
    ]


def test_the_local_slack_refuses_a_call_without_a_token_it_knows_as_slack_does(
    slack: LocalSlack,
) -> None:
    """No token: `not_authed`; one it never handed out, or revoked: `invalid_auth`;
    the app token anywhere but apps.connections.open: `not_allowed_token_type`; each
    with HTTP 200, as Slack answers them."""
    api = WebClient(base_url=slack.api_url)
    refused = {
        None: "not_authed",
        "xoxb-never-handed-out": "invalid_auth",
        slack.state.app_token: "not_allowed_token_type",
    }
    for token, error in refused.items():
        with pytest.raises(SlackApiError) as raised:
            api.chat_postMessage(channel="D0ALICE", text="hi", token=token)
        assert (raised.value.response.status_code, raised.value.response["error"]) == (200, error)
    assert slack.posted("D0ALICE") == [], "nothing was posted"
    assert [c.token for c in slack.calls("chat.postMessage")] == list(refused)

    assert api.auth_test(token=BOT_TOKEN)["team_id"] == "T0LOCAL", "one-workspace mode's"
    handed_out = api.oauth_v2_access(  # the app's id and secret, no token
        client_id=CLIENT_ID, client_secret="s", code=slack.consent(ACME, user_id=ALICE)
    )["access_token"]
    assert api.auth_test(token=handed_out)["team_id"] == ACME
    slack.revoke(handed_out)
    with pytest.raises(SlackApiError, match="invalid_auth"):
        api.auth_test(token=handed_out)

    # Socket Mode's door takes the app token alone.
    slack.state.socket_url = "ws://127.0.0.1:9/link/"
    try:
        for token, error in ((None, "not_authed"), (BOT_TOKEN, "not_allowed_token_type")):
            with pytest.raises(SlackApiError, match=error):
                api.apps_connections_open(app_token=token)  # type: ignore[arg-type]
        assert api.apps_connections_open(app_token=slack.state.app_token)["url"]
    finally:
        slack.state.socket_url = None


def test_one_workspace_mode_has_no_install_pages(slack_user: SlackSender) -> None:
    for path in ("/slack/install", "/slack/oauth_redirect"):
        assert slack_user.http.get(path).status_code == 404


@pytest.mark.usefixtures("frozen_installs")
def test_the_sweep_renews_a_token_that_ran_out_before_it_sends(
    browser: Browser, world: Scenario, engine: Engine, oauth_settings: Settings
) -> None:
    """Token rotation on, and no request from the workspace for days: its token ran out.
    The sweep renews it before the nudge goes (Slack would answer token_expired) and
    stores it; a later sweep sends with the stored token without renewing it again."""
    scene = replace(world, client_for=InstalledTeams(oauth_settings, engine, ttl_s=0))
    scene.slack.add_user(ALICE, tz="Europe/Paris")
    scene.slack.add_user(BOB, tz="America/New_York")
    with freeze_time(at("2026-11-23T09:00:00Z"), real_asyncio=True):
        assert browser.install(ACME, rotation=True).status_code == 200  # good for 12 hours
    old = scene.slack.token_of(ACME)
    for user in (ALICE, BOB):
        followup = "initech send the pricing sheet due: fri"
        scene.say("2026-11-23T10:00:00Z", "/followup", followup, user=user)
    scene.slack.clear()

    with freeze_time(at("2026-11-27T09:30:00Z"), real_asyncio=True):
        assert scene.sweep("2026-11-27T09:30:00Z").delivery.sent == 1  # Bob's waits for 9am
    assert renewals(scene.slack) == [ACME]
    new = scene.slack.token_of(ACME)
    assert new != old
    assert [call.token for call in scene.slack.calls("chat.postMessage")] == [new]

    scene.slack.clear()
    with freeze_time(at("2026-11-27T14:00:00Z"), real_asyncio=True):
        assert scene.sweep("2026-11-27T14:00:00Z").delivery.sent == 1
    assert renewals(scene.slack) == []
    (post,) = scene.slack.calls("chat.postMessage")
    assert (post.args["channel"], post.token) == ("D0BOB", new)


def test_threads_asking_at_once_for_a_token_about_to_run_out_renew_it_once(
    browser: Browser, slack: LocalSlack, engine: Engine, oauth_settings: Settings
) -> None:
    assert browser.install(ACME, rotation=True, expires_in=3600).status_code == 200
    slack.clear()
    slack.fail_next("oauth.v2.access", accepted=True, delay=0.3)  # a slow renewal
    teams = InstalledTeams(oauth_settings, engine)
    start = threading.Barrier(6)

    def ask() -> str | None:
        start.wait()
        return teams(ACME).token

    with ThreadPoolExecutor(6) as pool:
        tokens = set(pool.map(lambda _: ask(), range(6)))
    assert renewals(slack) == [ACME]
    assert tokens == {slack.token_of(ACME)}


@pytest.mark.usefixtures("frozen_installs")
def test_a_refused_renewal_holds_that_teams_messages_alone_until_it_reinstalls(
    browser: Browser,
    world: Scenario,
    engine: Engine,
    oauth_settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    scene = replace(world, client_for=InstalledTeams(oauth_settings, engine, ttl_s=0))
    scene.slack.add_user(ALICE, tz="Europe/Paris")
    scene.slack.add_user(BOB, tz="Europe/Paris")
    with freeze_time(at("2026-11-23T09:00:00Z"), real_asyncio=True):
        browser.install(ACME, rotation=True, expires_in=4 * 3600)
        browser.install(GLOBEX, admin=BOB, rotation=True, expires_in=4 * 3600)
        for user, team in ((ALICE, ACME), (BOB, GLOBEX)):
            followup = "initech send the pricing sheet due: fri"
            assert scene.slack_user.command("/followup", followup, user=user, team=team).status
        scene.settle()
    scene.slack.refuse_refresh(ACME)
    scene.slack.clear()

    with freeze_time(at("2026-11-27T09:30:00Z"), real_asyncio=True):
        report = scene.sweep("2026-11-27T09:30:00Z").delivery
    assert (report.sent, report.held) == (1, 1)
    assert sorted(renewals(scene.slack)) == [ACME, GLOBEX]
    (post,) = scene.slack.calls("chat.postMessage")
    assert (post.args["channel"], post.token) == ("D0BOB", scene.slack.token_of(GLOBEX))
    with scene.db() as session:
        assert [(h.team_id, h.error) for h in outbox.holds(session)] == [(ACME, "token_expired")]

    # Slack is not asked again with a refresh token it refused.
    scene.slack.clear()
    with freeze_time(at("2026-11-27T09:35:00Z"), real_asyncio=True):
        assert scene.sweep("2026-11-27T09:35:00Z").delivery.sent == 0
    assert renewals(scene.slack) == []
    assert scene.slack.calls("auth.test"), "the hold's token check"
    refused = [r for r in caplog.records if "refused to renew" in r.getMessage()]
    assert [r.levelno for r in refused if r.levelno >= logging.ERROR] == [logging.ERROR]

    # Installed again: the new token lifts the hold, and the waiting nudge goes.
    with freeze_time(at("2026-11-27T10:00:00Z"), real_asyncio=True):
        assert browser.install(ACME, rotation=True).status_code == 200
        assert scene.sweep("2026-11-27T10:02:00Z").delivery.sent == 1
    post = scene.slack.calls("chat.postMessage")[-1]
    assert (post.args["channel"], post.token) == ("D0ALICE", scene.slack.token_of(ACME))


@pytest.mark.usefixtures("frozen_installs")
def test_a_renewal_another_process_made_first_is_taken_up_without_a_fault(
    browser: Browser,
    slack: LocalSlack,
    engine: Engine,
    oauth_settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A web server's Bolt and a worker both find the token about to run out: Slack
    renews it for the first to ask, and refuses the spent refresh token to the other,
    which keeps the token it has (good for up to two hours more) and then takes up the
    renewed one; no error, no hold."""
    with freeze_time(at("2026-11-23T09:00:00Z"), real_asyncio=True):
        assert browser.install(ACME, rotation=True, expires_in=3 * 3600).status_code == 200
    old = slack.token_of(ACME)
    server, worker = (InstalledTeams(oauth_settings, engine, ttl_s=0) for _ in range(2))
    slack.clear()
    slack.fail_next("oauth.v2.access", accepted=True, delay=0.5)  # the server's, answered late
    with freeze_time(at("2026-11-23T10:30:00Z"), real_asyncio=True), ThreadPoolExecutor(1) as pool:
        first = pool.submit(lambda: server(ACME).token)
        assert slack.wait_for("oauth.v2.access"), "the server's renewal is under way"
        assert worker(ACME).token == old
        assert first.result() == slack.token_of(ACME) != old
        assert worker(ACME).token == slack.token_of(ACME)
    assert len(renewals(slack)) == 2
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


@pytest.mark.usefixtures("frozen_installs")
def test_a_request_goes_on_with_its_token_when_slack_does_not_renew_it(
    browser: Browser, world: Scenario
) -> None:
    """Bolt renews a token two hours before it runs out; a renewal Slack refuses then
    (another process spent the refresh token first) leaves a token that still works,
    and the command is served with it, not told that Rapport is not installed."""
    with freeze_time(at("2026-11-23T09:00:00Z"), real_asyncio=True):
        assert browser.install(ACME, rotation=True, expires_in=3 * 3600).status_code == 200
    old = world.slack.token_of(ACME)
    world.slack.refuse_refresh(ACME)
    world.slack.clear()

    followup = "initech send the pricing sheet due: fri"
    assert world.say("2026-11-23T10:30:00Z", "/followup", followup).status == 200
    assert "pricing sheet" in world.say("2026-11-23T10:31:00Z", "/followup", "initech").text
    assert renewals(world.slack) == [ACME]
    assert {call.token for call in world.slack.calls("auth.test")} == {old}
