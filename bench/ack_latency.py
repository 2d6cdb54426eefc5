"""Ack latency of `rapport serve` against a plain peer and a bare Bolt app.

Starts a local fake Slack (for auth.test), `rapport serve` on a temporary SQLite
database, the plain peer (bench/plain_peer.py: the same /concede with Bolt's defaults,
an ORM session per request and a Jinja2 reply, under gunicorn gthread 2x4, on its own
SQLite file), and a bare Bolt app (one no-op /concede listener) served by Rapport's
Starlette + uvicorn wiring. Then fires signed /concede requests at concurrency C,
alternating rounds between the three, and prints p50/p99 for each and Rapport's p99
against the two targets: under 50 ms at concurrency 16 on a 2-core machine, and at
most half the plain peer's p99. The bare app's numbers are the framework's floor,
printed for context, not a target.

    python bench/ack_latency.py --requests 4000 --concurrency 16
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from _common import ROOT, free_port, wait_healthy

from bot.devtools.localslack import LocalSlack, command_body, signed_headers

SECRET = "bench-signing-secret"
TARGET_P99_MS = 50.0  # at concurrency 16, 2 cores (bench/README.md)
TARGET_PEER_FRACTION = 0.5  # Rapport's p99 at most half the plain peer's (issue 14)


def serve_bare(port: int, api_url: str) -> None:
    """The baseline: a Bolt app whose /concede listener only acks."""
    import uvicorn
    from slack_bolt import Ack, App
    from sqlalchemy import create_engine

    from bot.app.server import make_asgi
    from bot.config import Settings
    from bot.slackapi.client import make_client

    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        slack_api_url=api_url,
        slack_signing_secret=SECRET,
    )
    app = App(
        client=make_client(settings, token="xoxb-bench"),
        signing_secret=SECRET,
        process_before_response=True,
    )

    @app.command("/concede")
    def noop(ack: Ack) -> None:
        ack()

    engine = create_engine("sqlite://")
    uvicorn.run(make_asgi(app, engine, settings), host="127.0.0.1", port=port, log_level="warning")


class Target:
    """One server under test, and the keep-alive connections the load generator holds.

    The load generator is one asyncio loop writing raw HTTP/1.1: it spends about
    0.15-0.2 ms of CPU a request. The first version used http.client from 16 threads,
    whose own GIL hand-offs added to every latency it measured, most at the tail
    (bench/README.md has the two side by side).
    """

    def __init__(self, name: str, port: int) -> None:
        self.name = name
        self.port = port
        self.latencies: list[float] = []
        self.errors = 0
        self.cpu_ms: float | None = None  # server CPU per request, from /proc
        self.client_cpu_ms = 0.0
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    def request(self, index: int) -> bytes:
        body = command_body(
            "/concede",
            f"bench-{index % 50} give: {index}% discount get: 24-month term",
            team_id="T0BENCH",
            user_id="U0BENCH",
        )
        headers = {
            **signed_headers(SECRET, body),
            "host": f"127.0.0.1:{self.port}",
            "content-length": str(len(body.encode())),
        }
        head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        return f"POST /slack/events HTTP/1.1\r\n{head}\r\n{body}".encode()

    async def run(self, indexes: range, concurrency: int) -> None:
        pending = iter(indexes)  # shared: each client takes the next request
        await asyncio.gather(*(self._client(pending) for _ in range(concurrency)))

    async def _client(self, pending: Iterator[int]) -> None:
        connection = self.idle.pop() if self.idle else None
        for index in pending:
            request = self.request(index)
            started = time.perf_counter()
            try:
                if connection is None:
                    connection = await asyncio.open_connection("127.0.0.1", self.port)
                reader, writer = connection
                writer.write(request)
                ok = await read_response(reader) == 200
            except (OSError, asyncio.IncompleteReadError, ValueError):
                connection, ok = None, False
            elapsed = time.perf_counter() - started
            if ok:
                self.latencies.append(elapsed * 1000)
            else:
                self.errors += 1
        if connection is not None:
            self.idle.append(connection)

    def close(self) -> None:
        for _, writer in self.idle:
            writer.close()


async def read_response(reader: asyncio.StreamReader) -> int:
    """Reads one response off a keep-alive connection; returns its status."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    await reader.readexactly(length)
    return int(lines[0].split()[1])


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU of a process so far (Linux /proc), threads included."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    # utime and stime are fields 14 and 15 of stat(5); [0] here is field 3.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def family(pid: int) -> list[int]:
    """A process and its children (gunicorn's workers), read once they are up."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    return [pid, *(int(child) for child in children)]


def cpu_of(pids: list[int]) -> float | None:
    readings = [cpu_seconds(pid) for pid in pids]
    return None if any(r is None for r in readings) else sum(r for r in readings if r)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def fire(
    targets: list[Target],
    pids: dict[str, list[int]],
    requests: int,
    concurrency: int,
    round_size: int,
    warmup: int,
) -> tuple[dict[str, float | None], dict[str, float | None], float]:
    """Warm up, then alternate rounds between the targets; CPU readings around it."""
    for target in targets:  # warm up connections and caches, then forget
        await target.run(range(warmup), concurrency)
        target.latencies.clear()
    # Server CPU per request depends far less on what else runs on the machine than
    # latency does: the number to decide changes by.
    cpu_before = {name: cpu_of(group) for name, group in pids.items()}
    client_before = time.process_time()
    done = 0
    while done < requests:
        size = min(round_size, requests - done)
        for target in targets:
            await target.run(range(done, done + size), concurrency)
        done += size
    client_cpu = time.process_time() - client_before
    cpu_after = {name: cpu_of(group) for name, group in pids.items()}
    for target in targets:
        target.close()
    return cpu_before, cpu_after, client_cpu


def measure(args: argparse.Namespace) -> list[Target]:
    """One run: fresh servers and database, warm-up, alternating rounds, CPU readings."""
    with LocalSlack(bot_tokens=["xoxb-bench"]) as slack, tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "SLACK_BOT_TOKEN": "xoxb-bench",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": slack.api_url,
            "DATABASE_URL": args.database_url or f"sqlite:///{tmp}/bench.db",
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
        }
        rapport_port, peer_port, bare_port = free_port(), free_port(), free_port()
        serve = ["-m", "bot.app.cli", "serve", "--host", "127.0.0.1", "--port", str(rapport_port)]
        rapport = subprocess.Popen([sys.executable, *serve], env=env, cwd=tmp)
        peer_database = args.peer_database_url or f"sqlite:///{tmp}/peer.db"
        peer_env = {**env, "PEER_DATABASE_URL": peer_database}
        del peer_env["SLACK_BOT_TOKEN"]  # the peer gives Bolt its client, as Rapport does
        subprocess.run(
            [sys.executable, str(ROOT / "bench" / "plain_peer.py")], env=peer_env, check=True
        )
        peer = subprocess.Popen(
            [
                *(sys.executable, "-m", "gunicorn", "--chdir", str(ROOT / "bench")),
                *("--worker-class", "gthread", "--workers", "2", "--threads", "4"),
                *("--bind", f"127.0.0.1:{peer_port}", "--log-level", "warning"),
                "plain_peer:application",
            ],
            env=peer_env,
            cwd=tmp,
        )
        bare = subprocess.Popen(
            [sys.executable, __file__, "--bare-server", str(bare_port), "--api-url", slack.api_url],
            env=env,
            cwd=tmp,
        )
        servers = [rapport, peer, bare]
        try:
            wait_healthy(rapport_port, rapport)
            wait_healthy(peer_port, peer, "the plain peer")
            wait_healthy(bare_port, bare, "the bare Bolt app")
            targets = [
                Target("rapport", rapport_port),
                Target("plain peer", peer_port),
                Target("bare bolt", bare_port),
            ]
            # The peer's CPU is its gunicorn workers' too: the arbiter and its children.
            pids = {
                "rapport": [rapport.pid],
                "plain peer": family(peer.pid),
                "bare bolt": [bare.pid],
            }
            cpu_before, cpu_after, client_cpu = asyncio.run(
                fire(targets, pids, args.requests, args.concurrency, args.round, args.warmup)
            )
        finally:
            for server in servers:
                server.terminate()
            for server in servers:
                server.wait(timeout=10)
    for target in targets:
        before, after = cpu_before[target.name], cpu_after[target.name]
        if before is not None and after is not None:
            target.cpu_ms = (after - before) * 1000 / args.requests
    targets[0].client_cpu_ms = client_cpu * 1000 / (len(targets) * args.requests)
    return targets


def report(run: int, targets: list[Target]) -> None:
    print(f"run {run}")
    for target in targets:
        lat = target.latencies
        cpu = "n/a" if target.cpu_ms is None else f"{target.cpu_ms:.2f}"
        print(
            f"  {target.name:<10} {percentile(lat, 0.5):8.1f} {percentile(lat, 0.99):8.1f} "
            f"{statistics.fmean(lat):8.1f} {target.errors:7d} {cpu:>18}"
        )
    ours, peer = (percentile(target.latencies, 0.99) for target in targets[:2])
    print(
        f"  load generator CPU {targets[0].client_cpu_ms:.2f} ms/req; "
        f"Rapport p99 / plain peer p99 = {ours / peer:.2f} (target <= {TARGET_PEER_FRACTION})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=4000, help="per target")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--round", type=int, default=500, help="requests per alternation")
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument(
        "--runs",
        type=int,
        default=1,
        help="independent runs, each with fresh servers; the verdict is on their median p99",
    )
    parser.add_argument(
        "--database-url", help="Rapport's database (default: a temporary SQLite file)"
    )
    parser.add_argument(
        "--peer-database-url", help="the plain peer's database (default: its own SQLite file)"
    )
    parser.add_argument("--bare-server", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--api-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare_server:
        serve_bare(args.bare_server, args.api_url)
        return

    print(
        f"{args.requests} signed /concede requests per target and run, concurrency "
        f"{args.concurrency}, alternating rounds of {args.round}; {os.cpu_count()} cores"
    )
    print(
        f"  {'target':<10} {'p50 ms':>8} {'p99 ms':>8} {'mean ms':>8} {'errors':>7} "
        f"{'server CPU ms/req':>18}"
    )
    p99s, fractions = [], []
    for run in range(1, args.runs + 1):
        targets = measure(args)
        report(run, targets)
        ours, peer = (percentile(target.latencies, 0.99) for target in targets[:2])
        p99s.append(ours)
        fractions.append(ours / peer)
    median_fraction = statistics.median(fractions)
    print(
        f"target p99 <= {TARGET_PEER_FRACTION} x the plain peer's: "
        f"{'met' if median_fraction <= TARGET_PEER_FRACTION else 'NOT met'} "
        f"(median of {len(fractions)} runs {median_fraction:.2f})"
    )
    median_p99 = statistics.median(p99s)
    under = sum(p99 < TARGET_P99_MS for p99 in p99s)
    verdict = "met" if median_p99 < TARGET_P99_MS else "NOT met"
    print(
        f"target p99 < {TARGET_P99_MS:.0f} ms: {verdict} (median of {len(p99s)} runs "
        f"{median_p99:.1f} ms; {under} of {len(p99s)} runs under)",
        end="",
    )
    if args.concurrency != 16:
        print(f"; the target is stated at concurrency 16, this run used {args.concurrency}")
    else:
        print()


if __name__ == "__main__":
    main()
