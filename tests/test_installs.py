"""Distributed mode's stores on Rapport's database: slack_sdk's installation and OAuth
state stores, on the tables our migrations create."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from freezegun import freeze_time
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import Engine, MetaData, select

from bot.config import Settings
from bot.slackapi.installs import TOKEN_TTL_S, InstalledTeams
from storage.db import SessionFactory
from storage.installs import InstallationStore, OAuthStateStore, team_bot
from storage.models import SLACK_OAUTH_STATES

CLIENT_ID = "111.222"


def installation(team_id: str, token: str, *, user: str = "U0ADMIN", at: datetime) -> Installation:
    return Installation(
        app_id="A0RAPPORT",
        team_id=team_id,
        team_name=f"Team {team_id}",
        bot_token=token,
        bot_id="B0RAPPORT",
        bot_user_id="U0RAPPORT",
        bot_scopes="commands,chat:write",
        user_id=user,
        installed_at=at.timestamp(),
    )


def test_the_migrations_make_the_tables_slack_sdk_declares(engine: Engine) -> None:
    """slack_sdk's stores, as they come (their own MetaData), find in our database
    exactly the tables they declare: a slack_sdk upgrade that changes them fails here
    and asks for a migration."""
    theirs = MetaData()
    for table in (
        *SQLAlchemyInstallationStore(CLIENT_ID, engine).metadata.tables.values(),
        *SQLAlchemyOAuthStateStore(600, engine).metadata.tables.values(),
    ):
        table.to_metadata(theirs)

    def theirs_only(name: str | None, kind: str, parent: dict[str, str | None]) -> bool:
        if kind == "schema":
            return True
        table = name if kind == "table" else parent.get("table_name")
        return table in theirs.tables

    with engine.connect() as conn:
        opts = {"compare_type": True, "include_name": theirs_only}
        diff = compare_metadata(MigrationContext.configure(conn, opts=opts), theirs)
    assert sorted(theirs.tables) == ["slack_bots", "slack_installations", "slack_oauth_states"]
    assert diff == []


def test_a_reinstall_is_the_installation_and_each_team_has_its_own_bot(
    engine: Engine, db: SessionFactory
) -> None:
    store = InstallationStore(engine, client_id=CLIENT_ID)
    first = datetime(2026, 12, 1, 9, tzinfo=UTC)
    store.save(installation("T0ACME", "xoxb-acme-1", at=first))
    store.save(installation("T0GLOBEX", "xoxb-globex", at=first))
    # Another admin installs Acme again: the new token is the one used.
    store.save(installation("T0ACME", "xoxb-acme-2", user="U0OTHER", at=first + timedelta(days=1)))

    found = store.find_installation(enterprise_id=None, team_id="T0ACME")
    assert found is not None and found.bot_token == "xoxb-acme-2" and found.user_id == "U0OTHER"
    assert team_bot(engine, client_id=CLIENT_ID, team_id="T0ACME").token == "xoxb-acme-2"  # type: ignore[union-attr]
    assert team_bot(engine, client_id=CLIENT_ID, team_id="T0GLOBEX").token == "xoxb-globex"  # type: ignore[union-attr]
    assert team_bot(engine, client_id=CLIENT_ID, team_id="T0INITECH") is None
    assert team_bot(engine, client_id="another-app", team_id="T0ACME") is None


def test_a_state_is_good_once_and_only_until_it_expires(engine: Engine, db: SessionFactory) -> None:
    states = OAuthStateStore(engine, expiration_seconds=600)
    state = states.issue()
    assert states.consume(state)
    assert not states.consume(state), "a state used once cannot be used again"
    assert not states.consume("never-issued")

    with freeze_time(datetime.now(UTC)) as clock:
        late = states.issue()
        clock.tick(601)
        assert not states.consume(late)


def test_states_that_never_came_back_are_cleared_once_they_run_out(
    engine: Engine, db: SessionFactory
) -> None:
    states = OAuthStateStore(engine, expiration_seconds=600)
    with freeze_time(datetime.now(UTC)) as clock:
        states.issue()
        clock.tick(601)
        kept = states.issue()
    with engine.connect() as conn:
        left = conn.execute(select(SLACK_OAUTH_STATES.c.state)).scalars().all()
    assert left == [kept]


def test_a_signed_state_that_was_tampered_with_is_refused(
    engine: Engine, db: SessionFactory
) -> None:
    states = OAuthStateStore(engine, secret="state-secret")
    state = states.issue()
    kept, _, signature = state.rpartition(".")
    assert not states.consume(kept), "the bare state, without its signature"
    assert not states.consume(f"{kept}.{'0' * len(signature)}")
    assert states.consume(state)


def test_the_sweep_reads_each_teams_token_again_after_a_minute(
    engine: Engine, db: SessionFactory, settings: Settings
) -> None:
    """A reinstall's new token reaches the sweep within TOKEN_TTL_S, without a query
    for every message meanwhile; a team with no install gets a client with no token
    (Slack refuses it, and the outbox holds that team)."""
    store = InstallationStore(engine, client_id=CLIENT_ID)
    first = datetime(2026, 12, 1, 9, tzinfo=UTC)
    store.save(installation("T0ACME", "xoxb-acme-1", at=first))
    distributed = settings.model_copy(
        update={"slack_bot_token": None, "slack_client_id": CLIENT_ID}
    )
    now = [0.0]
    clients = InstalledTeams(distributed, engine, clock=lambda: now[0])

    assert clients("T0ACME").token == "xoxb-acme-1"
    store.save(installation("T0ACME", "xoxb-acme-2", at=first + timedelta(days=1)))
    now[0] = TOKEN_TTL_S - 1
    assert clients("T0ACME").token == "xoxb-acme-1"
    now[0] = TOKEN_TTL_S + 1
    assert clients("T0ACME").token == "xoxb-acme-2"
    assert clients("T0NOWHERE").token is None
