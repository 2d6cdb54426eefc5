"""HTTP serving: the Bolt app behind Starlette on uvicorn, plus a health check."""

from __future__ import annotations

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


def make_asgi(app: App, engine: Engine) -> Starlette:
    """Commands, interactivity and events all arrive at POST /slack/events.

    Bolt runs on the event loop's own thread. Every ack path in Rapport is a short
    local transaction and a render (a couple of milliseconds, see bench/README.md);
    anything that waits on Slack runs in Bolt's lazy-listener threads or the
    scheduler. Measured on 2 cores at concurrency 16, handing each request to a
    thread pool instead cost 2-3x in p50, from GIL hand-offs and, on SQLite, writers
    queueing for the one connection anyway.
    """

    async def slack_events(request: Request) -> Response:
        body = await request.body()
        return to_starlette_response(app.dispatch(to_bolt_request(request, body)))

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
