"""The one engine and session factory, with the SQLite settings a multi-threaded bot needs."""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, create_engine, event, exc, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

SessionFactory = sessionmaker[Session]

log = logging.getLogger("rapport.db")

# Outside a request (the sweep, the worker, the CLI): long enough to ride out another
# writer's transaction. A request gets its own, shorter limit (REQUEST_BUDGET_S).
SQLITE_BUSY_TIMEOUT_MS = 2000
SQLITE_POOL_TIMEOUT_S = 10
# The RESTART checkpoint that bounds the WAL: how long it may wait for other
# connections, and how long to leave it after they refused (WalCheckpointer).
RESTART_BUSY_TIMEOUT_MS = 100
RESTART_BACKOFF_S = 30.0
SQLITE_AUTOCHECKPOINT_PAGES = 1000  # SQLite's own default, when nobody else checkpoints


# How long a request from Slack may spend on the database, counted from the moment it
# reached the server: waiting for a pooled connection, for locks (busy_timeout on
# SQLite, lock_timeout on PostgreSQL) and for its statements (statement_timeout).
# Slack shows the user an error after 3 s without an answer; half of that leaves room
# for the network both ways, a proxy in front, queueing for a thread and rendering the
# reply. A request that runs out is rolled back and told so: nothing is saved later,
# behind the user's back, after Slack has given up (issue 13).
REQUEST_BUDGET_S = 1.5
# With less than this left, a transaction is not begun: it could not finish in time.
REQUEST_BUDGET_FLOOR_S = 0.02


@dataclass
class _Request:
    """What the request being served on this thread asks of its database work."""

    deadline: float  # time.monotonic()
    # Run inside the first transaction the request begins (see at_first_transaction).
    first_transaction: Callable[[Any], None] | None = None
    # What that work raised: every later transaction of the request raises it too.
    refused: Exception | None = None


_request: ContextVar[_Request | None] = ContextVar("rapport_request", default=None)


class RequestOutOfTime(Exception):
    """The request's database budget ran out before a transaction could begin."""


@contextmanager
def request_budget(seconds: float, *, started: float | None = None) -> Iterator[None]:
    """Database work in the block, on this thread, ends `seconds` after `started`
    (time.monotonic(), now by default): the request path's sessions and nothing else.
    The sweep and the worker run outside any budget, with the defaults above."""
    begun = time.monotonic() if started is None else started
    token = _request.set(_Request(deadline=begun + seconds))
    try:
        yield
    finally:
        _request.reset(token)


def request_time_left() -> float | None:
    """Seconds the current request has left for the database; None outside a request."""
    request = _request.get()
    return None if request is None else request.deadline - time.monotonic()


def at_first_transaction(work: Callable[[Any], None]) -> bool:
    """Runs `work(connection)` at the start of the first transaction the current
    request begins, inside it, so that what it writes commits or rolls back with the
    request's own first write; a request that never begins one never runs it. If
    `work` raises, that transaction and every later one of the request raise the same.
    False outside a request (nothing is arranged)."""
    request = _request.get()
    if request is None:
        return False
    request.first_transaction = work
    return True


def _request_begins(conn: Any) -> None:
    """Called inside each transaction as it begins, after the budget's settings."""
    request = _request.get()
    if request is None:
        return
    if request.refused is not None:
        raise request.refused
    work, request.first_transaction = request.first_transaction, None
    if work is not None:
        try:
            work(conn)
        except Exception as error:
            request.refused = error
            raise


def _budget_left_ms() -> int | None:
    """Milliseconds the current request has left; None outside a request."""
    request = _request.get()
    if request is None:
        return None
    left = request.deadline - time.monotonic()
    if left < REQUEST_BUDGET_FLOOR_S:
        raise RequestOutOfTime(f"the request's {REQUEST_BUDGET_S} s database budget ran out")
    return int(left * 1000)


def is_database_timeout(error: BaseException) -> bool:
    """The database did not answer within a request's budget: a lock held elsewhere,
    a slow statement, no pooled connection free. The transaction was rolled back."""
    if isinstance(error, (RequestOutOfTime, exc.TimeoutError)):
        return True
    if not isinstance(error, exc.OperationalError):
        return False
    original = error.orig
    # PostgreSQL: lock_not_available (lock_timeout), query_canceled (statement_timeout).
    if getattr(original, "sqlstate", None) in ("55P03", "57014"):
        return True
    return isinstance(original, sqlite3.OperationalError) and "locked" in str(original)


