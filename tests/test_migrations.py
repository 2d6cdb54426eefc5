"""The migrations build exactly the schema the models describe, and go back down."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from storage import migrate
from storage.db import SQLITE_BUSY_TIMEOUT_MS, make_engine
from storage.models import Base
from tests.conftest import POSTGRES_URL, postgres_schema


def differences(engine: Engine) -> list[object]:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))


def test_the_migrated_schema_is_the_models(engine: Engine) -> None:
    assert differences(engine) == []


@pytest.fixture
def empty_engine(tmp_path: Path) -> Iterator[Engine]:
    """A database of its own: steps up and down must not touch the suite's."""
    with ExitStack() as cleanup:
        if POSTGRES_URL:
            url = cleanup.enter_context(postgres_schema("rapport_steps"))
        else:
            url = f"sqlite:///{tmp_path / 'steps.db'}"
        engine = make_engine(url)
        cleanup.callback(engine.dispose)
        yield engine


def step(engine: Engine, how: str, revision: str) -> None:
    config = migrate.alembic_config(engine)
    with engine.connect() as connection:
        config.attributes["connection"] = connection
        getattr(command, how)(config, revision)
        connection.commit()


def test_nudges_lose_their_foreign_keys_and_get_them_back_on_downgrade(
    empty_engine: Engine,
) -> None:
    migrate.upgrade(empty_engine)
    assert inspect(empty_engine).get_foreign_keys("nudges") == []

    step(empty_engine, "downgrade", "0006")
    referred = {fk["referred_table"] for fk in inspect(empty_engine).get_foreign_keys("nudges")}
    assert referred == {"accounts", "outbox"}
    indexes = {i["name"]: i["column_names"] for i in inspect(empty_engine).get_indexes("nudges")}
    assert indexes["ix_nudges_pending"] == ["status", "deliver_at"]

    step(empty_engine, "upgrade", "heads")
    assert differences(empty_engine) == []


def test_qbrs_whose_reminders_ran_out_are_armed_again(empty_engine: Engine) -> None:
    step(empty_engine, "upgrade", "0007")
    with empty_engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO accounts (id, team_id, name, key, owner_id, created_by,"
                " created_at, stage) VALUES (1, 'T1', 'Globex', 'globex', 'U1', 'U1',"
                " '2026-09-01 10:00:00', 'won'), (2, 'T1', 'Initech', 'initech', 'U1', 'U1',"
                " '2026-09-01 10:00:00', 'won')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO qbrs (id, team_id, account_id, next_on, cadence, lead_days,"
                " held_count, on_time_count, created_by, next_nudge_at) VALUES"
                " (1, 'T1', 1, '2026-10-01', 'quarter', 7, 0, 0, 'U1', NULL),"
                " (2, 'T1', 2, '2027-10-01', 'quarter', 7, 0, 0, 'U1', '2027-09-24 09:00:00')"
            )
        )
    step(empty_engine, "upgrade", "0008")
    with empty_engine.connect() as conn:
        rows = dict(conn.execute(text("SELECT id, next_nudge_at FROM qbrs")).all())
        missed = conn.execute(text("SELECT missed_count FROM qbrs")).scalars().all()
    assert rows[1] is not None, "the review nobody answered is asked about at the next sweep"
    assert str(rows[2]).startswith("2027-09-24 09:00"), "an armed review keeps its reminder"
    assert missed == [0, 0]


def test_an_up_to_date_database_upgrades_while_another_process_writes(tmp_path: Path) -> None:
    """Every process upgrades as it starts: one starting while another holds SQLite's
    write lock (a worker sweeping a big batch) must not wait for it, nor fail with
    "database is locked" after the busy timeout (tests/test_workers.py ran into it)."""
    path = tmp_path / "busy.db"
    migrated = make_engine(f"sqlite:///{path}")
    migrate.upgrade(migrated)
    migrated.dispose()
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # the other process, mid-write
    starting = make_engine(f"sqlite:///{path}")
    try:
        began = time.monotonic()
        migrate.upgrade(starting)
        assert time.monotonic() - began < SQLITE_BUSY_TIMEOUT_MS / 1000 / 2
        assert migrate.is_up_to_date(starting)
    finally:
        starting.dispose()
        writer.rollback()
        writer.close()


def test_an_outdated_database_is_not_taken_for_up_to_date(empty_engine: Engine) -> None:
    assert not migrate.is_up_to_date(empty_engine)
    migrate.upgrade(empty_engine, "0007")
    assert not migrate.is_up_to_date(empty_engine)
    migrate.upgrade(empty_engine)
    assert migrate.is_up_to_date(empty_engine)
