"""Socket Mode serving: the Bolt app over a WebSocket Rapport opens to Slack.

No public URL: the process calls apps.connections.open with the app-level token and
reads envelopes from the WebSocket it is given. The client is slack_sdk's
`websockets` one: on a refresh (Slack's `disconnect`, every few hours) it opens the
new connection while the old one is still read, and only then lets the old one go,
so no envelope waits out a reconnection; ours also reads the old one to the end of its
close. The built-in client stopped reading for up to its 3 s socket timeout there
(bench/README.md, Socket Mode refresh).

Envelopes are dispatched on threads, as `rapport serve` does for HTTP
(bot/app/server.py): slash commands on threads of their own, the rest on a second
pool, each within the request's database budget, so the event loop keeps reading and
acking while a listener waits. Several processes can hold connections at once
(Slack allows ten per app and sends each envelope to one of them). On SIGTERM or
SIGINT a process opens no new connection and finishes the envelopes it took, and the
work after their acks, then closes its connection. Until it closes, Slack may still
send it envelopes: those are handled too, never dropped, since an envelope Slack gave
this connection goes to no other (a slash command dropped there fails for the rep).
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import aiohttp
import websockets
from slack_bolt import App, BoltResponse
from slack_bolt.adapter.socket_mode.async_internals import send_async_response
from slack_bolt.adapter.socket_mode.internals import run_bolt_app
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.async_client import AsyncBaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.websockets import SocketModeClient
from slack_sdk.web.async_client import AsyncWebClient
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed, WebSocketException

from bot.app.server import COMMAND_THREADS
from handlers.edge import after_ack
from storage.db import REQUEST_BUDGET_S, request_budget

log = logging.getLogger("rapport.socket_mode")

# Threads for envelopes other than slash commands (button clicks, modal submissions,
# events), whose listeners may call Slack and wait for it.
OTHER_THREADS = 10


class OverlappingSocketModeClient(SocketModeClient):
    """slack_sdk's `websockets` client, reading a refreshed connection to its end.

    The library's own connect() opens the new connection, then stops reading the old
    one and closes it: an envelope Slack had already sent on the old connection in that
    instant was never read (bench/socket_refresh.py --late-on-old: 8 of 20). Here the
    old connection is closed and read at once, until its close handshake ends, and
    what it still carried is handled like any other envelope (acked on the new one).
    """

    async def connect(self) -> None:
        if self.wss_uri is None:
            self.wss_uri = await self.issue_new_wss_url()
        old = self.current_session
        self.current_session = await websockets.connect(
            uri=self.wss_uri, ping_interval=self.ping_interval
        )
        self.auto_reconnect_enabled = self.default_auto_reconnect_enabled
        for task in (self.current_session_monitor, self.message_receiver):
            if task is not None:
                task.cancel()
        self.current_session_monitor = asyncio.ensure_future(self.monitor_current_session())
        self.message_receiver = asyncio.ensure_future(self.receive_messages())
        self.logger.info("a new Socket Mode connection is up")
        if old is not None:
            asyncio.ensure_future(self._read_to_the_end(old))

    async def _read_to_the_end(self, session: ClientConnection) -> None:
        closing = asyncio.ensure_future(session.close())
        try:
            async for message in session:
                text = message.decode() if isinstance(message, bytes) else message
                await self.enqueue_message(text)
        except ConnectionClosed:
            pass  # closed before its close handshake ended: nothing more to read
        await closing
        self.logger.info("the refreshed Socket Mode connection is closed")


class AppTokenRefused(Exception):
    """No Socket Mode connection could be opened: Slack refused the app-level token, or
    the WebSocket it handed out could not be reached."""


@dataclass(frozen=True)
class SocketModeTimings:
    """How often the connection is checked, and how long a stop waits for work."""

    # websockets pings Slack this often, and the client checks its connection as often.
    ping_interval: float = 10.0
    # A stop waits at most this long for envelopes taken and the work after their acks.
    drain_timeout: float = 10.0


class SocketModeServer:
    """The Bolt app on one Socket Mode connection, refreshed as Slack asks."""

    def __init__(
        self,
        app: App,
        *,
        app_token: str,
        slack_api_url: str,
        dialect: str = "sqlite",
        timings: SocketModeTimings | None = None,
    ) -> None:
        self.app = app
        self.app_token = app_token
        self.slack_api_url = slack_api_url
        self.timings = timings or SocketModeTimings()
        self.commands = ThreadPoolExecutor(
            max_workers=COMMAND_THREADS.get(dialect, 2), thread_name_prefix="rapport-command"
        )
        self.others = ThreadPoolExecutor(
            max_workers=OTHER_THREADS, thread_name_prefix="rapport-interaction"
        )
        self._taken: set[asyncio.Task[None]] = set()

    async def run(self, stop: asyncio.Event) -> None:
        """Connect, serve until `stop` is set, then drain and close."""
        client = OverlappingSocketModeClient(
            app_token=self.app_token,
            logger=logging.getLogger("rapport.socket_mode.client"),
            web_client=AsyncWebClient(base_url=self.slack_api_url),
            ping_interval=self.timings.ping_interval,
        )
        client.socket_mode_request_listeners.append(self._handle)
        try:
            try:
                await client.connect()
            except SlackApiError as exc:
                raise AppTokenRefused(
                    f"Slack refused SLACK_APP_TOKEN ({exc.response.get('error')}): it is the "
                    "app-level token (xapp-…) with the connections:write scope, from Basic "
                    "Information → App-Level Tokens (see the README's Slack setup)."
                ) from None
            except (OSError, aiohttp.ClientError, WebSocketException, TimeoutError) as exc:
                # A firewall that lets no WebSocket out, a proxy not set: say so, once.
                raise AppTokenRefused(
                    f"could not open a Socket Mode connection to Slack ({exc or type(exc)}): "
                    "this machine must be able to open an outgoing WebSocket to Slack "
                    "(wss://…slack.com, port 443), through HTTPS_PROXY if it needs one."
                ) from None
            log.info("connected to Slack over Socket Mode")
            await stop.wait()
            log.info(
                "stopping: finishing %d taken, and any that come until the connection closes",
                len(self._taken),
            )
            await self._drain(client)
        finally:
            await client.close()
            self.commands.shutdown(wait=False)
            self.others.shutdown(wait=False)
        log.info("Socket Mode connection closed")

    async def _handle(self, client: AsyncBaseSocketModeClient, req: SocketModeRequest) -> None:
        arrived = time.monotonic()
        task = asyncio.current_task()
        if task is not None:
            self._taken.add(task)
        try:
            pool = self.commands if req.type == "slash_commands" else self.others
            loop = asyncio.get_running_loop()
            response = await loop.run_in_executor(pool, self._dispatch, req, arrived)
            await send_async_response(client, req, response, arrived)
        finally:
            if task is not None:
                self._taken.discard(task)

    def _dispatch(self, req: SocketModeRequest, arrived: float) -> BoltResponse:
        with request_budget(REQUEST_BUDGET_S, started=arrived):
            response: BoltResponse = run_bolt_app(self.app, req)
            return response

    async def _drain(self, client: OverlappingSocketModeClient) -> None:
        """Wait for what was taken, still reading (an envelope that comes meanwhile is
        handled like the rest) but never reconnecting; then stop reading."""
        client.auto_reconnect_enabled = False
        deadline = time.monotonic() + self.timings.drain_timeout
        # Envelopes read may still sit in the client's queue.
        while (self._taken or not client.message_queue.empty()) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        for reader in (client.message_receiver, client.current_session_monitor):
            if reader is not None:
                reader.cancel()
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, after_ack.drain)


def serve_socket_mode(
    app: App,
    *,
    app_token: str,
    slack_api_url: str,
    dialect: str,
    timings: SocketModeTimings | None = None,
) -> None:
    """`rapport serve --socket`: serve until SIGTERM or SIGINT, then stop cleanly."""
    server = SocketModeServer(
        app, app_token=app_token, slack_api_url=slack_api_url, dialect=dialect, timings=timings
    )

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await server.run(stop)

    asyncio.run(main())
