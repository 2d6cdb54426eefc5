"""Faults end to end: a real `rapport serve` and two `rapport worker`s against the local
fake Slack, with Slack and database faults injected; counts what was lost, doubled or
slow.

    python bench/faults.py
    python bench/faults.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test

Everything listens on 127.0.0.1. The run is bounded (`--deadline`, 7 minutes by
default) and on its own database: a SQLite file in a temp dir, or a fresh PostgreSQL
schema that is dropped afterwards.

What happens, in order:

- `--owners` people each have a commitment due now (so each is owed one DM), and a
  digest is due in a channel that no longer exists (`channel_not_found`); a signed
  `/followup` goes in every second and `GET /healthz` every second throughout;
- Slack refuses the bot token (`invalid_auth`) on every Web API call from the start
  of the two workers until one of them has put the team on hold;
- then, queued for the next `chat.postMessage` calls: 429 with Retry-After 1, 1.5
  and 45, a 500, a 503, a post Slack takes and then answers 500, a post it takes and
  answers only after the client's 10 s timeout, and a `fatal_error` after taking it;
  two `conversations.open` answers 3 s late and one `conversations.history` 500;
- 2 s after the hold is lifted (the token is tried once a minute), a database lock
  held for `--lock-seconds` while the workers send into those faults (SQLite: a
  write transaction; PostgreSQL: ACCESS EXCLUSIVE on accounts, commitments, outbox);
- the commands stop 10 s after the lock is released.

It ends when every outbox row is settled (or at the deadline) and reports: commands
acked and stored, acked but lost, answered with an error; nudges lost and doubled
(counted from the messages the fake Slack kept, that is, what people would see);
requests over 3 s.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as time_of_day
from pathlib import Path

import httpx
from _common import ROOT, free_port, own_database, wait_healthy
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from bot.devtools.localslack import LocalSlack, command_body, signed_headers
from storage import migrate
from storage.db import make_engine, make_session_factory
from storage.models import (
    Account,
    Commitment,
    DeliveryHold,
    DigestSubscription,
    OutboxMessage,
    OutboxStatus,
    UserPrefs,
)

SECRET = "faults-signing-secret"
TOKEN = "xoxb-faults"
TEAM = "T0ACME"
DIGEST_OWNER = "U0DIGEST"
GONE_CHANNEL = "C0GONE"
SLOW_SECONDS = 3.0


@dataclass
class Requests:
    # (kind, seconds, whether the database lock was held when it started)
    timings: list[tuple[str, float, bool]] = field(default_factory=list)
    lock_held: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def timed(self, kind: str, started: float) -> None:
        with self.lock:
            self.timings.append((kind, time.monotonic() - started, self.lock_held.is_set()))

    def slow(self, kind: str | None = None) -> list[tuple[str, float, bool]]:
        return [t for t in self.timings if t[1] > SLOW_SECONDS and kind in (None, t[0])]


@dataclass
class Commands:
    stored: list[str] = field(default_factory=list)  # acked with "Noted": what was promised
    refused: int = 0  # acked with an answer that is not "Noted" (said nothing was saved)
    failed: int = 0  # no HTTP 200 (or no answer)
    answers: Counter[str] = field(default_factory=Counter)


def owner(n: int) -> str:
    return f"U9{n:06d}"


def seed(url: str, owners: int, slack: LocalSlack) -> None:
    engine = make_engine(url)
    migrate.upgrade(engine)
    now = datetime.now(UTC)
    today = now.date()
    with make_session_factory(engine).begin() as session:
        accounts = [
            Account(
                team_id=TEAM,
                key=f"fault account {n}",
                name=f"Fault Account {n}",
                owner_id=owner(n),
                created_by=owner(n),
                created_at=now - timedelta(days=7),
            )
            for n in range(owners)
        ]
        session.add_all(accounts)
        session.flush()
        session.add_all(
            Commitment(
                team_id=TEAM,
                account_id=account.id,
                owner_id=account.owner_id,
                what=f"send the deck to {account.name}",
                due_on=today,
                due_at=datetime.combine(today + timedelta(days=1), time_of_day(0), UTC),
                created_by=account.owner_id,
                created_at=now - timedelta(days=7),
                nudges_sent=0,
                next_nudge_at=now - timedelta(minutes=1),
                ladder_step=0,
                direction="ours",
            )
            for account in accounts
        )
        # Every hour a working hour, every day a working day: the nudges are due now,
        # whatever the time of the run.
        session.add_all(
            UserPrefs(
                team_id=TEAM,
                user_id=owner(n),
                slack_tz="UTC",
                slack_tz_fetched_at=now,
                work_start=time_of_day(0, 0),
                work_end=time_of_day(23, 59),
                work_days="0123456",
            )
            for n in range(owners)
        )
        session.add(
            DigestSubscription(
                team_id=TEAM,
                channel_id=GONE_CHANNEL,
                weekday=now.weekday(),
                send_at=time_of_day(0, 0),
                tz="UTC",
                scope="team",
                quiet="line",
                active=True,
                created_by=DIGEST_OWNER,
                created_at=now - timedelta(days=7),
                updated_at=now - timedelta(days=7),
                next_run_at=now - timedelta(minutes=1),
            )
        )
    engine.dispose()
    for n in range(owners):
        slack.add_user(owner(n), tz="UTC")
    slack.state.refused_channels[GONE_CHANNEL] = "channel_not_found"


def rapport(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot.app.cli", *args],
        env=env,
        cwd=ROOT,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def send_commands(port: int, commands: Commands, requests: Requests, stop: threading.Event) -> None:
    http = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
    n = 0
    while not stop.is_set():
        started = time.monotonic()
        what = f"call back about fault {n}"
        body = command_body("/followup", f"globex{n % 7} {what} due: tomorrow", team_id=TEAM)
        try:
            response = http.post(
                "/slack/events",
                content=body,
                headers={k: str(v) for k, v in signed_headers(SECRET, body).items()},
            )
        except httpx.HTTPError:
            commands.failed += 1
        else:
            if response.status_code != 200:
                commands.failed += 1
            else:
                reply = response.text
                if "Noted" in reply:
                    commands.stored.append(what)
                else:
                    commands.refused += 1
                    commands.answers[reply[:160]] += 1
        requests.timed("command", started)
        n += 1
        time.sleep(max(0.0, 1.0 - (time.monotonic() - started)))
    http.close()


def poll_health(port: int, requests: Requests, stop: threading.Event) -> None:
    while not stop.is_set():
        started = time.monotonic()
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=30)
        except httpx.HTTPError:
            pass
        requests.timed("healthz", started)
        time.sleep(max(0.0, 1.0 - (time.monotonic() - started)))


def inject_slack_faults(slack: LocalSlack) -> None:
    post = "chat.postMessage"
    slack.fail_next(post, status=429, retry_after=1)
    slack.fail_next(post, status=429, retry_after="1.5")
    slack.fail_next(post, status=500)
    slack.fail_next(post, status=500, accepted=True)
    slack.fail_next(post, accepted=True, delay=12.0)  # past the client's 10 s timeout
    slack.fail_next(post, status=429, retry_after=45)  # longer than a run sleeps
    slack.fail_next(post, error="fatal_error", accepted=True)
    slack.fail_next(post, status=503)
    slack.fail_next("conversations.open", delay=3.0, times=2)
    slack.fail_next("conversations.history", status=500)


def hold_lock(url: str, seconds: float, held: threading.Event) -> None:
    if url.startswith("sqlite"):
        path = make_url(url).database
        assert path
        raw = sqlite3.connect(path, timeout=30, isolation_level=None)
        raw.execute("BEGIN IMMEDIATE")
        held.set()
        time.sleep(seconds)
        raw.execute("ROLLBACK")
        raw.close()
    else:
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("LOCK TABLE accounts, commitments, outbox IN ACCESS EXCLUSIVE MODE"))
            held.set()
            time.sleep(seconds)
        engine.dispose()
    held.clear()


def teams_on_hold(url: str) -> int:
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            return int(session.scalar(select(func.count()).select_from(DeliveryHold)) or 0)
    finally:
        engine.dispose()


def wait_until(condition: Callable[[], bool], timeout: float) -> float | None:
    """Seconds until `condition` held, or None if it did not within `timeout`."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if condition():
            return time.monotonic() - start
        time.sleep(0.5)
    return None


