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

    Bolt's sync App is dispatched on Starlette's thread pool: its listeners do
    blocking database work, which must not stall the event loop for other requests.
    """

    async def slack_events(request: Request) -> Response:
        body = await request.body()
        response = await run_in_threadpool(app.dispatch, to_bolt_request(request, body))
        return to_starlette_response(response)

    async def healthz(_: Request) -> Response:
        ok = await run_in_threadpool(database_answers, engine)
        return JSONResponse(
            {"ok": ok, "database": "up" if ok else "down"}, status_code=200 if ok else 503
        )

    return Starlette(
        routes=[
            Route(EVENTS_PATH, slack_events, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ]
    )
