"""How long a client may take to send a request, and how many connections are held.

uvicorn times out idle keep-alive connections, but not a client that sends its
headers or body slowly: a few hundred such connections once held every file
descriptor, and real requests and /healthz failed. `GuardedHttpProtocol` is
uvicorn's httptools protocol with two more rules:

- A read timeout: the headers must arrive within `header_timeout` seconds of the
  first byte (or of the connection), and the body within `body_timeout` of the
  headers. Otherwise the client gets 408 and the connection is closed.
- A cap on connections: past `max_connections`, a new connection takes the place of
  the one that has waited longest on its client (slow headers or body, or idle
  between requests), which gets 503 and is closed; if every connection is busy with
  a request of ours, the new one gets 503. Slow clients so cannot crowd out the
  ones that send a request at once, which Slack does.

Both are set by `rapport serve` (`--read-timeout`, `--max-connections`); a proxy in
front adds what this cannot (README: Running it safely).
"""

from __future__ import annotations

import asyncio
import itertools
import resource
from dataclasses import dataclass
from typing import Any, ClassVar

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

# File descriptors kept for everything but client connections: the database pool,
# Slack clients, the scheduler, log files, the listening socket.
_RESERVED_FDS = 64


@dataclass(frozen=True)
class EdgeLimits:
    header_timeout: float = 5.0
    body_timeout: float = 5.0
    max_connections: int = 256

    def within_open_files(self) -> EdgeLimits:
        """The same limits, with the cap lowered to fit the process's open-file limit."""
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft == resource.RLIM_INFINITY or soft - _RESERVED_FDS >= self.max_connections:
            return self
        fitted = max(1, soft - _RESERVED_FDS)
        return EdgeLimits(self.header_timeout, self.body_timeout, fitted)


def _plain_response(status: int, reason: str) -> bytes:
    text = f"{status} {reason}\n".encode("ascii")
    return (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: text/plain; charset=utf-8\r\n"
        f"content-length: {len(text)}\r\nconnection: close\r\n\r\n"
    ).encode("ascii") + text


REQUEST_TIMEOUT = _plain_response(408, "Request Timeout")
BUSY = _plain_response(503, "Service Unavailable")
_ARRIVALS = itertools.count()


class GuardedHttpProtocol(HttpToolsProtocol):
    limits: ClassVar[EdgeLimits] = EdgeLimits()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._read_timer: asyncio.TimerHandle | None = None
        self._waiting_since: tuple[float, int] = (0.0, 0)

    # -- the read timeout ---------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self.limits.header_timeout)
        if (
            len(self.connections) > self.limits.max_connections
            and not self._evict_longest_waiting()
        ):
            self._drop(BUSY)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm(self.limits.header_timeout)

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        self._arm(self.limits.body_timeout)

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._disarm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self, seconds: float) -> None:
        self._disarm()
        # With the order of arrival: uvloop's clock moves once per loop turn, so
        # connections that began waiting in one turn would tie, and the one evicted
        # first would be any of them rather than the oldest.
        self._waiting_since = (self.loop.time(), next(_ARRIVALS))
        self._read_timer = self.loop.call_later(seconds, self._read_timed_out)

    def _disarm(self) -> None:
        if self._read_timer is not None:
            self._read_timer.cancel()
            self._read_timer = None

    def _read_timed_out(self) -> None:
        self._read_timer = None
        self._drop(REQUEST_TIMEOUT)

    def _drop(self, answer: bytes) -> None:
        """Answer (unless a response has begun) and close; a request being read learns
        that its client is gone."""
        self._disarm()
        if self.transport.is_closing():
            return
        cycle = self.cycle
        if cycle is None or not cycle.response_started:
            self.transport.write(answer)
        if cycle is not None and not cycle.response_complete:
            cycle.disconnected = True
            cycle.message_event.set()
        self.transport.close()

    # -- the connection cap -------------------------------------------------------

    @property
    def waiting_on_client(self) -> bool:
        """Reading a request that has not all arrived, or idle between requests."""
        return self._read_timer is not None or self.timeout_keep_alive_task is not None

    def _evict_longest_waiting(self) -> bool:
        waiting = [
            c
            for c in self.connections
            if c is not self
            and isinstance(c, GuardedHttpProtocol)
            and c.waiting_on_client
            and not c.transport.is_closing()
        ]
        if not waiting:
            return False
        min(waiting, key=lambda c: c._waiting_since)._drop(BUSY)
        return True


def uvicorn_config(
    asgi: Any, *, host: str, port: int, log_level: str, limits: EdgeLimits
) -> uvicorn.Config:
    """uvicorn as Rapport serves: these limits, no access log (it would hold URLs and
    client addresses, and Slack's requests carry nothing worth it)."""
    protocol = type("RapportHttpProtocol", (GuardedHttpProtocol,), {"limits": limits})
    return uvicorn.Config(
        asgi, host=host, port=port, log_level=log_level, access_log=False, http=protocol
    )
