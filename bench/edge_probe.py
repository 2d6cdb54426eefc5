"""Probe a real `rapport serve` the way issue 13's outside probe did, at the edge.

Starts a local fake Slack, a second local server standing in for an attacker's URL,
and `rapport serve` (a temporary SQLite file, no scheduler, the open-file limit set
to --nofile), then sends: unsigned clicks with malformed timestamps and the
attacker's response_url; unsigned garbage; a 400 MB Content-Length with no body; a
20 MB chunked body; then N connections that send headers and 10 bytes of body and
stop, with /healthz and a signed command sent meanwhile. Prints what each got, and
whether any request body reached the server's log.

    python bench/edge_probe.py --slow 1100 --nofile 1024
"""

from __future__ import annotations

import argparse
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from _common import ROOT, free_port, wait_healthy

from bot.devtools.localslack import LocalSlack, command_body, interaction_body, signed_headers

SECRET = "probe-signing-secret"
MARKER = "PROBE-MARKER-IN-A-BODY"
TOKEN = "xoxb-probe"


def start_serve(port: int, api_url: str, tmp: str, nofile: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": api_url,
        "DATABASE_URL": f"sqlite:///{tmp}/probe.db",
        "LOG_LEVEL": "DEBUG",
        "PYTHONPATH": str(ROOT),
    }

    def limit_files() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

    command = [sys.executable, "-m", "bot.app.cli", "serve", "--host", "127.0.0.1"]
    return subprocess.Popen(
        [*command, "--port", str(port), "--no-scheduler"],
        env=env,
        cwd=tmp,
        stdout=open(f"{tmp}/serve.log", "wb"),  # noqa: SIM115 (the child holds it)
        stderr=subprocess.STDOUT,
        preexec_fn=limit_files,
    )


def probe(url: str, port: int, slack: LocalSlack, attacker: LocalSlack, slow: int) -> None:
    click = {
        "type": "block_actions",
        "team": {"id": "T0PROBE"},
        "user": {"id": "U0PROBE", "team_id": "T0PROBE"},
        "response_url": attacker.response_url("evil"),
        "actions": [{"action_id": "concession_withdraw", "value": MARKER, "block_id": "b"}],
        "container": {"type": "message"},
    }
    body = interaction_body(click)
    for timestamp in ["abc", "", "1.5"]:
        headers = {"x-slack-request-timestamp": timestamp, "x-slack-signature": "v0=" + "0" * 64}
        answer = httpx.post(f"{url}/slack/events", content=body, headers=headers).status_code
        print(f"unsigned click, timestamp {timestamp!r}: {answer}")
    for garbage in [b"payload=%7Bnot", b'{"bad json', b"\xff\xfe" + MARKER.encode()]:
        answer = httpx.post(f"{url}/slack/events", content=garbage).status_code
        print(f"unsigned garbage {garbage[:14]!r}: {answer}")

    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: 419430400\r\n\r\n")
        status = sock.recv(200).split(b"\r\n")[0].decode()
    print(f"400 MB declared, nothing sent: {status} in {time.monotonic() - started:.2f} s")
    started = time.monotonic()
    chunks = (b"a" * 65536 for _ in range(320))
    try:
        answer = str(httpx.post(f"{url}/slack/events", content=chunks, timeout=30).status_code)
    except httpx.HTTPError as error:
        answer = f"closed ({type(error).__name__})"
    print(f"20 MB chunked: {answer} in {time.monotonic() - started:.2f} s")

    held = []
    for _ in range(slow):
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.sendall(
            b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789"
        )
        held.append(sock)
    for attempt in range(3):
        started = time.monotonic()
        answer = httpx.get(f"{url}/healthz", timeout=15).status_code
        took = (time.monotonic() - started) * 1000
        print(
            f"/healthz, {slow} slow connections opened (try {attempt + 1}): {answer}, {took:.0f} ms"
        )
    signed = command_body(
        "/rapport", "help", team_id="T0PROBE", user_id="U0PROBE", response_url=slack.response_url()
    )
    answer = httpx.post(
        f"{url}/slack/events", content=signed, headers=signed_headers(SECRET, signed)
    )
    print(f"signed /rapport help meanwhile: {answer.status_code}")
    time.sleep(6)  # past the 5 s read timeout
    closed = 0
    for sock in held:
        sock.settimeout(0.05)
        try:
            sock.recv(200)
            closed += 1
        except OSError:
            pass
        sock.close()
    print(f"slow connections answered and closed 6 s later: {closed} of {slow}")
    print(f"posts to the attacker's URL: {len(attacker.calls())}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--slow", type=int, default=300, help="slow connections to open")
    parser.add_argument("--nofile", type=int, default=1024, help="rapport serve's open-file limit")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, args.slow + 256)), hard))
    with (
        LocalSlack(bot_tokens=[TOKEN]) as slack,
        LocalSlack() as attacker,
        tempfile.TemporaryDirectory() as tmp,
    ):
        port = free_port()
        server = start_serve(port, slack.api_url, tmp, args.nofile)
        try:
            wait_healthy(port, server)
            probe(f"http://127.0.0.1:{port}", port, slack, attacker, args.slow)
        finally:
            server.terminate()
            server.wait(timeout=10)
        lines = Path(f"{tmp}/serve.log").read_text(errors="replace").splitlines()
        longest = max(lines, key=len, default="")
        print(
            f"server log: {len(lines)} lines, a request body in it: "
            f"{any(MARKER in line for line in lines)}; longest line {len(longest)} characters: "
            f"{longest[:100]}…"
        )


if __name__ == "__main__":
    main()
