"""HTTP serving: the Bolt app behind Starlette on uvicorn, plus a health check.

The edge decides what reaches Bolt. A body over 1 MiB is refused (413) before it is
read; then the signature is checked on the raw bytes, before anything parses them:
anything that is not a well-formed, current, valid Slack signature gets 401, whatever
the body holds. Only then is the body parsed and the request admitted
(handlers/edge/response_urls.py), which is what lets a reply go to its response_url.
How long a client may take to send its request, and how many connections are held
at once, is bot/app/edge.py's.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.adapter.starlette.handler import to_starlette_response
from slack_sdk.signature import SignatureVerifier
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.config import Settings
from handlers.edge.response_urls import admit
from storage.db import REQUEST_BUDGET_S, database_answers, request_budget

if TYPE_CHECKING:
    from sqlalchemy import Engine

EVENTS_PATH = "/slack/events"

# Threads for slash commands. A command waiting on a database lock holds one for at
# most REQUEST_BUDGET_S while the others keep answering. PostgreSQL runs that many
# transactions side by side. SQLite has one writer and this process one connection
# to it: two threads are enough for one to answer while the other waits, and more
# only queue for that connection, where under load some waited past the budget
# (bench/README.md: 4-6 of 3,000 requests with two threads, 23 with four, 39-74
# with eight, on a machine at load 30).
COMMAND_THREADS = {"sqlite": 2, "postgresql": 8}
# /healthz waits this long for the database, then says it is unavailable.
HEALTH_TIMEOUT_S = 1.0

# Slack's own payloads are a few KiB; a modal with every field full stays well under.
MAX_BODY_BYTES = 1024 * 1024

# Seconds since the epoch in ASCII digits, and "v0=" and a hex SHA-256: the only shapes
# Slack sends. Checked before slack_sdk reads them (it would raise on int("1.5")).
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")


class Refused(Exception):
    """A request the edge turns away, with the HTTP status to say so."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def verified_text(raw: bytes, headers: Mapping[str, str], verifier: SignatureVerifier) -> str:
    """The body as text, if Slack signed it; Refused(401) for anything else.

    Nothing here looks inside the body: it is hashed as it came, and decoded only to
    hand slack_sdk the text Slack signed (Slack sends UTF-8; anything else cannot
    carry a valid signature).
    """
    timestamp = headers.get("x-slack-request-timestamp") or ""
    signature = headers.get("x-slack-signature") or ""
    if not (_TIMESTAMP.fullmatch(timestamp) and _SIGNATURE.fullmatch(signature)):
        raise Refused(401, "missing or malformed signature")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused(401, "invalid signature") from None
    if not verifier.is_valid(text, timestamp, signature):
        raise Refused(401, "invalid or stale signature")
    return text


def admitted_request(
    raw: bytes,
    headers: Mapping[str, str | Sequence[str]],
    *,
    verifier: SignatureVerifier,
    slack_api_url: str,
    query: str = "",
) -> BoltRequest:
    """A verified request, parsed and admitted; Refused otherwise. The one way in,
    for `rapport serve` and `rapport try` alike."""
    lowered: dict[str, str | Sequence[str]] = {k.lower(): v for k, v in headers.items()}
    single = {k: v if isinstance(v, str) else next(iter(v), "") for k, v in lowered.items()}
    text = verified_text(raw, single, verifier)
    try:
        request = BoltRequest(body=text, query=query, headers=lowered)
    except ValueError:
        # Signed, yet not a form or JSON Slack would send.
        raise Refused(400, "unreadable body") from None
    admit(request.context, slack_api_url=slack_api_url)
    return request


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The body, or Refused(413) as soon as it is known to be over `limit`: from
    Content-Length before reading anything, or while reading a chunked body."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise Refused(413, "body too large")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Refused(413, "body too large")
        chunks.append(chunk)
    return b"".join(chunks)


def _refusal(refused: Refused) -> Response:
    # Close the connection: whatever is left of a refused body is not worth reading.
    return JSONResponse(
        {"error": refused.reason}, status_code=refused.status, headers={"connection": "close"}
    )


