"""A database that does not answer in time: the request says nothing was saved, is
rolled back, and nothing else waits for it (issue 13, item 5). Real locks, held by
another connection, on SQLite and on PostgreSQL."""

from __future__ import annotations

import socket
import sqlite3
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from slack_bolt import App
from sqlalchemy import Engine, create_engine, event, func, select, text

from bot.app import server
from bot.app.server import make_asgi
from bot.config import Settings
from bot.devtools.localslack import LocalSlack
from bot.slackapi.client import make_client
from messages.ids import ConcessionBlock, View
from storage.db import (
    SQLITE_BUSY_TIMEOUT_MS,
    SQLITE_POOL_TIMEOUT_S,
    RequestOutOfTime,
    SessionFactory,
    is_database_timeout,
    request_budget,
)
from storage.models import Account, Concession
from tests.conftest import sqlite_path
from tests.slackkit import SIGNING_SECRET, ServerThread, SlackSender, view_submission

NOTHING_SAVED = "nothing was saved"


def concessions_of(db: SessionFactory, account: str) -> int:
    with db() as session:
        query = select(func.count()).select_from(Concession).join(Account)
        return session.scalar(query.where(Account.key == account)) or 0


@contextmanager
def lock_held(engine: Engine) -> Iterator[None]:
    """Another connection holds what a new concession on ACME needs: SQLite's write
    lock (the whole database), or on PostgreSQL the ACME account's row, as another
    transaction editing it would."""
    path = sqlite_path(engine.url.render_as_string(hide_password=False))
    if path is not None:
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        return
    with engine.connect() as conn:
        conn.execute(text("SELECT id FROM accounts WHERE key = 'acme' FOR UPDATE"))
        try:
            yield
        finally:
            conn.rollback()


@contextmanager
def first_transaction_seen(engine: Engine) -> Iterator[threading.Event]:
    """Set when the server next takes a connection, before it begins a transaction."""
    began = threading.Event()

    def mark(*_: Any) -> None:
        began.set()

    event.listen(engine, "checkout", mark)
    try:
        yield began
    finally:
        event.remove(engine, "checkout", mark)


def wait_until_blocked(engine: Engine, began: threading.Event) -> None:
    assert began.wait(10), "the command never reached the database"
    if engine.dialect.name != "postgresql":
        return  # SQLite: BEGIN IMMEDIATE, next, waits for the write lock
    with engine.connect() as conn:
        waiting = text("SELECT count(*) FROM pg_locks WHERE NOT granted")
        while not conn.execute(waiting).scalar():
            conn.rollback()  # a fresh snapshot of pg_locks each time
            threading.Event().wait(0.01)


def form(account: str, give: str) -> dict[str, Any]:
    return {
        ConcessionBlock.ACCOUNT.value: {"value": {"type": "plain_text_input", "value": account}},
        ConcessionBlock.GIVE.value: {"value": {"type": "plain_text_input", "value": give}},
    }


