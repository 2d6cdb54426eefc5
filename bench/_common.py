"""What the benchmarks share: the repository on the import path, a free port, waiting
for a server to answer, and a database of the run's own.

A script imports from it before anything of the repository's: Python puts bench/ on
the path when it runs a script from there, and importing this puts the repository there
too.
"""

from __future__ import annotations

import http.client
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_healthy(port: int, process: subprocess.Popen[bytes], what: str = "rapport serve") -> None:
    """Returns once the server on `port` answers GET /healthz with a 200; ends the run if
    its process exits first, or if it is not up within a minute."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{what} on port {port} exited with {process.returncode}")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except (OSError, http.client.HTTPException):
            pass  # not listening yet (refused, reset mid-start): ask again below
        finally:
            conn.close()
        time.sleep(0.2)
    raise SystemExit(f"{what} on port {port} did not come up")


def in_schema(url: str, schema: str) -> str:
    """The PostgreSQL `url`, with `schema` first on its search path."""
    scoped = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
    return scoped.render_as_string(hide_password=False)


@contextmanager
def own_database(url: str | None, name: str) -> Iterator[str]:
    """A database for this run alone, gone afterwards: a SQLite file in a temporary
    folder, or with `url` a fresh schema `rapport_<name>_…` in that PostgreSQL database."""
    if url is None:
        with tempfile.TemporaryDirectory(prefix=f"rapport-bench-{name}-") as tmp:
            yield f"sqlite:///{Path(tmp) / f'{name}.db'}"
        return
    schema = f"rapport_{name}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield in_schema(url, schema)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
