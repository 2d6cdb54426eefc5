"""The one engine and session factory, with the SQLite settings a multi-threaded bot needs."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

SessionFactory = sessionmaker[Session]

# Long enough to ride out another writer's transaction, short enough to answer within
# Slack's 3-second window.
SQLITE_BUSY_TIMEOUT_MS = 2000
SQLITE_POOL_TIMEOUT_S = 10


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the web threads read while the scheduler writes.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin_immediate(conn: Any) -> None:
    # Take the write lock at BEGIN: a deferred transaction that later upgrades to a
    # writer fails at once with SQLITE_BUSY instead of waiting for busy_timeout.
    if conn.get_execution_options().get("sqlite_read_only"):
        # A long read (rapport export) reads a WAL snapshot and must not hold the
        # write lock the bot's writers queue for.
        conn.exec_driver_sql("BEGIN")
        return
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(database_url: str) -> Engine:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "isolation_level": None},
            # SQLite has one writer at a time. One pooled connection makes the threads
            # of this process queue for it in order, instead of polling SQLite's busy
            # handler, whose growing sleeps turn a burst into second-long tails.
            pool_size=1,
            max_overflow=0,
            pool_timeout=SQLITE_POOL_TIMEOUT_S,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    return create_engine(url, pool_pre_ping=True)


def make_session_factory(engine: Engine) -> SessionFactory:
    return sessionmaker(engine, expire_on_commit=False)


def database_answers(engine: Engine) -> bool:
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception:
        return False
    return True
