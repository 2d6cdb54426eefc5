"""SQLite's WAL is copied back by a thread of its own, not inside a request's commit."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from storage.db import (
    RESTART_BACKOFF_S,
    SQLITE_BUSY_TIMEOUT_MS,
    Checkpoint,
    WalCheckpointer,
    make_engine,
    start_wal_checkpointer,
)


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'wal.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)"))
    yield engine
    engine.dispose()


def write(engine: Engine, count: int) -> None:
    for index in range(count):
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO notes (body) VALUES (:b)"), {"b": f"note {index}" * 20})


def busy_timeout(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.exec_driver_sql("PRAGMA busy_timeout").scalar_one())


def autocheckpoint(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one())


def test_the_engine_stops_checkpointing_on_commit_and_the_thread_catches_up(
    sqlite_engine: Engine,
) -> None:
    assert autocheckpoint(sqlite_engine) == 1000  # SQLite's default, before
    checkpointer = WalCheckpointer(sqlite_engine)
    stopped = False
    try:
        assert autocheckpoint(sqlite_engine) == 0
        write(sqlite_engine, 300)
        caught_up = checkpointer.checkpoint_once()
        # Nothing copied back by the commits themselves: the WAL holds every frame.
        assert caught_up.wal_frames >= 300
        assert caught_up.checkpointed_frames == caught_up.wal_frames
        assert not caught_up.restarted
        # All of it copied back, so the next writer starts the WAL over.
        write(sqlite_engine, 1)
        assert checkpointer.checkpoint_once().wal_frames < 10
        checkpointer.stop()
        stopped = True
        # Stopped, it hands checkpoints back to the commits, now and for new connections.
        assert autocheckpoint(sqlite_engine) == 1000
        sqlite_engine.dispose()
        assert autocheckpoint(sqlite_engine) == 1000
    finally:
        if not stopped:
            checkpointer.stop()


def test_a_wal_that_never_catches_up_is_restarted(sqlite_engine: Engine) -> None:
    checkpointer = WalCheckpointer(sqlite_engine, restart_after_frames=50)
    try:
        write(sqlite_engine, 100)
        result = checkpointer.checkpoint_once()
        assert result.restarted
        write(sqlite_engine, 1)
        assert checkpointer.checkpoint_once().wal_frames < 10
        with sqlite_engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM notes")).scalar_one() == 101
    finally:
        checkpointer.stop()


def test_a_reader_elsewhere_postpones_the_restart_without_holding_writers(
    sqlite_engine: Engine,
) -> None:
    now = [1000.0]
    checkpointer = WalCheckpointer(sqlite_engine, restart_after_frames=50, clock=lambda: now[0])
    reader = sqlite3.connect(str(sqlite_engine.url.database), isolation_level=None)
    try:
        write(sqlite_engine, 100)
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM notes").fetchone()  # holds its snapshot

        refused = checkpointer.checkpoint_once()
        assert refused.restart_asked and refused.busy and not refused.restarted
        assert busy_timeout(sqlite_engine) == SQLITE_BUSY_TIMEOUT_MS  # set back
        assert not checkpointer.checkpoint_once().restart_asked  # too soon to ask again

        reader.execute("COMMIT")
        now[0] += RESTART_BACKOFF_S
        assert checkpointer.checkpoint_once().restarted
    finally:
        reader.close()
        checkpointer.stop()


def test_the_thread_outlives_a_failed_pass(
    sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    checkpointer = WalCheckpointer(sqlite_engine, interval_s=0.01)
    passes = []
    checkpoint = checkpointer.checkpoint_once

    def first_pass_fails() -> Checkpoint:
        passes.append(1)
        if len(passes) == 1:
            raise TimeoutError("the pool stayed busy")
        return checkpoint()

    monkeypatch.setattr(checkpointer, "checkpoint_once", first_pass_fails)
    checkpointer.start()
    try:
        deadline = time.monotonic() + 30
        while checkpointer.last is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert checkpointer.last is not None and len(passes) >= 2
    finally:
        checkpointer.stop()


def test_a_connection_the_pool_opens_later_leaves_checkpoints_to_the_thread(
    sqlite_engine: Engine,
) -> None:
    checkpointer = WalCheckpointer(sqlite_engine)
    try:
        sqlite_engine.dispose()  # the pooled connection is gone; the next one is new
        assert autocheckpoint(sqlite_engine) == 0
    finally:
        checkpointer.stop()


def test_the_thread_checkpoints_by_itself(sqlite_engine: Engine) -> None:
    checkpointer = WalCheckpointer(sqlite_engine, interval_s=0.01).start()
    try:
        write(sqlite_engine, 200)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            last = checkpointer.last
            if last is not None and 0 < last.wal_frames == last.checkpointed_frames:
                break
            time.sleep(0.02)
        # The commits leave the WAL alone, so only the thread can have copied it back.
        assert last is not None
        assert 0 < last.wal_frames == last.checkpointed_frames
    finally:
        checkpointer.stop()


def test_only_sqlite_files_get_a_checkpointer() -> None:
    assert start_wal_checkpointer(create_engine("sqlite://")) is None
    with pytest.raises(ValueError):
        WalCheckpointer(create_engine("sqlite://"))
