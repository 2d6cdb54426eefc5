"""Alembic, driven from code: `rapport db upgrade`, and `serve`/`worker` on start."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(engine: Engine, revision: str = "heads") -> None:
    config = alembic_config(engine)
    if revision == "heads" and is_up_to_date(engine, config):
        # Every process upgrades on start (serve, worker, sweep, the CLI). Alembic's
        # upgrade takes SQLite's write lock even with nothing to do: a worker starting
        # while another sweeps a big batch would wait for it, and fail after the busy
        # timeout with "database is locked". Nothing to do is found out by reading.
        return
    with engine.connect() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        connection.commit()


def is_up_to_date(engine: Engine, config: Config | None = None) -> bool:
    """The database is at every head of the migrations; read without a write lock."""
    heads = set(ScriptDirectory.from_config(config or alembic_config(engine)).get_heads())
    with engine.connect().execution_options(sqlite_read_only=True) as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    return current == heads


def revision(engine: Engine, message: str) -> None:
    """Autogenerate a migration from the models (developers only)."""
    config = alembic_config(engine)
    with engine.connect() as connection:
        config.attributes["connection"] = connection
        command.revision(config, message=message, autogenerate=True)
