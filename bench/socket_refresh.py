"""Socket Mode: how long an envelope sent during a refresh waits for its ack.

Slack refreshes a Socket Mode connection every few hours (`disconnect`, reason
`refresh_requested`); the app opens a new connection and lets the old one go. Each
round here asks for a refresh, sends a `/concede` on the old connection at once, and
another on the new connection the moment it has said hello, then reads how long each
waited for its ack. Slack gives up after 3 s.

Compared: Rapport's Socket Mode server (bot/app/socket_mode.py, slack_sdk's
`websockets` client) and Bolt's default adapter (slack_sdk's built-in client), both
serving the same app against the local fake Slack, on SQLite.

    .venv/bin/python bench/socket_refresh.py --rounds 20
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

import _common  # noqa: F401  (the repository on the import path)
from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler

from bot.app.bolt import build_app
from bot.app.socket_mode import SocketModeServer
from bot.config import Settings
from bot.devtools.localslack import (
    LOCAL_APP_TOKEN,
    ConnectionClosedByApp,
    LocalSlack,
    LocalSocketMode,
    command_body,
)
from storage import migrate
from storage.db import make_engine, make_session_factory


def run_ours(app: App, slack: LocalSlack) -> Callable[[], None]:
    server = SocketModeServer(app, app_token=LOCAL_APP_TOKEN, slack_api_url=slack.api_url)
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    thread = threading.Thread(target=loop.run_until_complete, args=(server.run(stop),))
    thread.start()

    def stopped() -> None:
        loop.call_soon_threadsafe(stop.set)
        thread.join()

    return stopped


def run_builtin(app: App, slack: LocalSlack) -> Callable[[], None]:
    handler = SocketModeHandler(app, LOCAL_APP_TOKEN, web_client=app.client)
    handler.connect()
    return handler.close


def rounds(
    side: LocalSocketMode, count: int, *, late_on_old: bool
) -> tuple[list[float], list[float], int, int]:
    """Ack waits (s) of the envelope sent on the old connection and of the one sent at
    the new hello, envelopes never acked, and envelopes for the old connection not
    sent (the app had closed it already). `late_on_old`: the second envelope goes to
    the old connection too (whether Slack still routes there then is not documented)."""
    during: list[float] = []
    after: list[float] = []
    lost = unsent = 0
    old = side.wait_connections(1)[-1]
    side.wait_ack(side.command(command_body("/concede", "warmup", team_id="T0BENCH")))
    for n in range(count):
        side.refresh(old)
        try:
            sent_old = side.command(command_body("/concede", f"a{n}", team_id="T0BENCH"), old)
        except ConnectionClosedByApp:
            unsent += 1
            sent_old = ""
        new = side.wait_new_connection(after=old)
        assert new is not None, "no new connection"
        try:
            sent_new = side.command(
                command_body("/concede", f"b{n}", team_id="T0BENCH"),
                connection=old if late_on_old else new,
            )
        except ConnectionClosedByApp:
            unsent += 1
            sent_new = ""
        for sent, into in ((sent_old, during), (sent_new, after)):
            if not sent:
                continue
            ack = side.wait_ack(sent, timeout=5)
            if ack is None:
                lost += 1
            else:
                into.append(ack.seconds)
        side.wait_closed(old)
        old = new
    return during, after, lost, unsent


def describe(name: str, waits: list[float]) -> str:
    if not waits:
        return f"{name}: none acked"
    ms = sorted(w * 1000 for w in waits)
    return (
        f"{name}: median {statistics.median(ms):.0f} ms, max {ms[-1]:.0f} ms, "
        f"min {ms[0]:.0f} ms, over 1 s: {sum(w > 1000 for w in ms)} of {len(ms)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--only", choices=["ours", "builtin"])
    parser.add_argument(
        "--late-on-old",
        action="store_true",
        help="send the second envelope on the old connection as the new one says hello",
    )
    args = parser.parse_args()
    with LocalSlack(bot_tokens=["xoxb-bench"]) as slack, tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        engine = make_engine(url)
        migrate.upgrade(engine)
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            slack_bot_token="xoxb-bench",
            slack_app_token=LOCAL_APP_TOKEN,
            slack_api_url=slack.api_url,
            database_url=url,
        )
        app = build_app(settings, db=make_session_factory(engine))
        side = slack.socket_mode  # up before an app asks apps.connections.open for it
        for name, run in (("ours (websockets)", run_ours), ("builtin", run_builtin)):
            if args.only and not name.startswith(args.only):
                continue
            stop = run(app, slack)
            try:
                during, after, lost, unsent = rounds(
                    side, args.rounds, late_on_old=args.late_on_old
                )
            finally:
                stop()
            late = "old" if args.late_on_old else "new"
            print(f"{name}, {args.rounds} refreshes, {lost} envelopes never acked")
            print("  " + describe("sent on the old connection at the disconnect", during))
            print("  " + describe(f"sent on the {late} connection at the new hello", after))
            if unsent:
                print(f"  not sent: the app had closed the old connection already, {unsent} times")


if __name__ == "__main__":
    main()
