"""Fixtures: a real database, a local fake Slack, and Rapport served over real HTTP.

The database is SQLite in a temp dir, or PostgreSQL when RAPPORT_TEST_DATABASE_URL
is set (CI runs the suite both ways). On PostgreSQL each run gets its own schema.
"""

from __future__ import annotations

import importlib
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import hypothesis
import pytest
from sqlalchemy import Engine, create_engine, literal_column, select, text, union_all
from sqlalchemy.engine import make_url

from bot.app.bolt import build_app
from bot.app.server import make_asgi
from bot.config import Settings
from bot.devtools.localslack import LocalSlack
from bot.slackapi.client import make_client
from handlers.edge import after_ack
from handlers.edge.home_tab import VIEWERS as home_viewers
from storage import migrate
from storage.db import SessionFactory, make_engine, make_session_factory
from storage.models import Base
from tests.slackkit import SIGNING_SECRET, ServerThread, SlackSender

POSTGRES_URL = os.environ.get("RAPPORT_TEST_DATABASE_URL")
# One-workspace mode's SLACK_BOT_TOKEN, the one the local fake Slack takes.
BOT_TOKEN = "xoxb-test-token"

# Fixtures shared by scheduler scenarios (`s`) and by distributed mode's (installs,
# uninstalls, Enterprise Grid) live beside their helpers.
pytest_plugins = ["tests.scheduling", "tests.distribution"]

# Hypothesis' per-example deadline is a timed assertion: on a loaded two-core CI box
# it fails tests for being slow, not wrong. Speed is measured in bench/ instead.
hypothesis.settings.register_profile("rapport", deadline=None)
hypothesis.settings.load_profile("rapport")

# Every message rendered in a test goes through slack_sdk's Block Kit models too.
# The module, not `messages.render`: the package re-exports the function under that
# name, and setting the flag on the function would check nothing.
importlib.import_module("messages.render").STRICT_VALIDATION = True


@contextmanager
def postgres_schema(prefix: str) -> Iterator[str]:
    """A fresh PostgreSQL schema, as a URL whose connections use it; dropped after."""
    assert POSTGRES_URL
    schema = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not POSTGRES_URL:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'rapport.db'}"
        return
    with postgres_schema("rapport_test") as url:
        yield url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


# Which tables have rows, in one statement: most tests write to a few of them, and
# emptying each of the others cost a statement per table per test.
_TABLES_WITH_ROWS = union_all(
    *(
        select(literal_column(f"'{table.name}'"), select(1).select_from(table).exists())
        for table in Base.metadata.sorted_tables
    )
)


@pytest.fixture
def db(engine: Engine) -> Iterator[SessionFactory]:
    """A clean database for each test (tables emptied, schema kept)."""
    with engine.begin() as conn:
        used = {name for name, has_rows in conn.execute(_TABLES_WITH_ROWS) if has_rows}
        for table in reversed(Base.metadata.sorted_tables):
            if table.name in used:
                conn.execute(table.delete())
    yield make_session_factory(engine)


@pytest.fixture(scope="session")
def slack() -> Iterator[LocalSlack]:
    with LocalSlack(bot_tokens=[BOT_TOKEN]) as server:
        yield server


@pytest.fixture(autouse=True)
def _clean_slack(slack: LocalSlack) -> None:
    # The last test's work after its acks lands in its own calls, not in this one's.
    after_ack.drain()
    slack.clear()
    slack.state.failures.clear()
    slack.state.users.clear()
    slack.state.messages.clear()
    slack.state.refused_channels.clear()
    slack.state.grants.clear()
    slack.state.token_error = None
    slack.state.revoked.clear()


@pytest.fixture(autouse=True)
def _forget_home_viewers() -> None:
    # Who opened App Home is process memory; one test's viewers are not the next's.
    home_viewers.clear()


@pytest.fixture(scope="session")
def settings(slack: LocalSlack, database_url: str) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=slack.api_url,
        database_url=database_url,
        slack_max_retries=2,
    )


@contextmanager
def serving(settings: Settings, engine: Engine) -> Iterator[ServerThread]:
    """Rapport as `settings` configure it, served over real HTTP."""
    app = build_app(settings, db=make_session_factory(engine))
    server = ServerThread(make_asgi(app, engine, settings)).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def served(settings: Settings, engine: Engine) -> Iterator[ServerThread]:
    with serving(settings, engine) as server:
        yield server


@pytest.fixture
def slack_user(
    served: ServerThread, slack: LocalSlack, db: SessionFactory
) -> Iterator[SlackSender]:
    """Slack, as seen by Rapport: signed requests in over HTTP."""
    sender = SlackSender(served.url, slack.response_url())
    yield sender
    sender.close()


@pytest.fixture
def client_for(settings: Settings):  # type: ignore[no-untyped-def]
    client = make_client(settings, token=BOT_TOKEN)
    return lambda _team_id: client


def at(value: str) -> datetime:
    """An instant from ISO text, UTC unless it says otherwise."""
    instant = datetime.fromisoformat(value)
    return instant if instant.tzinfo else instant.replace(tzinfo=UTC)


def sqlite_path(database_url: str) -> Path | None:
    url = make_url(database_url)
    return Path(url.database) if url.get_backend_name() == "sqlite" and url.database else None


# Tests that take seconds each (processes started, corpora played, many examples), by
# how long they take, longest first; the rest follow in their usual order. pytest-xdist
# hands tests out in this order, one at a time, to whichever process is free
# (pyproject.toml): begun first, the long ones are spread over both processes, and
# the last test left running is a short one.
LONG_FIRST = (
    "tests/test_workers.py::",
    "tests/test_journey.py::test_journey[",
    "tests/test_cli.py::test_served_state_survives_a_restart",
    "tests/test_sweep.py::test_sweep_in_a_second_process",
    "tests/test_socket_mode.py::test_two_processes_",
    "tests/test_account_month.py::",
    "tests/test_lifecycle_property.py::",
    "tests/test_fuzz_rapport.py::test_debrief_modal_answers_any_input",
    "tests/test_fuzz_rapport.py::test_governance_modal_answers_any_input",
    "tests/test_meso_render.py::test_any_user_text_renders",
    "tests/test_render.py::test_any_user_text_renders",
    "tests/test_cli.py::",
    "tests/test_render_cache.py::",
    "tests/test_digest.py::",
)


def _rank(item: pytest.Item) -> int:
    return next(
        (rank for rank, prefix in enumerate(LONG_FIRST) if item.nodeid.startswith(prefix)),
        len(LONG_FIRST),
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=_rank)  # stable: the same order in every process, as xdist needs


def pytest_report_header() -> str:
    backend = "PostgreSQL (RAPPORT_TEST_DATABASE_URL)" if POSTGRES_URL else "SQLite (temp file)"
    return f"rapport test database: {backend}"
