"""The migrations build exactly the schema the models describe, and go back down."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from storage import migrate
from storage.db import make_engine
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
