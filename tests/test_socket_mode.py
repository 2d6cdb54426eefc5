"""Socket Mode: Rapport behind a firewall, with no public URL and no signing secret.

The real app is served as `rapport serve --socket` serves it, over a WebSocket to the
local fake Slack's Socket Mode side: envelopes in, acks (with their payloads) out.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import parse_qsl

import pytest
from slack_bolt import App, BoltRequest
from sqlalchemy import Engine, func, select

from bot.app.bolt import build_app
from bot.app.socket_mode import SocketModeServer, SocketModeTimings
from bot.config import Settings
from bot.devtools.localslack import (
    LOCAL_APP_TOKEN,
    ConnectionClosedByApp,
    LocalSlack,
    LocalSocketMode,
    command_body,
)
from messages.ids import Action, View
from storage.db import SessionFactory, make_session_factory
from storage.models import Account, Concession, MesoSet
from tests.slackkit import ALICE, TEAM, SocketModeThread, block_action, view_submission
from tests.test_cli import rapport as rapport_run
from tests.test_cli import started
from tests.test_meso import modal_values
from tests.test_request_budget import lock_held

# Acked this long after it was sent, at most, even in the middle of a refresh.
ACK_LIMIT_S = 1.0


@pytest.fixture(scope="module")
def socket_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"slack_signing_secret": None, "slack_app_token": LOCAL_APP_TOKEN}
    )


@pytest.fixture(scope="module")
def socket_app(socket_settings: Settings, engine: Engine) -> App:
    return build_app(socket_settings, db=make_session_factory(engine))


@pytest.fixture
def side(slack: LocalSlack) -> LocalSocketMode:
    return slack.socket_mode


@pytest.fixture
def serving(
    socket_app: App, socket_settings: Settings, side: LocalSocketMode, db: SessionFactory
) -> Iterator[SocketModeThread]:
    before = max(side.connections(), default=0)
    server = SocketModeServer(
        socket_app,
        app_token=LOCAL_APP_TOKEN,
        slack_api_url=socket_settings.slack_api_url,
        timings=SocketModeTimings(ping_interval=1.0, drain_timeout=5.0),
    )
    running = SocketModeThread(server).start()
    assert side.wait_new_connection(after=before) is not None
    yield running
    running.stop()
    # Gone on Slack's side too, before the next test counts the connections.
    for number in side.connections():
        assert number <= before or side.wait_closed(number)


def connection_of(side: LocalSocketMode) -> int:
    (only,) = side.connections()
    return only


def command(text: str, name: str = "/concede") -> str:
    return command_body(name, text, team_id=TEAM, user_id=ALICE)


def test_the_app_serves_socket_mode_without_a_signing_secret(
    settings: Settings, db: SessionFactory
) -> None:
    unsigned = settings.model_copy(update={"slack_signing_secret": None})
    app = build_app(unsigned, db=db)
    body = dict(parse_qsl(command_body("/concede", "acme give: 5% discount get: a case study")))
    response = app.dispatch(BoltRequest(body=body, mode="socket_mode"))
    assert response.status == 200
    assert "a case study" in response.body


def test_a_slash_command_is_answered_in_its_ack(
    serving: SocketModeThread, side: LocalSocketMode, slack: LocalSlack
) -> None:
    (opened,) = slack.calls("apps.connections.open")[-1:]
    assert opened.token == LOCAL_APP_TOKEN

    sent = side.command(command("acme give: 5% discount get: a case study"))
    ack = side.wait_ack(sent)

    assert ack is not None and ack.payload is not None
    assert "a case study" in json.dumps(ack.payload)


def test_app_home_opened_publishes_the_home_view(
    serving: SocketModeThread, side: LocalSocketMode, slack: LocalSlack
) -> None:
    sent = side.event(
        {"type": "app_home_opened", "user": ALICE, "channel": "D0HOME", "tab": "home"},
        team_id=TEAM,
    )
    assert side.wait_ack(sent) is not None
    (published,) = slack.wait_for("views.publish")
    assert published.args["user_id"] == ALICE


def test_a_button_opens_the_form_and_its_submission_is_saved(
    serving: SocketModeThread, side: LocalSocketMode, slack: LocalSlack, db: SessionFactory
) -> None:
    reply = side.wait_ack(side.command(command('"Acme Corp"', "/meso")))
    assert reply is not None and reply.payload is not None
    (button, *_) = [
        block["accessory"]
        for block in reply.payload["blocks"]
        if (block.get("accessory") or {}).get("action_id") == Action.MESO_TEMPLATE
    ]
    assert side.wait_ack(side.interaction(block_action(Action.MESO_TEMPLATE, button["value"])))
    (opened,) = slack.wait_for("views.open")
    assert opened.args["view"]["callback_id"] == View.MESO

    values = modal_values(
        "acme",
        {"TERMS": "list price", "VALUE": "100"},
        {"TERMS": "higher price", "CADENCE": "monthly reviews", "VALUE": "102"},
    )
    saved = side.wait_ack(side.interaction(view_submission(View.MESO, values)))
    assert saved is not None and saved.payload is not None
    assert saved.payload["response_action"] == "update"
    with db() as session:
        assert session.scalar(select(func.count()).select_from(MesoSet)) == 1


def test_a_refresh_leaves_no_moment_deaf(serving: SocketModeThread, side: LocalSocketMode) -> None:
    old = connection_of(side)
    # What is measured is the refresh, not a first command's templates and imports.
    assert side.wait_ack(side.command(command("acme")))
    for round_ in range(8):
        side.refresh(old)
        # On the old connection at once, while the app opens the new one (unless the app
        # has closed the old one already, as a fast refresh may: Slack would send the
        # envelope elsewhere then).
        sent: list[str] = []
        with contextlib.suppress(ConnectionClosedByApp):
            sent.append(side.command(command(f"early{round_} give: 1% off get: a logo"), old))
        new = side.wait_new_connection(after=old)
        assert new is not None
        # The moment the new connection has said hello: on it, and on the old one.
        sent.append(side.command(command(f"new{round_} give: 2% off get: a quote"), new))
        with contextlib.suppress(ConnectionClosedByApp):
            sent.append(side.command(command(f"late{round_} give: 3% off get: a case"), old))
        for envelope in sent:
            ack = side.wait_ack(envelope)
            assert ack is not None and ack.payload is not None, "an envelope was never acked"
            assert ack.seconds < ACK_LIMIT_S, f"acked after {ack.seconds:.2f} s"
        assert side.wait_closed(old), "the app let the refreshed connection go"
        old = new


# --- `rapport serve --socket` in processes of its own ------------------------------


class SocketServed:
    """`rapport serve --no-scheduler` with SLACK_APP_TOKEN set, in a process of its own,
    its log read."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        # No --socket: an app-level token in the environment is enough to choose it.
        self.process = started("serve", "--no-scheduler", env=env, cwd=cwd)
        self.output: list[str] = []
        self._said = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._said:
                self.output.append(line)
                self._said.notify_all()

    def wait_said(self, words: str, timeout: float = 30) -> bool:
        with self._said:
            return self._said.wait_for(lambda: any(words in line for line in self.output), timeout)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def socket_env(socket_settings: Settings, database_url: str) -> Iterator[dict[str, str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_URL"))}
    yield {
        **env,
        "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "SLACK_APP_TOKEN": LOCAL_APP_TOKEN,
        "SLACK_API_URL": socket_settings.slack_api_url,
        "DATABASE_URL": database_url,
        "LOG_LEVEL": "INFO",
    }


@pytest.fixture
def processes(socket_env: dict[str, str], tmp_path: Path) -> Iterator[Callable[[], SocketServed]]:
    started: list[SocketServed] = []

    def start() -> SocketServed:
        started.append(SocketServed(socket_env, tmp_path))
        return started[-1]

    yield start
    for process in started:
        process.kill()


def concessions(db: SessionFactory) -> list[str]:
    with db() as session:
        return sorted(
            session.scalars(
                select(Account.name).join(Concession, Concession.account_id == Account.id)
            )
        )


def test_two_processes_share_the_envelopes_and_one_stops_without_dropping_work(
    serving: SocketModeThread,
    processes: Callable[[], SocketServed],
    side: LocalSocketMode,
    slack: LocalSlack,
    db: SessionFactory,
    engine: Engine,
) -> None:
    """This process serves one connection, `rapport serve --socket` another; Slack sends
    each envelope to one of them. The other process then gets SIGTERM with work in
    flight: it finishes that work, and an envelope Slack still sends it before its
    connection closes (a restart must miss no command), then closes its connection, and
    every envelope from then on goes to this process."""
    here = connection_of(side)
    there_process = processes()
    there = side.wait_new_connection(after=here, timeout=60)
    assert there is not None
    assert there_process.wait_said(
        "serving Slack over Socket Mode (SLACK_APP_TOKEN is set): no public URL needed"
    )

    accounts = ["acme", *(f"acme{n}" for n in range(1, 6))]
    sent = [side.command(command(f"{name} give: 1% discount get: a logo")) for name in accounts]
    acks = [side.wait_ack(envelope) for envelope in sent]
    assert {ack.connection for ack in acks if ack} == {here, there}, "both processes served"
    assert all(len(side.acks_of(envelope)) == 1 for envelope in sent)

    # In flight over there when SIGTERM comes: a command waiting for the database (a
    # lock another connection holds, as a long transaction would).
    with lock_held(engine):
        waiting = side.command(command("acme give: 2% discount get: a quote"), connection=there)
        time.sleep(0.5)  # read and dispatched (well within its 1.5 s budget): it waits
        there_process.process.send_signal(signal.SIGTERM)
        assert there_process.wait_said("stopping: finishing 1 taken")
        late = side.command(command("latecomer give: 1% discount get: a logo"), connection=there)
        assert side.acks_of(waiting) == []
    assert there_process.process.wait(timeout=30) == 0
    finished = side.wait_ack(waiting)
    assert finished is not None and "a quote" in json.dumps(finished.payload)
    handled = side.wait_ack(late)
    assert handled is not None and "a logo" in json.dumps(handled.payload), "not dropped"
    assert side.wait_closed(there)

    later = [side.command(command(f"later{n} give: 1% discount get: a quote")) for n in range(4)]
    assert {ack.connection for ack in map(side.wait_ack, later) if ack} == {here}
    assert all(len(side.acks_of(envelope)) == 1 for envelope in later)
    assert concessions(db) == sorted(
        ["acme", *accounts, "latecomer", *(f"later{n}" for n in range(4))]
    )


def test_a_bot_token_given_as_the_app_token_stops_serving_and_says_so(
    socket_env: dict[str, str], tmp_path: Path
) -> None:
    wrong = {**socket_env, "SLACK_APP_TOKEN": "xoxb-test-token"}
    done = rapport_run("serve", env=wrong, cwd=tmp_path)
    assert done.returncode == 2
    assert "Slack refused SLACK_APP_TOKEN (not_allowed_token_type)" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_websocket_that_cannot_be_reached_stops_serving_and_says_so(
    socket_env: dict[str, str], tmp_path: Path, slack: LocalSlack
) -> None:
    # A firewall that lets no WebSocket out: the URL Slack hands out answers nothing.
    slack.state.socket_url = "ws://127.0.0.1:9/link"  # the discard port: nothing answers
    done = rapport_run("serve", env=socket_env, cwd=tmp_path)
    assert done.returncode == 2
    assert "could not open a Socket Mode connection to Slack" in done.stderr
    assert "HTTPS_PROXY" in done.stderr
    assert "Traceback" not in done.stderr