class _RequestBudgetPool(QueuePool):
    """A QueuePool whose wait for a free connection ends with the asking request's
    budget (unchanged outside a request). QueuePool reads `_timeout` on each wait."""

    @property
    def _timeout(self) -> float:
        left = request_time_left()
        return self._wait_limit if left is None else max(0.0, min(self._wait_limit, left))

    @_timeout.setter
    def _timeout(self, value: float) -> None:
        self._wait_limit = value


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the web threads read while the scheduler writes.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_busy_timeout(conn: Any) -> None:
    """A request waits for the write lock only as long as it has left; other work
    gets the default back on the same (shared) connection."""
    left_ms = _budget_left_ms()
    info = conn.connection.info
    wanted = SQLITE_BUSY_TIMEOUT_MS if left_ms is None else min(left_ms, SQLITE_BUSY_TIMEOUT_MS)
    if info.get("busy_timeout_ms", SQLITE_BUSY_TIMEOUT_MS) != wanted:
        conn.exec_driver_sql(f"PRAGMA busy_timeout={wanted}")
        info["busy_timeout_ms"] = wanted


def _sqlite_begin_immediate(conn: Any) -> None:
    _sqlite_busy_timeout(conn)
    # Take the write lock at BEGIN: a deferred transaction that later upgrades to a
    # writer fails at once with SQLITE_BUSY instead of waiting for busy_timeout.
    if conn.get_execution_options().get("sqlite_read_only"):
        # A long read (rapport export) reads a WAL snapshot and must not hold the
        # write lock the bot's writers queue for.
        conn.exec_driver_sql("BEGIN")
        return
    conn.exec_driver_sql("BEGIN IMMEDIATE")
    _request_begins(conn)


def make_engine(database_url: str) -> Engine:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "isolation_level": None},
            # SQLite has one writer at a time. One pooled connection makes the threads
            # of this process queue for it in order, instead of polling SQLite's busy
            # handler, whose growing sleeps turn a burst into second-long tails.
            poolclass=_RequestBudgetPool,
            pool_size=1,
            max_overflow=0,
            pool_timeout=SQLITE_POOL_TIMEOUT_S,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    engine = create_engine(url, pool_pre_ping=True, poolclass=_RequestBudgetPool)
    if engine.dialect.name == "postgresql":
        event.listen(engine, "begin", _postgres_request_timeouts)
    return engine


