"""HTTP serving: the Bolt app behind Starlette on uvicorn, plus a health check.

The edge decides what reaches Bolt. A body over 1 MiB is refused (413) before it is
read; then the signature is checked on the raw bytes, before anything parses them:
anything that is not a well-formed, current, valid Slack signature gets 401, whatever
the body holds. Only then is the body parsed and the request admitted
(handlers/response_urls.py), which is what lets a reply go to its response_url.
How long a client may take to send its request, and how many connections are held
at once, is bot/edge.py's.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping, Sequence

from slack_bolt import App, BoltRequest
from slack_bolt.adapter.starlette.handler import to_starlette_response
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.config import Settings
from handlers.response_urls import admit
from storage.db import database_answers

EVENTS_PATH = "/slack/events"

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


def is_slash_command(body: bytes) -> bool:
    """Slash commands are form bodies with a `command` field; interactivity posts a
    single `payload` field and the Events API posts JSON."""
    return not body.startswith((b"payload=", b"{")) and b"command=" in body


def _refusal(refused: Refused) -> Response:
    # Close the connection: whatever is left of a refused body is not worth reading.
    return JSONResponse(
        {"error": refused.reason}, status_code=refused.status, headers={"connection": "close"}
    )


def make_asgi(app: App, engine: Engine, settings: Settings) -> Starlette:
    """Commands, interactivity and events all arrive at POST /slack/events.

    Slash commands run on the event loop's own thread: their listeners are a short
    local transaction and a render (a couple of milliseconds, see bench/README.md),
    and the Slack calls they need run after the ack (handlers/after_ack.py).
    Measured on 2 cores at concurrency 16, handing commands to a thread pool cost
    2-3x in p50, from GIL hand-offs and, on SQLite, writers queueing for the one
    connection anyway. Button clicks, modal submissions and events go to the thread
    pool: their listeners redraw messages and open modals through Slack, and must
    not hold the loop while they wait for it.
    """
    verifier = SignatureVerifier(settings.require("slack_signing_secret"))
    slack_api_url = settings.slack_api_url

    async def slack_events(request: Request) -> Response:
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
        if is_slash_command(raw):
            # Back of the queue first: the loop then reads the sockets again before this
            # runs, so commands are handled in the order they arrived. Without it, each
            # pass of the loop ran every command read in the last one, and a command that
            # arrived just after the read waited a whole pass more, every time: at
            # concurrency 16, two connections in sixteen saw twice the latency
            # (bench/README.md).
            await asyncio.sleep(0)
            return to_starlette_response(app.dispatch(bolt_request))
        return to_starlette_response(await run_in_threadpool(app.dispatch, bolt_request))

    async def healthz(_: Request) -> Response:
        ok = await run_in_threadpool(database_answers, engine)
        status = 200 if ok else 503
        return JSONResponse({"ok": ok, "database": "up" if ok else "down"}, status_code=status)

    return Starlette(
        routes=[
            Route(EVENTS_PATH, slack_events, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ]
    )
