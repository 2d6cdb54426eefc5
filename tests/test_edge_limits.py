"""Slow and piled-up connections, over real sockets on 127.0.0.1: a request that
arrives too slowly is answered 408 and closed, and past the connection cap the
connection that has waited longest on its client makes room for a new one."""

from __future__ import annotations

import argparse
import socket
from collections.abc import Iterator
from contextlib import ExitStack

import httpx
import pytest
from sqlalchemy import Engine

from bot.app.cli import _parser, edge_limits
from bot.app.edge import EdgeLimits
from bot.app.server import make_asgi
from bot.config import Settings
from tests.slackkit import ServerThread

# Every socket read is bounded: a server that never answers fails the test, it does
# not hang it.
READ_BOUND_SECONDS = 10


def serve(settings: Settings, engine: Engine, limits: EdgeLimits) -> Iterator[ServerThread]:
    from bot.app.bolt import build_app
    from storage.db import make_session_factory

    app = build_app(settings, db=make_session_factory(engine))
    server = ServerThread(make_asgi(app, engine, settings), limits).start()
    yield server
    server.stop()


@pytest.fixture
def impatient(settings: Settings, engine: Engine) -> Iterator[ServerThread]:
    """Served with a short read timeout (a fraction of a second)."""
    yield from serve(settings, engine, EdgeLimits(0.3, 0.3, max_connections=64))


@pytest.fixture
def crowded(settings: Settings, engine: Engine) -> Iterator[ServerThread]:
    """Served with room for three connections, and a read timeout far too long to
    close anything in a test: only the cap can."""
    yield from serve(settings, engine, EdgeLimits(60, 60, max_connections=3))


def connect(server: ServerThread) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=READ_BOUND_SECONDS)
    return sock


def read_all(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    received = b""
    while chunk := sock.recv(4096):
        received += chunk
    return received


def test_headers_sent_slowly_get_408_and_the_connection_closes(impatient: ServerThread) -> None:
    with connect(impatient) as sock:
        sock.sendall(b"POST /slack/events HTTP/1.1\r\nHost: rapport\r\n")
        assert read_all(sock).startswith(b"HTTP/1.1 408")


def test_a_connection_that_sends_nothing_is_closed(impatient: ServerThread) -> None:
    with connect(impatient) as sock:
        assert read_all(sock).startswith(b"HTTP/1.1 408")


def test_a_body_sent_slowly_gets_408_and_the_connection_closes(impatient: ServerThread) -> None:
    with connect(impatient) as sock:
        sock.sendall(
            b"POST /slack/events HTTP/1.1\r\nHost: rapport\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            b"Content-Length: 100\r\n\r\n0123456789"
        )
        assert read_all(sock).startswith(b"HTTP/1.1 408")


def test_a_request_sent_at_once_is_answered(impatient: ServerThread) -> None:
    assert httpx.get(f"{impatient.url}/healthz").status_code == 200


def test_past_the_cap_the_longest_waiting_connection_makes_room(crowded: ServerThread) -> None:
    with ExitStack() as stack:
        slow = [stack.enter_context(connect(crowded)) for _ in range(3)]
        for sock in slow:
            sock.sendall(b"POST /slack/events HTTP/1.1\r\nHost: rapport\r\n")
        # A real request still gets through, at once…
        for _ in range(3):
            assert httpx.get(f"{crowded.url}/healthz").status_code == 200
        # …because the slow ones, oldest first, were answered 503 and closed.
        assert read_all(slow[0]).startswith(b"HTTP/1.1 503")


def test_serve_sets_the_read_timeout_and_the_cap() -> None:
    args = _parser().parse_args(["serve", "--read-timeout", "3", "--max-connections", "40"])
    assert edge_limits(args) == EdgeLimits(3.0, 3.0, 40)
    defaults = edge_limits(_parser().parse_args(["serve"]))
    assert 0 < defaults.header_timeout <= 10 and 0 < defaults.max_connections <= 256


def test_serve_refuses_a_cap_or_timeout_of_zero() -> None:
    with pytest.raises(SystemExit):
        edge_limits(argparse.Namespace(read_timeout=0, max_connections=10))
