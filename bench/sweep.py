"""How long a sweep takes to find what is due and write it to the outbox.

Seeds N commitments, of which D are due now (the rest are due later or done), then
times one sweep's planning (due commitments -> nudges) and grouping (nudges -> one
outbox message per person), without Slack. Run it at two table sizes with the same
due count to see that the cost follows what is due, not the table:

    python bench/sweep.py --rows 100000 --due 10000
    python bench/sweep.py --rows 1000000 --due 10000
    python bench/sweep.py --rows 1000000 --due 10000 \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test

Seeding a million rows takes minutes. `--reuse NAME` keeps the seeded database (a
SQLite file at NAME, or a PostgreSQL schema named NAME) and on later runs puts the
due commitments back as they were seeded instead of seeding again; `--repeat N`
times N sweeps, resetting in between, and prints the best and the median.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import statistics
import sys
import time
from contextlib import ExitStack
from datetime import UTC, date, datetime, timedelta
from datetime import time as time_of_day
from pathlib import Path

from _common import in_schema, own_database
from sqlalchemy import (
    Engine,
    create_engine,
    delete,
    event,
    func,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.engine import make_url

from bot.config import Settings
from bot.scheduler import group, plan
from bot.scheduler.sweep import PLAN_AND_GROUP
from storage import migrate
from storage.db import make_engine, make_session_factory, one_at_a_time
from storage.models import Account, Commitment, Nudge, OutboxMessage, UserPrefs

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
# Only the due commitments are seeded with this due day: a reset finds them by it.
DUE_ON = date(2026, 11, 27)
TEAM = "T0BENCH"
OWNERS = 1000
CHUNK = 20000


def seed(engine, rows: int, due: int) -> None:  # type: ignore[no-untyped-def]
    created = NOW - timedelta(days=30)
    with engine.begin() as conn:
        conn.execute(
            insert(Account),
            [
                {
                    "team_id": TEAM,
                    "key": f"acct {i}",
                    "name": f"Acct {i}",
                    "owner_id": f"U{i % OWNERS:07d}",
                    "created_by": "U0000000",
                    "created_at": created,
                    "stage": "open",
                }
                for i in range(OWNERS * 5)
            ],
        )
    account_ids = list(range(1, OWNERS * 5 + 1))
    rng = random.Random(7)
    due_positions = set(rng.sample(range(rows), due))
    done_at = NOW - timedelta(days=3)
    for start in range(0, rows, CHUNK):
        batch = []
        for i in range(start, min(start + CHUNK, rows)):
            account_id = account_ids[i % len(account_ids)]
            owner = f"U{(account_id - 1) % OWNERS:07d}"
            if i in due_positions:
                due_on, next_nudge, done = DUE_ON, NOW - timedelta(minutes=1), None
            elif i % 2:
                due_on, next_nudge, done = date(2027, 1, 15), NOW + timedelta(days=49), None
            else:
                due_on, next_nudge, done = date(2026, 11, 1), None, done_at
            batch.append(
                {
                    "team_id": TEAM,
                    "account_id": account_id,
                    "owner_id": owner,
                    "what": f"follow-up {i}",
                    "due_on": due_on,
                    "due_at": datetime.combine(
                        due_on + timedelta(days=1), datetime.min.time(), UTC
                    ),
                    "created_by": owner,
                    "created_at": created,
                    "done_at": done,
                    "next_nudge_at": next_nudge,
                    "nudges_sent": 0,
                    "direction": "ours",
                    "ladder_step": 0,
                    "kept_on_time": True if done else None,
                }
            )
        with engine.begin() as conn:
            conn.execute(insert(Commitment), batch)


def kept_database(url: str | None, name: str) -> tuple[str, bool]:
    """The database `--reuse` names, and whether it is already seeded."""
    if not url:
        return f"sqlite:///{Path(name).resolve()}", Path(name).exists()
    with create_engine(url).begin() as conn:
        exists = conn.scalar(
            text("SELECT count(*) FROM information_schema.schemata WHERE schema_name = :s"),
            {"s": name},
        )
        if not exists:
            conn.execute(text(f'CREATE SCHEMA "{name}"'))
    return in_schema(url, name), bool(exists)


def record_fixture(engine: Engine, rows: int, due: int) -> None:
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE bench_fixture (rows_seeded INTEGER, due INTEGER)"))
        conn.execute(text("INSERT INTO bench_fixture VALUES (:r, :d)"), {"r": rows, "d": due})


def check_fixture(engine: Engine, rows: int, due: int) -> None:
    if not inspect(engine).has_table("bench_fixture"):
        sys.exit("--reuse: that database was not seeded by this benchmark (or seeding stopped)")
    with engine.connect() as conn:
        seeded = tuple(conn.execute(text("SELECT rows_seeded, due FROM bench_fixture")).one())
    if seeded != (rows, due):
        sys.exit(f"--reuse: seeded with rows, due = {seeded}, not {(rows, due)}")


def reset(engine: Engine, *, stale_tz: bool = False) -> None:
    """Undo a sweep: no nudges, no outbox, the due commitments back at step 0.

    The owners' time zones were looked up an hour ago (the steady state: the sweep
    refreshes them daily), unless `stale_tz`: then nobody's is known and every nudge
    waits in `pending` for a lookup before it is grouped.
    """
    with engine.begin() as conn:
        conn.execute(delete(Nudge))
        conn.execute(delete(OutboxMessage))
        conn.execute(delete(UserPrefs).where(UserPrefs.team_id == TEAM))
        if not stale_tz:
            conn.execute(
                insert(UserPrefs),
                [
                    {
                        "team_id": TEAM,
                        "user_id": f"U{i:07d}",
                        "slack_tz_fetched_at": NOW - timedelta(hours=1),
                        "work_start": time_of_day(9, 0),
                        "work_end": time_of_day(18, 0),
                        "work_days": "01234",
                        "digest_opt_out": False,
                    }
                    for i in range(OWNERS)
                ],
            )
        conn.execute(
            update(Commitment)
            .where(Commitment.due_on == DUE_ON)
            .values(
                next_nudge_at=NOW - timedelta(minutes=1),
                ladder_step=0,
                ladder_anchor=None,
                snoozed_until=None,
                nudges_sent=0,
            )
        )
    settle(engine)


def settle(engine: Engine) -> None:
    """Fresh planner statistics and no dead rows, so every timed run starts alike.

    Without it a run right after seeding races autovacuum on the same two cores.
    """
    if engine.dialect.name != "postgresql":
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))


class ServerCpu:
    """CPU seconds the PostgreSQL backends serving this engine have used, from /proc.

    On a shared machine wall time swings with everyone else's load; CPU time spent
    (ours plus the server's on our behalf) barely does.
    """

    def __init__(self, engine: Engine) -> None:
        self.pids: set[int] = set()
        if engine.dialect.name == "postgresql":
            event.listen(engine, "connect", self._remember)

    def _remember(self, dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        self.pids.add(dbapi_connection.info.backend_pid)

    def seconds(self) -> float:
        ticks = 0
        for pid in self.pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:  # a server on another host, or the backend has gone
                continue
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
        return ticks / os.sysconf("SC_CLK_TCK")


def sweep_once(engine: Engine, url: str, server: ServerCpu) -> tuple[float, ...]:
    db = make_session_factory(engine)
    settings = Settings(_env_file=None, database_url=url)  # type: ignore[call-arg]
    cpu, server_cpu = time.process_time(), server.seconds()
    started = time.perf_counter()
    # As `bot.scheduler.sweep` does: one sweeper at a time (the lock is timed with planning), and
    # what can go now is written into its message while planning.
    with one_at_a_time(db, PLAN_AND_GROUP):
        held = group.Grouping()
        planned = plan.plan_due(db, settings, now=NOW, grouping=held)
        planning = time.perf_counter() - started
        started = time.perf_counter()
        messages = group.group_due(db, settings, now=NOW, grouping=held)
        grouping = time.perf_counter() - started
    cpu, server_cpu = time.process_time() - cpu, server.seconds() - server_cpu
    with db() as session:
        nudges = session.scalar(select(func.count()).select_from(Nudge))
        outbox = session.scalar(select(func.count()).select_from(OutboxMessage))
    assert nudges == planned and outbox == messages
    return planning, grouping, planned, messages, cpu, server_cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=10_000)
    parser.add_argument("--database-url", help="default: a temporary SQLite file")
    parser.add_argument(
        "--reuse",
        metavar="NAME",
        help="keep the seeded database (SQLite: this file; PostgreSQL: this schema) and "
        "reuse it on later runs",
    )
    parser.add_argument("--repeat", type=int, default=1, help="sweeps to time (default 1)")
    parser.add_argument(
        "--no-freeze",
        action="store_true",
        help="leave the start-up heap to the garbage collector (rapport serve freezes it)",
    )
    parser.add_argument(
        "--stale-tz",
        action="store_true",
        help="nobody's time zone known yet: every nudge waits for a lookup (the first "
        "sweep of a new team); by default they were looked up an hour ago",
    )
    args = parser.parse_args()

    with ExitStack() as stack:
        if args.reuse:
            url, seeded_before = kept_database(args.database_url, args.reuse)
        else:
            url = stack.enter_context(own_database(args.database_url, "sweep"))
            seeded_before = False
        engine = make_engine(url)
        server = ServerCpu(engine)
        try:
            migrate.upgrade(engine)
            seeded = 0.0
            if seeded_before:
                check_fixture(engine, args.rows, args.due)
            else:
                started = time.perf_counter()
                seed(engine, args.rows, args.due)
                seeded = time.perf_counter() - started
                if args.reuse:
                    record_fixture(engine, args.rows, args.due)
                    settle(engine)
            runs = []
            for _ in range(args.repeat):
                reset(engine, stale_tz=args.stale_tz)
                if not args.no_freeze:
                    # As `rapport serve` does after start-up (bot/app/cli.py): otherwise each
                    # full collection during the sweep walks every module and mapper.
                    gc.collect()
                    gc.freeze()
                runs.append(sweep_once(engine, url, server))
            with engine.connect() as conn:
                total = conn.scalar(select(func.count()).select_from(Commitment))
        finally:
            engine.dispose()

    backend = make_url(url).get_backend_name()
    how = f"seeded in {seeded:.1f} s" if seeded else f"reused {args.reuse}"
    print(f"{backend}: {total:,} commitments, {args.due:,} due ({how})")
    for planning, grouping, planned, messages, cpu, server_cpu in runs:
        spent = f"CPU {cpu * 1000:.0f} ms here"
        if server.pids:
            spent += f" + {server_cpu * 1000:.0f} ms in PostgreSQL"
        lines = [
            ("plan  (find due, write nudges)", planning, f"{planned:,} nudges"),
            ("group (nudges -> one message/person)", grouping, f"{messages:,} messages"),
            ("find and enqueue, total", planning + grouping, spent),
        ]
        for label, seconds, what in lines:
            print(f"  {label:<38} {seconds * 1000:8.1f} ms  {what}")
    if len(runs) > 1:
        totals = [run[0] + run[1] for run in runs]
        cpus = [run[4] + run[5] for run in runs]
        print(
            f"  {len(runs)} runs: best {min(totals) * 1000:.1f} ms, "
            f"median {statistics.median(totals) * 1000:.1f} ms; "
            f"CPU (ours + server) best {min(cpus) * 1000:.0f} ms, "
            f"median {statistics.median(cpus) * 1000:.0f} ms"
        )


if __name__ == "__main__":
    main()