def _postgres_request_timeouts(conn: Any) -> None:
    """Inside a request, this transaction's lock and statement waits end with the
    budget; `set_config(…, true)` is SET LOCAL, gone at commit or rollback."""
    left_ms = _budget_left_ms()
    if left_ms is None:
        return
    # A lock wait ends a little before the statement's limit, so that the log says
    # which it was (lock_not_available rather than query_canceled).
    lock_ms = max(1, left_ms * 4 // 5)
    conn.exec_driver_sql(
        f"SELECT set_config('lock_timeout', '{lock_ms}ms', true), "
        f"set_config('statement_timeout', '{left_ms}ms', true)"
    )
    _request_begins(conn)


def _is_sqlite_file(engine: Engine) -> bool:
    url = engine.url
    return url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:")


@dataclass(frozen=True)
class Checkpoint:
    """What one `PRAGMA wal_checkpoint` reported: frames in the WAL, frames copied back."""

    busy: bool
    wal_frames: int
    checkpointed_frames: int
    restarted: bool
    restart_asked: bool = False  # a RESTART was tried (it may have been refused)


class WalCheckpointer:
    """Copies a SQLite WAL back into the database from a thread of its own.

    By default the connection whose commit pushes the WAL past 1,000 pages runs the
    checkpoint itself: it copies the pages and fsyncs inside that commit, 4-24 ms on
    this project's machine. `rapport serve`'s requests share one pooled connection, so
    every request in flight waited for it: without this thread the ack's p99 at
    concurrency 16 was 13% higher on a quiet machine (bench/README.md, "Issue 14: what
    each speed-up buys"). With this running, the serving connection never checkpoints
    (`wal_autocheckpoint=0`) and this thread does it with its own connection, in
    PASSIVE mode, which runs beside readers and the writer.

    A PASSIVE checkpoint never blocks, so under a steady stream of writes it may never
    catch up with the last frame, and only then does the next writer start the WAL over
    from its beginning. Past `restart_after_frames` the thread runs a RESTART
    checkpoint on the engine's pooled connection, which finishes the few frames PASSIVE
    left while this process's writers wait for the pool: the WAL stays bounded, with
    one short wait now and then under sustained load instead of a longer one every few
    hundred commits.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        interval_s: float = 0.5,
        restart_after_frames: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not _is_sqlite_file(engine):
            raise ValueError("a WAL checkpointer needs a SQLite database file")
        self.engine = engine
        self.interval_s = interval_s
        self.restart_after_frames = restart_after_frames
        self.last: Checkpoint | None = None  # what the thread's latest pass did
        self._clock = clock
        self._restart_not_before = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._connection = sqlite3.connect(
            str(engine.url.database), check_same_thread=False, isolation_level=None
        )
        self._connection.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        # The engine's connections stop checkpointing on commit: those open now (the
        # pool holds at most one) and any it opens later.
        event.listen(engine, "connect", _leave_checkpoints_to_thread)
        with _pooled_sqlite(engine) as pooled:
            _leave_checkpoints_to_thread(pooled, None)

    def checkpoint_once(self) -> Checkpoint:
        busy, frames, copied = self._connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        if frames < self.restart_after_frames or self._clock() < self._restart_not_before:
            return Checkpoint(bool(busy), frames, copied, restarted=False)
        # Through the engine's own connection: this process's writers then queue for the
        # pool for a few milliseconds, where on a connection of its own they would poll
        # SQLite's busy handler, whose sleeps add up to tens of milliseconds.
        with _pooled_sqlite(self.engine) as pooled:
            # A reader in another process (`rapport export`, say) keeps the WAL from
            # starting over for as long as it reads. Ask briefly, and if refused leave
            # it for a while, rather than hold this process's writers each time.
            pooled.execute(f"PRAGMA busy_timeout={RESTART_BUSY_TIMEOUT_MS}")
            try:
                busy, frames, copied = pooled.execute("PRAGMA wal_checkpoint(RESTART)").fetchone()
            finally:
                pooled.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        if busy:
            self._restart_not_before = self._clock() + RESTART_BACKOFF_S
        return Checkpoint(bool(busy), frames, copied, restarted=not busy, restart_asked=True)

    def start(self) -> WalCheckpointer:
        self._thread = threading.Thread(
            target=self._run, name="rapport-wal-checkpoint", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stops the thread and hands checkpoints back to the engine's commits."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._connection.close()
        event.remove(self.engine, "connect", _leave_checkpoints_to_thread)
        try:
            with _pooled_sqlite(self.engine) as pooled:
                pooled.execute(f"PRAGMA wal_autocheckpoint={SQLITE_AUTOCHECKPOINT_PAGES}")
        except Exception:
            # On the way out of a failing process: a later connection checkpoints anyway.
            log.warning("could not hand WAL checkpoints back to the engine", exc_info=True)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.last = self.checkpoint_once()
            except Exception:
                # A locked file, a pool that stayed busy past its timeout: the database
                # works without this pass, so say so and try again on the next tick.
                log.exception("WAL checkpoint failed")


@contextmanager
def _pooled_sqlite(engine: Engine) -> Iterator[sqlite3.Connection]:
    """The engine's pooled sqlite3 connection itself, outside any transaction."""
    pooled = engine.raw_connection()
    try:
        driver = pooled.driver_connection
        assert isinstance(driver, sqlite3.Connection)
        yield driver
    finally:
        pooled.close()


def _leave_checkpoints_to_thread(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA wal_autocheckpoint=0")


def start_wal_checkpointer(engine: Engine) -> WalCheckpointer | None:
    """For long-running processes on a SQLite file; None on other databases."""
    if not _is_sqlite_file(engine):
        return None
    return WalCheckpointer(engine).start()


def make_session_factory(engine: Engine) -> SessionFactory:
    return sessionmaker(engine, expire_on_commit=False)


def engine_of(db: SessionFactory) -> Engine:
    engine = db.kw["bind"]
    assert isinstance(engine, Engine)
    return engine


def database_answers(engine: Engine) -> bool:
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception:
        return False
    return True


@contextmanager
def one_at_a_time(db: SessionFactory, name: str) -> Iterator[None]:
    """Runs the block in one process at a time, across every process on the database.

    PostgreSQL: a session advisory lock named after `name`, held on a connection of
    its own and let go if the process dies. A SQLite file: an OS lock on a file beside
    it. Other processes wait for it; an in-memory database has one process anyway.
    """
    engine = engine_of(db)
    if engine.dialect.name == "postgresql":
        key = int.from_bytes(
            hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True
        )
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
            conn.commit()  # the lock outlives the transaction; no transaction stays open
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                conn.commit()
        return
    if not _is_sqlite_file(engine):
        yield
        return
    descriptor = os.open(f"{engine.url.database}.{name}.lock", os.O_CREAT | os.O_RDWR, 0o644)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # closing lets the lock go