def test_a_command_blocked_by_a_lock_says_nothing_was_saved_and_saves_nothing(
    slack_user: SlackSender, db: SessionFactory, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert slack_user.command("/concede", "acme give: a first discount").status == 200
    monkeypatch.setattr(server, "REQUEST_BUDGET_S", 0.3)

    with lock_held(engine):
        reply = slack_user.command("/concede", "acme give: free onboarding get: a case study")

    assert reply.status == 200 and reply.ephemeral
    assert NOTHING_SAVED in reply.text and "again" in reply.text
    assert "Something went wrong" not in reply.text
    # Rolled back, not stored late once the lock went: still only the first entry.
    assert concessions_of(db, "acme") == 1
    again = slack_user.command("/concede", "acme give: free onboarding get: a case study")
    assert NOTHING_SAVED not in again.text
    assert concessions_of(db, "acme") == 2


def test_a_form_blocked_by_a_lock_is_kept_open_behind_a_nothing_saved_screen(
    slack_user: SlackSender, db: SessionFactory, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert slack_user.command("/concede", "acme give: a first discount").status == 200
    monkeypatch.setattr(server, "REQUEST_BUDGET_S", 0.3)

    with lock_held(engine):
        reply = slack_user.interact(view_submission(View.CONCESSION, form("acme", "a free seat")))

    assert reply.status == 200
    assert reply.body["response_action"] == "push"  # the form stays, filled in, behind it
    assert NOTHING_SAVED in " ".join(
        block["text"]["text"] for block in reply.body["view"]["blocks"]
    )
    assert concessions_of(db, "acme") == 1


def test_a_blocked_command_holds_up_no_other_request_nor_the_health_check(
    slack_user: SlackSender,
    served: ServerThread,
    slack: LocalSlack,
    db: SessionFactory,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert slack_user.command("/concede", "acme give: a first discount").status == 200
    # Long enough that the blocked command is still waiting when the others are done.
    monkeypatch.setattr(server, "REQUEST_BUDGET_S", 60.0)
    blocked_sender = SlackSender(served.url, slack.response_url())
    background = ThreadPoolExecutor(max_workers=1)
    try:
        with lock_held(engine):
            with first_transaction_seen(engine) as began:
                blocked: Future[Any] = background.submit(
                    blocked_sender.command, "/concede", "acme give: 10% off get: a 2-year term"
                )
                wait_until_blocked(engine, began)

            help_reply = slack_user.command("/rapport", "help")
            health = httpx.get(f"{served.url}/healthz", timeout=30)
            if engine.dialect.name == "postgresql":
                # Only ACME's row is locked: another account is written meanwhile.
                other = slack_user.command("/concede", "globex give: a pilot get: a reference")
                assert "Logged" in other.text and NOTHING_SAVED not in other.text
                assert concessions_of(db, "globex") == 1
                assert (health.status_code, health.json()["database"]) == (200, "up")
            else:
                # SQLite: the one write lock is taken, which the health check says.
                assert (health.status_code, health.json()["database"]) == (503, "unavailable")
            assert help_reply.status == 200 and "/rapport" in help_reply.text
            assert not blocked.done(), "the other requests were answered while it waited"

        # The lock is gone within the budget: the waiting command goes through.
        assert "10% off" in blocked.result(timeout=30).text
        assert concessions_of(db, "acme") == 2
    finally:
        background.shutdown(wait=True)
        blocked_sender.close()


@pytest.fixture
def silent_database() -> Iterator[Engine]:
    """A PostgreSQL URL whose server takes the connection and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    port = listener.getsockname()[1]
    engine = create_engine(f"postgresql+psycopg://nobody@127.0.0.1:{port}/none")
    try:
        yield engine
    finally:
        listener.close()  # the stuck connection attempt fails, its thread ends
        engine.dispose()


def test_healthz_says_the_database_is_unavailable_when_it_does_not_answer(
    settings: Settings, silent_database: Engine
) -> None:
    app = App(
        client=make_client(settings, token="xoxb-test-token"),
        signing_secret=SIGNING_SECRET,
        token_verification_enabled=False,
    )
    health_server = ServerThread(make_asgi(app, silent_database, settings)).start()
    try:
        first = httpx.get(f"{health_server.url}/healthz", timeout=30)
        # A second probe shares the stuck check instead of queueing behind it.
        second = httpx.get(f"{health_server.url}/healthz", timeout=30)
    finally:
        health_server.stop()
    for response in (first, second):
        assert response.status_code == 503
        assert response.json() == {"ok": False, "database": "unavailable"}


def test_request_transactions_carry_the_budget_and_others_the_defaults(
    db: SessionFactory, engine: Engine
) -> None:
    if engine.dialect.name == "postgresql":
        settings = text(
            "SELECT current_setting('lock_timeout'), current_setting('statement_timeout')"
        )
        with request_budget(1.5), db.begin() as session:
            lock_wait, statement = session.execute(settings).one()
        assert lock_wait.endswith("ms") and 0 < int(lock_wait[:-2]) < int(statement[:-2]) <= 1500
        with db.begin() as session:
            assert tuple(session.execute(settings).one()) == ("0", "0")  # the sweep's: none
        return
    busy_timeout = text("PRAGMA busy_timeout")
    with request_budget(1.5), db.begin() as session:
        assert 0 < session.execute(busy_timeout).scalar_one() <= 1500
    with db.begin() as session:
        assert session.execute(busy_timeout).scalar_one() == SQLITE_BUSY_TIMEOUT_MS


def test_a_request_waits_for_a_pooled_connection_no_longer_than_its_budget(
    engine: Engine,
) -> None:
    outside = engine.pool.timeout()
    if engine.dialect.name == "sqlite":
        assert outside == SQLITE_POOL_TIMEOUT_S
    with request_budget(0.25):
        assert 0 < engine.pool.timeout() <= 0.25
    assert engine.pool.timeout() == outside


def test_a_request_out_of_time_begins_no_transaction(db: SessionFactory) -> None:
    with pytest.raises(RequestOutOfTime) as raised, request_budget(0.0), db.begin() as session:
        session.execute(select(1))
    assert is_database_timeout(raised.value)
    # The budget belongs to the request: work after it runs on the defaults.
    with db.begin() as session:
        assert session.execute(select(1)).scalar_one() == 1
