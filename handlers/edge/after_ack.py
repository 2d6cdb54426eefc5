"""Work after the ack: the Slack calls a slash command needs, made off the request
path, and the listeners (button clicks, modal submissions) whose work all runs after
their ack (`clicks_after_ack`, `submissions_after_ack`).

Slash commands are dispatched on the server's event loop (bot/app/server.py): their
listeners do local work and reply in the HTTP response. A Slack call there (opening
a modal, posting to a channel) would hold every other request for its round trip,
so a listener hands it to `later()`, which runs it on a small thread pool at once,
in parallel with the ack. (Bolt's own lazy listeners would do too, but they copy the
whole request for every command, needed or not: measured, that tripled /concede's
latency at concurrency 16.)

Everything after an ack, `later()`'s work and Bolt's lazy listeners alike, runs
through `run_after_ack`: whatever it raises is logged with its traceback and a
reference, and told to the user by the app's error path (handlers/edge/errors.py). Bolt's
own lazy runner would log one line, without the traceback, and tell no one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from slack_bolt import Ack, App, BoltContext, BoltRequest
from slack_bolt.kwargs_injection import build_required_kwargs
from slack_bolt.lazy_listener.thread_runner import ThreadLazyListenerRunner
from slack_bolt.util.utils import get_arg_names_of_callable
from slack_sdk import WebClient

from bot.slackapi.timezones import learn_timezone
from handlers.edge.caller import team_of
from handlers.edge.context import deps_of
from handlers.edge.errors import tell_after_ack
from handlers.edge.pool import AFTER_ACK
from messages.ids import Action, View

log = logging.getLogger("rapport.after_ack")

SlackWork = Callable[[WebClient], None]


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


def ack_only(ack: Ack) -> None:
    """The ack of a listener whose work all runs after it."""
    ack()


def clicks_after_ack(app: App, works: Mapping[Action, Callable[..., None]]) -> None:
    """Buttons and menus whose work calls Slack: acked at once, the work run after the
    ack (Bolt's lazy listeners), so no Slack round trip sits on the request path."""
    for action_id, work in works.items():
        app.action(action_id.value)(ack=ack_only, lazy=[work])


def submissions_after_ack(
    app: App, views: Mapping[View, tuple[Callable[..., None], Callable[..., None]]]
) -> None:
    """Modal submissions: checked by their ack (a problem shows in the open modal), and
    the work that calls Slack run after it."""
    for callback_id, (ack, work) in views.items():
        app.view(callback_id.value)(ack=ack, lazy=[work])


def install(app: App) -> None:
    """Bolt's lazy listeners run on the after-ack pool, guarded by `run_after_ack`."""
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