def unsettled(url: str) -> int:
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            return int(
                session.scalar(
                    select(func.count())
                    .select_from(OutboxMessage)
                    .where(OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING]))
                )
                or 0
            )
    finally:
        engine.dispose()


def run(args: argparse.Namespace) -> bool:
    with own_database(args.database_url, "faults") as url, LocalSlack(bot_tokens=[TOKEN]) as slack:
        seed(url, args.owners, slack)
        logs = Path(tempfile.mkdtemp(prefix="rapport-faults-"))
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE"))},
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": slack.api_url,
            "DATABASE_URL": url,
            "LOG_LEVEL": "WARNING",
        }
        port = free_port()
        serve = rapport(
            ["serve", "--no-scheduler", "--host", "127.0.0.1", "--port", str(port)],
            env,
            logs / "serve.log",
        )
        processes = [serve]
        phases: dict[str, float | None] = {}
        try:
            wait_healthy(port, serve)
            requests, commands, stop = Requests(), Commands(), threading.Event()
            traffic = [
                threading.Thread(target=send_commands, args=(port, commands, requests, stop)),
                threading.Thread(target=poll_health, args=(port, requests, stop)),
            ]
            for thread in traffic:
                thread.start()
            # 1. Slack refuses the token until a worker has put the team on hold.
            slack.state.token_error = "invalid_auth"
            start = time.monotonic()
            processes += [
                rapport(["worker", "--every", "5"], env, logs / f"worker{i}.log") for i in (1, 2)
            ]
            held_after = wait_until(lambda: teams_on_hold(url) > 0, 90)
            slack.state.token_error = None
            # 2. Slack's faults wait for the first posts after the hold is lifted.
            inject_slack_faults(slack)
            resumed_after = wait_until(lambda: teams_on_hold(url) == 0, 120)
            # 3. The database lock, while the workers send into those faults.
            time.sleep(2)
            hold_lock(url, args.lock_seconds, requests.lock_held)
            time.sleep(10)
            stop.set()
            for thread in traffic:
                thread.join()
            phases.update(held=held_after, resumed=resumed_after)
            deadline = start + args.deadline
            while time.monotonic() < deadline and unsettled(url):
                for process in processes:
                    if process.poll() is not None:
                        raise SystemExit(f"a rapport process exited early; see {logs}")
                time.sleep(2)
            elapsed = time.monotonic() - start
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
        return report(url, slack, args, commands, requests, elapsed, logs, phases)


