"""HTTP serving: the Bolt app behind Starlette on uvicorn, plus a health check."""

from __future__ import annotations

import asyncio

from slack_bolt import App
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from storage.db import database_answers

EVENTS_PATH = "/slack/events"


def is_slash_command(body: bytes) -> bool:
    """Slash commands are form bodies with a `command` field; interactivity posts a
    single `payload` field and the Events API posts JSON."""
    return not body.startswith((b"payload=", b"{")) and b"command=" in body


def make_asgi(app: App, engine: Engine) -> Starlette:
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

    async def slack_events(request: Request) -> Response:
        body = await request.body()
        bolt_request = to_bolt_request(request, body)
        if is_slash_command(body):
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
