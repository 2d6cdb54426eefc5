"""Slack calls a slash command needs, made off the request path.

Slash commands are dispatched on the server's event loop (bot/app/server.py): their
listeners do local work and reply in the HTTP response. A Slack call there (opening
a modal, posting to a channel) would hold every other request for its round trip,
so a listener hands it to `later()`, which runs it on a small thread pool at once,
in parallel with the ack. (Bolt's own lazy listeners would do too, but they copy the
whole request for every command, needed or not: measured, that tripled /concede's
latency at concurrency 16.)

Everything after an ack, `later()`'s work and Bolt's lazy listeners alike, runs
through `run_after_ack`: whatever it raises is logged with its traceback and a
reference, and told to the user by the app's error path (handlers/errors.py). Bolt's
own lazy runner would log one line, without the traceback, and tell no one.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from datetime import datetime
from typing import Any

from slack_bolt import App, BoltContext, BoltRequest
from slack_bolt.kwargs_injection import build_required_kwargs
from slack_bolt.lazy_listener.thread_runner import ThreadLazyListenerRunner
from slack_bolt.util.utils import get_arg_names_of_callable
from slack_sdk import WebClient

from bot.slackapi.timezones import learn_timezone
from handlers.caller import team_of
from handlers.context import deps_of
from handlers.errors import tell_after_ack

log = logging.getLogger("rapport.after_ack")

SlackWork = Callable[[WebClient], None]


class AfterAckPool(ThreadPoolExecutor):
    """A thread pool that knows what it has left to do, so that `drain()` can wait
    for it: `rapport try` before it exits, and tests before they look at Slack."""

    def __init__(self, max_workers: int) -> None:
        super().__init__(max_workers=max_workers, thread_name_prefix="rapport-after-ack")
        self._pending: set[Future[Any]] = set()
        self._lock = threading.Lock()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future = super().submit(fn, *args, **kwargs)
        with self._lock:
            self._pending.add(future)
        future.add_done_callback(self._forget)
        return future

    def _forget(self, future: Future[Any]) -> None:
        with self._lock:
            self._pending.discard(future)

    def drain(self, timeout: float) -> None:
        """Wait until nothing is left, work submitted by work included (a few rounds
        at most: a lazy listener may hand a Slack call to `later()`). No clock read
        here: tests call this with the clock frozen."""
        for _ in range(10):
            with self._lock:
                pending = set(self._pending)
            if not pending:
                return
            if wait(pending, timeout=timeout).not_done:
                return


# One pool for everything after an ack: the Slack calls handed to `later()`, and
# Bolt's lazy listeners (button clicks, modal submissions, events), which
# bot/app/bolt.py gives it as Bolt's listener executor.
AFTER_ACK = AfterAckPool(max_workers=8)


def later(context: BoltContext, body: dict[str, Any], work: SlackWork) -> None:
    client = context.client
    assert client is not None
    AFTER_ACK.submit(run_after_ack, lambda: work(client), body, context)


def drain(timeout: float = 10.0) -> None:
    """Wait for the work after acks, lazy listeners included, to finish."""
    AFTER_ACK.drain(timeout)


def run_after_ack(job: Callable[[], object], body: dict[str, Any], context: BoltContext) -> None:
    """The one guarded runner for work after an ack."""
    try:
        job()
    except Exception as error:
        tell_after_ack(error, body, context)


class GuardedLazyListeners(ThreadLazyListenerRunner):
    """Bolt's lazy listeners, run on the after-ack pool through `run_after_ack`."""

    def start(self, function: Callable[..., None], request: BoltRequest) -> None:
        arg_names = get_arg_names_of_callable(function)

        def call() -> None:
            function(
                **build_required_kwargs(
                    logger=self.logger,
                    required_arg_names=arg_names,
                    request=request,
                    response=None,
                    this_func=function,
                )
            )

        self.executor.submit(run_after_ack, call, request.body, request.context)


def register(app: App) -> None:
    runner = app.listener_runner
    runner.lazy_listener_runner = GuardedLazyListeners(logger=runner.logger, executor=AFTER_ACK)


def learn_person(context: BoltContext, command: dict[str, Any], *, now: datetime) -> None:
    """Know the caller's time zone (their due days end at their midnight) and locale
    (how they write dates in numbers) from users.info, at most daily, after the ack."""
    deps = deps_of(context)
    team_id, user_id = team_of(command), command["user_id"]
    later(
        context,
        command,
        lambda client: learn_timezone(
            deps.db, client, deps.settings, team_id=team_id, user_id=user_id, now=now
        ),
    )