def report(
    url: str,
    slack: LocalSlack,
    args: argparse.Namespace,
    commands: Commands,
    requests: Requests,
    elapsed: float,
    logs: Path,
    phases: dict[str, float | None],
) -> bool:
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        promised = set(session.scalars(select(Commitment.what)))
        statuses = Counter(session.scalars(select(OutboxMessage.status)))
        digest_active = session.scalar(select(DigestSubscription.active))
    engine.dispose()
    lost_commands = [what for what in commands.stored if what not in promised]
    dms = Counter({owner(n): len(slack.posted("D" + owner(n)[1:])) for n in range(args.owners)})
    nudges_lost = sum(1 for count in dms.values() if count == 0)
    nudges_doubled = sum(count - 1 for count in dms.values() if count > 1)
    told = [m for m in slack.posted("D" + DIGEST_OWNER[1:]) if "paused" in str(m.get("text"))]
    db = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    print(f"{db}: {elapsed:.0f} s, logs in {logs}")
    print(
        f"  commands: {len(commands.stored) + commands.refused + commands.failed} sent, "
        f"{len(commands.stored)} acked and stored, {len(lost_commands)} acked but lost, "
        f"{commands.refused} answered with an error, {commands.failed} not answered (non-200)"
    )
    for answer, count in commands.answers.most_common(3):
        print(f"    {count} x {answer!r}")
    print(
        f"  nudges: {args.owners} owed, {nudges_lost} lost, {nudges_doubled} doubled; "
        f"outbox {dict(statuses)}"
    )
    print(
        f"  digest to a deleted channel: paused={digest_active is False}, "
        f"its creator told {len(told)} time(s)"
    )
    print(
        f"  invalid_auth: team on hold after {phases['held'] or float('nan'):.0f} s, "
        f"delivery resumed {phases['resumed'] or float('nan'):.0f} s after the token worked"
    )
    for kind in ("command", "healthz"):
        timings = [t for t in requests.timings if t[0] == kind]
        slow = requests.slow(kind)
        worst = max((t[1] for t in timings), default=0.0)
        print(
            f"  {kind}: {len(timings)} requests, over {SLOW_SECONDS:g} s: {len(slow)} "
            f"({sum(1 for t in slow if t[2])} begun while the lock was held), "
            f"slowest {worst:.2f} s"
        )
    return (
        not lost_commands
        and not nudges_lost
        and not nudges_doubled
        and not requests.slow()
        and len(told) == 1
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="PostgreSQL URL (default: a SQLite file)")
    parser.add_argument("--owners", type=int, default=40, help="people owed one DM each")
    parser.add_argument("--lock-seconds", type=float, default=6.0)
    parser.add_argument("--deadline", type=float, default=420.0, help="seconds, at most")
    ok = run(parser.parse_args())
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
