"""The `rapport` command line, run as a user would run it."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from freezegun import freeze_time

from bot.app import cli
from bot.app.tryout import run_try
from bot.config import Settings
from bot.devtools.localslack import LocalSlack, command_body, signed_headers
from storage.db import SessionFactory
from tests.slackkit import ALICE, SIGNING_SECRET, TEAM, SlackSender

Rapport = Callable[..., subprocess.CompletedProcess[str]]


def rapport(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """`rapport ARGS` in a process of its own, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "bot.app.cli", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def started(*args: str, env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    """`rapport ARGS` started in a process of its own, its output and errors on one pipe."""
    return subprocess.Popen(
        [sys.executable, "-m", "bot.app.cli", *args],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.fixture
def rapport_here(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Rapport:
    """`rapport ARGS` as `python -m bot.app.cli` runs it (`sys.exit(cli.main(ARGS))`), in
    this process: the same environment, working directory, exit code and output,
    without a second of CPU to start Python and import Rapport again. Each command is
    also run at least once by `rapport()` above, in a process of its own; the repeats
    that check what a command did run here."""

    def run(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
        with monkeypatch.context() as patch:
            for name in os.environ.keys() - env.keys():
                patch.delenv(name)
            for name, value in env.items():
                patch.setenv(name, value)
            patch.chdir(cwd)
            capsys.readouterr()
            try:
                code = cli.main(list(args))
            except SystemExit as stopped:  # argparse, and checks that stop at once
                code = stopped.code if isinstance(stopped.code, int) else 1
            out, err = capsys.readouterr()
        return subprocess.CompletedProcess(["rapport", *args], code, out, err)

    return run


@pytest.fixture
def clean_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_URL"))}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
    return env


def test_serve_without_a_token_stops_and_names_the_variable(
    clean_env: dict[str, str], tmp_path: Path
) -> None:
    done = rapport("serve", env=clean_env, cwd=tmp_path)
    assert done.returncode == 2
    assert "SLACK_BOT_TOKEN" in done.stderr
    assert "README" in done.stderr


def test_serve_socket_mode_needs_an_app_token(clean_env: dict[str, str], tmp_path: Path) -> None:
    env = {**clean_env, "SLACK_BOT_TOKEN": "xoxb-x", "SLACK_SIGNING_SECRET": "s"}
    done = rapport("serve", "--socket", env=env, cwd=tmp_path)
    assert done.returncode == 2
    assert "SLACK_APP_TOKEN" in done.stderr


def test_http_serving_names_the_missing_signing_secret(
    clean_env: dict[str, str], tmp_path: Path
) -> None:
    done = rapport("serve", env={**clean_env, "SLACK_BOT_TOKEN": "xoxb-x"}, cwd=tmp_path)
    assert done.returncode == 2
    assert "SLACK_SIGNING_SECRET" in done.stderr


@pytest.mark.parametrize(
    ("given", "named"),
    [
        ({"SLACK_CLIENT_ID": "111.222", "SLACK_SIGNING_SECRET": "s"}, "SLACK_CLIENT_SECRET"),
        ({"SLACK_CLIENT_SECRET": "c", "SLACK_SIGNING_SECRET": "s"}, "SLACK_CLIENT_ID"),
        ({"SLACK_CLIENT_ID": "111.222", "SLACK_CLIENT_SECRET": "c"}, "SLACK_SIGNING_SECRET"),
    ],
)
def test_serve_names_the_variable_its_mode_lacks(
    rapport_here: Rapport,
    clean_env: dict[str, str],
    tmp_path: Path,
    given: dict[str, str],
    named: str,
) -> None:
    """Distributed (SLACK_CLIENT_ID or SLACK_CLIENT_SECRET set) or one workspace."""
    done = rapport_here("serve", env={**clean_env, **given}, cwd=tmp_path)
    assert done.returncode == 2
    assert f"{named} is not set" in done.stderr
    assert "SLACK_BOT_TOKEN" not in done.stderr or "SLACK_BOT_TOKEN" in given


def test_serve_with_settings_of_both_modes_says_which_to_unset(
    rapport_here: Rapport, clean_env: dict[str, str], tmp_path: Path
) -> None:
    env = {
        **clean_env,
        "SLACK_BOT_TOKEN": "xoxb-x",
        "SLACK_CLIENT_ID": "111.222",
        "SLACK_CLIENT_SECRET": "c",
        "SLACK_SIGNING_SECRET": "s",
    }
    done = rapport_here("serve", env=env, cwd=tmp_path)
    assert done.returncode == 2
    assert "Unset SLACK_BOT_TOKEN to install into many workspaces" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("given", "socket_mode", "why"),
    [
        ({"slack_app_token": "xapp-1"}, True, "SLACK_APP_TOKEN is set"),
        ({}, False, "SLACK_APP_TOKEN is not set"),
        # An app-level token beside the OAuth settings: HTTP, and the first line says why
        # (it said "SLACK_APP_TOKEN is not set").
        (
            {"slack_app_token": "xapp-1", "slack_client_id": "1.2", "slack_client_secret": "s"},
            False,
            "installs into many workspaces (SLACK_CLIENT_ID) need HTTP",
        ),
    ],
)
def test_serve_says_why_it_serves_socket_mode_or_http(
    given: dict[str, str], socket_mode: bool, why: str
) -> None:
    settings = Settings(_env_file=None, **given)  # type: ignore[call-arg, arg-type]
    args = cli._parser().parse_args(["serve"])
    assert cli._transport(settings, args) == (socket_mode, why)


def test_socket_mode_with_oauth_settings_says_it_needs_http(
    rapport_here: Rapport, clean_env: dict[str, str], tmp_path: Path
) -> None:
    env = {**clean_env, "SLACK_CLIENT_ID": "111.222", "SLACK_CLIENT_SECRET": "c"}
    done = rapport_here("serve", "--socket", env=env, cwd=tmp_path)
    assert done.returncode == 2
    assert "Socket Mode serves the one workspace of SLACK_BOT_TOKEN" in done.stderr


def test_serve_with_a_token_slack_refuses_stops_and_says_so(
    clean_env: dict[str, str], tmp_path: Path, slack: LocalSlack
) -> None:
    env = {
        **clean_env,
        "SLACK_BOT_TOKEN": "xoxb-revoked",
        "SLACK_SIGNING_SECRET": "s",
        "SLACK_API_URL": slack.api_url,
    }
    slack.fail_next("auth.test", error="invalid_auth")
    done = rapport("serve", env=env, cwd=tmp_path)
    assert done.returncode == 2
    assert "SLACK_BOT_TOKEN" in done.stderr and "invalid_auth" in done.stderr
    assert "Traceback" not in done.stderr
    # Bolt's "token will be unused" is not logged: the client is built from that token.
    assert "will be unused" not in done.stderr


def test_serve_that_cannot_reach_slack_stops_and_names_the_url(
    clean_env: dict[str, str], tmp_path: Path
) -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}/api/"
    env = {
        **clean_env,
        "SLACK_BOT_TOKEN": "xoxb-x",
        "SLACK_SIGNING_SECRET": "s",
        "SLACK_API_URL": closed,
        "SLACK_MAX_RETRIES": "0",
    }
    done = rapport("serve", env=env, cwd=tmp_path)
    assert done.returncode == 2
    assert closed in done.stderr and "refused" in done.stderr
    assert "Traceback" not in done.stderr


def test_try_runs_a_command_without_slack(
    clean_env: dict[str, str], tmp_path: Path, rapport_here: Rapport
) -> None:
    logged = rapport(
        "try", "/concede acme give: 5% discount get: 24-month term", env=clean_env, cwd=tmp_path
    )
    assert logged.returncode == 0, logged.stderr
    assert "*We give:* 5% discount" in logged.stdout
    # Bolt's notice about the stand-in's own token is ours to know, not the user's.
    assert "will be ignored" not in logged.stderr
    assert (tmp_path / "rapport.db").exists(), "SQLite in the working directory by default"

    shown = rapport_here("try", "/concede acme", env=clean_env, cwd=tmp_path)
    assert "1 traded give, 0 one-way gives" in shown.stdout

    wrong = rapport_here("try", "/followup acme send pricing", env=clean_env, cwd=tmp_path)
    assert "Write it like this" in wrong.stdout


def test_try_acts_in_a_workspaces_data_when_given_its_team(
    clean_env: dict[str, str], tmp_path: Path, rapport_here: Rapport
) -> None:
    env = {**clean_env, "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}"}
    as_alice = ("try", "--team", "T0ACME", "--user", "U0ALICE")
    logged = rapport_here(
        *as_alice, "/concede acme give: 5% discount get: a case study", env=env, cwd=tmp_path
    )
    assert logged.returncode == 0, logged.stderr

    assert "a case study" in rapport_here(*as_alice, "/concede acme", env=env, cwd=tmp_path).stdout
    sandbox = rapport_here("try", "/concede acme", env=env, cwd=tmp_path)
    assert "a case study" not in sandbox.stdout, "another team's data stays its own"

    wrong = rapport_here("try", "--team", "acme", "/concede acme", env=env, cwd=tmp_path)
    assert wrong.returncode == 2
    assert (
        "read 'acme', which is not a Slack team id" in wrong.stderr and "T012AB3CD" in wrong.stderr
    )


def test_try_shows_what_the_served_bot_stored(
    slack_user: SlackSender, settings: Settings, db: SessionFactory
) -> None:
    slack_user.command("/concede", "acme give: 5% discount get: a case study")  # over HTTP

    shown = run_try("/concede acme", settings=settings, db=db, user_id=ALICE, team_id=TEAM)
    assert "a case study" in shown


def test_db_upgrade_is_repeatable(
    clean_env: dict[str, str], tmp_path: Path, rapport_here: Rapport
) -> None:
    env = {**clean_env, "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    assert "up to date" in rapport("db", "upgrade", env=env, cwd=tmp_path).stdout
    again = rapport_here("db", "upgrade", env=env, cwd=tmp_path)
    assert again.returncode == 0 and "up to date" in again.stdout


@pytest.fixture
def serve_env(clean_env: dict[str, str], tmp_path: Path, slack: LocalSlack) -> dict[str, str]:
    return {
        **clean_env,
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'served.db'}",
        "LOG_LEVEL": "INFO",  # uvicorn's "running on" line says it is up, and where
    }


RUNNING_ON = re.compile(r"Uvicorn running on http://127\.0\.0\.1:(\d+)")


class Served:
    """`rapport serve --port 0` in a process of its own: the kernel picks a free port
    as the server binds it (a port chosen beforehand could be taken by anything else
    on the machine in between), and uvicorn's log says which, once it listens."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.process = started("serve", "--port", "0", "--host", "127.0.0.1", env=env, cwd=cwd)
        self.output: list[str] = []
        self.port: int | None = None
        self._up_or_gone = threading.Event()
        # Read all along: a full pipe would stop the server mid-log.
        threading.Thread(target=self._read, daemon=True).start()
        # Up, or exited: either ends the wait at once. The limit is for a server that
        # hangs while starting, not for a slow start on a loaded machine.
        if not self._up_or_gone.wait(timeout=120) or self.port is None:
            self.stop()
            raise AssertionError("rapport serve did not come up:\n" + "".join(self.output))
        response = httpx.get(f"{self.url}/healthz", timeout=30)
        assert response.status_code == 200, response.text

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)
            found = RUNNING_ON.search(line)
            if found and self.port is None:
                self.port = int(found.group(1))
                self._up_or_gone.set()
        self._up_or_gone.set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def post_command(server: Served, text: str) -> dict[str, object]:
    body = command_body("/concede", text, team_id="T0ACME", user_id="U0ALICE")
    response = httpx.post(
        f"{server.url}/slack/events",
        content=body,
        headers=signed_headers(SIGNING_SECRET, body),
        # What is kept across a restart is checked here, not how fast the first
        # request of a new process is (tests/test_request_budget.py, bench/).
        timeout=30,
    )
    assert response.status_code == 200
    payload: dict[str, object] = response.json()
    return payload


def test_served_state_survives_a_restart(serve_env: dict[str, str], tmp_path: Path) -> None:
    first = Served(serve_env, tmp_path)
    said = "".join(first.output)
    assert "serving Slack over HTTP at http://127.0.0.1:0/slack/events" in said
    assert "(SLACK_APP_TOKEN is not set)" in said
    try:
        assert "traded concession" in str(
            post_command(first, "acme give: 5% discount get: a case study")
        )
    finally:
        first.stop()
    assert first.process.returncode is not None

    second = Served(serve_env, tmp_path)
    try:
        assert "a case study" in str(post_command(second, "acme"))
    finally:
        second.stop()


def test_outbox_lists_failed_and_stuck_messages(
    clean_env: dict[str, str], tmp_path: Path, rapport_here: Rapport
) -> None:
    from datetime import UTC, datetime

    from storage.db import make_engine, make_session_factory
    from storage.models import OutboxMessage

    url = f"sqlite:///{tmp_path / 'ops.db'}"
    env = {**clean_env, "DATABASE_URL": url}
    assert "nothing failed" in rapport("outbox", env=env, cwd=tmp_path).stdout
    engine = make_engine(url)
    when = datetime(2026, 11, 27, 9, tzinfo=UTC)
    with make_session_factory(engine).begin() as session:
        session.add(
            OutboxMessage(
                team_id="T0ACME",
                kind="nudges",
                subject="U0ALICE",
                slot="s1",
                recipient="U0ALICE",
                payload={},
                status="failed",
                attempts=1,
                not_before=when,
                created_at=when,
                last_error="user_not_found",
            )
        )
        session.add(
            OutboxMessage(
                team_id="T0ACME",
                kind="nudges",
                subject="U0BOB",
                slot="s2",
                recipient="U0BOB",
                payload={},
                status="sent",
                attempts=1,
                not_before=when,
                created_at=when,
            )
        )
    engine.dispose()
    listed = rapport_here("outbox", env=env, cwd=tmp_path).stdout
    assert "failed" in listed and "user_not_found" in listed and "U0ALICE" in listed
    assert "U0BOB" not in listed


def test_outbox_retry_requeues_failed_messages_and_shows_the_oldest_waiting(
    clean_env: dict[str, str], tmp_path: Path, rapport_here: Rapport
) -> None:
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import select

    from storage.db import make_engine, make_session_factory
    from storage.models import OutboxMessage

    url = f"sqlite:///{tmp_path / 'ops.db'}"
    env = {**clean_env, "DATABASE_URL": url}
    assert rapport_here("db", "upgrade", env=env, cwd=tmp_path).returncode == 0
    engine = make_engine(url)
    db = make_session_factory(engine)
    now = datetime.now(UTC)

    def row(subject: str, team: str, status: str, age: timedelta) -> OutboxMessage:
        return OutboxMessage(
            team_id=team,
            kind="nudges",
            subject=subject,
            slot="s1",
            recipient=subject,
            payload={"text": "hi"},
            status=status,
            attempts=8 if status == "failed" else 0,
            not_before=now - age,
            created_at=now - age,
            claimed_at=now - age,
            last_error="fatal_error" if status == "failed" else None,
        )

    with db.begin() as session:
        session.add_all(
            [
                row("U0OLD", "T0ACME", "failed", timedelta(days=3)),
                row("U0NEW", "T0ACME", "failed", timedelta(hours=2)),
                row("U0GLOBEX", "T0GLOBEX", "failed", timedelta(days=3)),
                row("U0WAITING", "T0ACME", "pending", timedelta(hours=5, minutes=7)),
            ]
        )
    with db() as session:
        ids = {r.subject: r.id for r in session.scalars(select(OutboxMessage))}

    listed = rapport_here("outbox", env=env, cwd=tmp_path).stdout
    assert "1 waiting to be sent" in listed and "5 h 7 min old" in listed, listed
    assert f"#{ids['U0WAITING']}" in listed

    refused = rapport_here("outbox", "retry", env=env, cwd=tmp_path)
    assert refused.returncode == 2 and "--id N, --failed-since DATE or --team T" in refused.stderr

    since = (now - timedelta(days=1)).isoformat()
    assert (
        "re-queued 1"
        in rapport_here("outbox", "retry", "--failed-since", since, env=env, cwd=tmp_path).stdout
    )
    assert (
        "re-queued 1"
        in rapport("outbox", "retry", "--team", "T0GLOBEX", env=env, cwd=tmp_path).stdout
    )
    one = rapport_here("outbox", "retry", "--id", str(ids["U0OLD"]), env=env, cwd=tmp_path).stdout
    assert f"re-queued 1 failed message(s): #{ids['U0OLD']}" in one
    nothing = rapport_here("outbox", "retry", "--id", str(ids["U0OLD"]), env=env, cwd=tmp_path)
    assert nothing.returncode == 1 and "nothing re-queued" in nothing.stdout

    with db() as session:
        after = {r.subject: (r.status, r.attempts) for r in session.scalars(select(OutboxMessage))}
    engine.dispose()
    assert set(after.values()) == {("pending", 0)}
    assert "4 waiting" in rapport_here("outbox", env=env, cwd=tmp_path).stdout


@freeze_time("2026-12-04 16:00:00")
def test_outbox_retry_with_a_word_for_a_date_shows_forms_that_work(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exited:
        cli._parser().parse_args(["outbox", "retry", "--failed-since", "yesterday"])
    error = capsys.readouterr().err
    assert exited.value.code == 2
    assert "read 'yesterday'" in error
    assert "2026-12-03" in error and "2026-12-03T09:30+01:00" in error
