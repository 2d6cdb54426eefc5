"""Distributed mode's test kit, a pytest plugin (tests/conftest.py): Rapport served with
OAuth over real HTTP, an installer's browser going through /slack/install, the local
fake Slack's consent and /slack/oauth_redirect, and the helpers the install, uninstall
and Enterprise Grid scenarios share (an admin's uninstall, the outbox, a team's rows)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from freezegun import freeze_time
from pydantic import SecretStr
from sqlalchemy import Engine, func, select

from bot.config import Settings
from bot.devtools.localslack import LocalSlack
from bot.scheduler.delivery import ChannelPacer
from bot.slackapi.installs import InstalledTeams
from storage import outbox
from storage.db import SessionFactory
from storage.models import Base, OutboxMessage, OutboxStatus
from tests.conftest import at, serving
from tests.scheduling import Scenario
from tests.slackkit import ALICE, SIGNING_SECRET, ServerThread, SlackSender

CLIENT_ID = "1111.2222"
COOKIE = "slack-app-oauth-state"
ACME, GLOBEX = "T0ACME", "T0GLOBEX"
# An Enterprise Grid org installed as a whole, and two of its workspaces.
GRID, GRID_EU, GRID_US = "E0GRID", "T0GRIDEU", "T0GRIDUS"


UNINSTALLED_AT = "2026-11-25T12:00:00Z"


@pytest.fixture(scope="module")
def oauth_settings(settings: Settings) -> Settings:
    """Distributed mode: the app's credentials, and no bot token."""
    return settings.model_copy(
        update={
            "slack_bot_token": None,
            "slack_client_id": CLIENT_ID,
            "slack_client_secret": SecretStr("client-secret"),
            "slack_max_retries": 0,
        }
    )


@pytest.fixture(scope="module")
def distributed(oauth_settings: Settings, engine: Engine) -> Iterator[ServerThread]:
    with serving(oauth_settings, engine) as server:
        yield server


@dataclass
class Browser:
    """An installer's browser: the install page, Slack's consent, the way back."""

    http: httpx.Client
    slack: LocalSlack

    def open_install_page(self) -> tuple[httpx.Response, str]:
        """The install page, and the state of its Add to Slack link."""
        page = self.http.get("/slack/install")
        link = re.search(r'id="add-to-slack" href="([^"]+)"', page.text)
        assert link is not None, page.text
        state = parse_qs(urlparse(unescape(link.group(1))).query)["state"][0]
        return page, state

    def come_back(self, query: dict[str, str], *, state_cookie: str | None) -> httpx.Response:
        headers = {"cookie": f"{COOKIE}={state_cookie}"} if state_cookie else {}
        return self.http.get("/slack/oauth_redirect", params=query, headers=headers)

    def allow(self, **consent: Any) -> httpx.Response:
        """The install page, Slack's consent (`LocalSlack.consent`'s), the way back."""
        _, state = self.open_install_page()
        code = self.slack.consent(**consent)
        return self.come_back({"code": code, "state": state}, state_cookie=state)

    def install(
        self,
        team_id: str,
        *,
        admin: str = ALICE,
        name: str = "",
        rotation: bool = False,
        expires_in: int = 43200,
    ) -> httpx.Response:
        return self.allow(
            team_id=team_id,
            team_name=name or team_id,
            user_id=admin,
            rotation=rotation,
            expires_in=expires_in,
        )

    def install_org(
        self, enterprise_id: str, *, rotation: bool = False, expires_in: int = 43200
    ) -> httpx.Response:
        """An org admin installs Rapport for the whole Enterprise Grid org."""
        return self.allow(
            team_id=None,
            user_id=ALICE,
            enterprise_id=enterprise_id,
            org_wide=True,
            rotation=rotation,
            expires_in=expires_in,
        )


@pytest.fixture
def browser(distributed: ServerThread, slack: LocalSlack, db: SessionFactory) -> Iterator[Browser]:
    with httpx.Client(base_url=distributed.url, timeout=30) as http:
        yield Browser(http, slack)


@pytest.fixture
def world(
    distributed: ServerThread,
    slack: LocalSlack,
    db: SessionFactory,
    engine: Engine,
    oauth_settings: Settings,
) -> Iterator[Scenario]:
    sender = SlackSender(distributed.url, slack.response_url())
    # Posts go without the one-a-second pause per channel: these tests are about whose
    # token carries them (tests/test_pacing.py is about the pause), and a sweep that
    # sends a person a nudge and a waiting message would sleep a second for nothing.
    pacer = ChannelPacer(db, interval=0)
    teams = InstalledTeams(oauth_settings, engine)
    yield Scenario(sender, slack, db, teams, oauth_settings, pacer=pacer)
    sender.close()


@pytest.fixture
def frozen_installs(monkeypatch: pytest.MonkeyPatch) -> None:
    """freezegun hands the real time to code called within a few frames of a thread's
    start, as Bolt's install callback is in the server's worker thread: look at no
    frames, so that an install made at a frozen time expires from it."""
    monkeypatch.setattr("freezegun.api.call_stack_inspection_limit", 0)


def renewals(slack: LocalSlack) -> list[str | None]:
    """The tokens Slack renewed (oauth.v2.access with a refresh token), by team."""
    return [
        call.args["refresh_token"].split("-")[2].upper()
        for call in slack.calls("oauth.v2.access")
        if call.args.get("grant_type") == "refresh_token"
    ]


def queue_dm(db: SessionFactory, team: str, user: str, text: str) -> None:
    """A message waiting in the outbox for `user` of `team`."""
    with db.begin() as session:
        outbox.enqueue_many(
            session,
            [
                {
                    "team_id": team,
                    "kind": "test",
                    "subject": user,
                    "slot": text,
                    "recipient": user,
                    "payload": {"text": text},
                }
            ],
            now=at("2026-11-27T09:00:00Z"),
        )


def outbox_of(db: SessionFactory, team: str) -> list[OutboxStatus]:
    with db() as session:
        return list(
            session.scalars(select(OutboxMessage.status).where(OutboxMessage.team_id == team))
        )


def uninstall(
    slack: LocalSlack, server: ServerThread, team: str, when: str = UNINSTALLED_AT, **how: object
) -> None:
    """An admin of `team` removes Rapport at `when` (Slack's events come at once)."""
    with freeze_time(at(when), real_asyncio=True):
        statuses = slack.uninstall(
            team, events_url=f"{server.url}/slack/events", signing_secret=SIGNING_SECRET, **how
        )  # type: ignore[arg-type]
    assert set(statuses) == {200}


def posted_to(slack: LocalSlack) -> set[str]:
    return {call.args["channel"] for call in slack.calls("chat.postMessage")}


def rows_of(engine: Engine, team: str) -> dict[str, int]:
    """How many rows every table with a team_id holds for `team` (empty ones left out)."""
    found = {}
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            if "team_id" in table.c:
                n = conn.execute(
                    select(func.count()).select_from(table).where(table.c.team_id == team)
                ).scalar()
                if n:
                    found[table.name] = int(n)
    return found


def kept(now: dict[str, int], before: dict[str, int]) -> bool:
    """Every row counted before is still there (sweeps add some: health days, sends)."""
    return all(now.get(table, 0) >= count for table, count in before.items())