class HealthCheck:
    """`SELECT 1` (on SQLite, the write lock too: every request takes it) on a thread
    of its own, one at a time, waited for at most HEALTH_TIMEOUT_S. A database that
    does not answer makes /healthz say so at once; it never holds the server."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rapport-health")
        self._running: asyncio.Future[bool] | None = None

    async def database_up(self) -> bool:
        # A check still stuck from an earlier probe is shared, not queued behind.
        if self._running is None or self._running.done():
            self._running = asyncio.get_running_loop().run_in_executor(self._thread, self._check)
        try:
            return await asyncio.wait_for(asyncio.shield(self._running), HEALTH_TIMEOUT_S)
        except TimeoutError:
            return False

    def _check(self) -> bool:
        with request_budget(HEALTH_TIMEOUT_S):
            return database_answers(self.engine)


def make_asgi(app: App, engine: Engine, settings: Settings) -> Starlette:
    """Commands, interactivity and events all arrive at POST /slack/events.

    Nothing runs on the event loop's thread but HTTP: a listener that waits for the
    database (a lock held by another connection, a busy SQLite writer) must not hold
    every other request and /healthz with it. Slash commands go to threads of their
    own (COMMAND_THREADS), so that button clicks, modal submissions and events, whose
    listeners call Slack and wait for it, cannot take them all; those go to
    Starlette's thread pool. Each request's database work ends REQUEST_BUDGET_S after
    it arrived (storage/db.py). Measured against commands on the loop's own thread,
    see bench/README.md.
    """
    verifier = SignatureVerifier(settings.require("slack_signing_secret"))
    slack_api_url = settings.slack_api_url
    commands = ThreadPoolExecutor(
        max_workers=COMMAND_THREADS.get(engine.dialect.name, 2),
        thread_name_prefix="rapport-command",
    )
    health = HealthCheck(engine)

    def dispatch(bolt_request: BoltRequest, arrived: float) -> BoltResponse:
        with request_budget(REQUEST_BUDGET_S, started=arrived):
            return app.dispatch(bolt_request)

    async def slack_events(request: Request) -> Response:
        arrived = time.monotonic()
        try:
            raw = await read_body(request)
            bolt_request = admitted_request(
                raw,
                request.headers,
                verifier=verifier,
                slack_api_url=slack_api_url,
                query=request.url.query,
            )
        except Refused as refused:
            return _refusal(refused)
        except ClientDisconnect:
            return Response(status_code=400)
        if "command" in bolt_request.body:  # a slash command, as Bolt itself tells one
            loop = asyncio.get_running_loop()
            response = await loop.run_in_executor(commands, dispatch, bolt_request, arrived)
        else:
            response = await run_in_threadpool(dispatch, bolt_request, arrived)
        return to_starlette_response(response)

    async def healthz(_: Request) -> Response:
        ok = await health.database_up()
        return JSONResponse(
            {"ok": ok, "database": "up" if ok else "unavailable"}, status_code=200 if ok else 503
        )

    return Starlette(
        routes=[
            Route(EVENTS_PATH, slack_events, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            *install_routes(app),
        ]
    )


def install_routes(app: App) -> list[Route]:
    """Distributed mode's two pages, Bolt's OAuth flow behind each: GET /slack/install
    (the install page, with a fresh state) and GET /slack/oauth_redirect (where Slack
    sends the installer back). A browser, not Slack, calls them: nothing is signed, and
    the flow checks the state instead. None in single-workspace mode."""
    flow = app.oauth_flow
    if flow is None:
        return []

    def bolt_request(request: Request) -> BoltRequest:
        return BoltRequest(body="", query=request.url.query, headers=dict(request.headers))

    async def install(request: Request) -> Response:
        response = await run_in_threadpool(flow.handle_installation, bolt_request(request))
        return to_starlette_response(response)

    async def redirected(request: Request) -> Response:
        response = await run_in_threadpool(flow.handle_callback, bolt_request(request))
        return to_starlette_response(response)

    return [
        Route(flow.install_path, install, methods=["GET"]),
        Route(flow.redirect_uri_path, redirected, methods=["GET"]),
    ]
