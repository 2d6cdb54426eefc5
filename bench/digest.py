"""How long the weekly digests take to build, and how much memory they need.

Seeds one team with 100,000 accounts over 1,000 owners, with the history a digest
reads (commitments overdue, kept and charted; QBRs, check-ins, concessions, paused
and quiet accounts), and 1,000 channels subscribed for the same slot: most cover
five owners each, some the whole team, some a user group. Then times one sweep's
digest step (`bot.scheduler.digests.plan_digests`: load, health scores, build, render, queue
in the outbox), with Slack answering locally and nothing sent, and reports peak
memory (tracemalloc) in a second, separate pass.

    python bench/digest.py
    python bench/digest.py --accounts 10000 --channels 100
    python bench/digest.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import random
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from datetime import time as clock

from _common import own_database
from sqlalchemy import Engine, delete, func, insert, select, update

from bot.config import Settings
from bot.devtools.localslack import LocalSlack
from bot.scheduler.digests import plan_digests
from bot.slackapi.client import make_client
from storage import migrate
from storage.db import make_engine, make_session_factory
from storage.models import (
    Account,
    CheckIn,
    Commitment,
    Concession,
    DigestSubscription,
    HealthSnapshot,
    OutboxMessage,
    Qbr,
)

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)  # a Monday, the digests' slot
TODAY = NOW.date()
TEAM = "T0BENCH"
CHUNK = 20000
TYPES = ("transactional", "functional", "affiliative", "strategic", "personal", None)


def _insert(engine: Engine, model: type, rows: list[dict[str, object]]) -> None:
    with engine.begin() as conn:
        for start in range(0, len(rows), CHUNK):
            conn.execute(insert(model), rows[start : start + CHUNK])


def seed(engine: Engine, accounts: int, owners: int, channels: int, slack: LocalSlack) -> None:
    rng = random.Random(7)
    created = NOW - timedelta(days=200)
    _insert(
        engine,
        Account,
        [
            {
                "team_id": TEAM,
                "key": f"acct {i}",
                "name": f"Account {i}",
                "owner_id": f"U{i % owners:07d}",
                "created_by": "U0000000",
                "created_at": created,
                "stage": "won" if i % 3 == 0 else ("lost" if i % 50 == 0 else "open"),
                "relationship_type": TYPES[i % len(TYPES)],
                "last_touch_at": NOW - timedelta(days=rng.randint(0, 120)),
                "paused_until": TODAY + timedelta(days=20) if i % 97 == 0 else None,
                "pause_reason": "budget freeze until their new fiscal year"
                if i % 97 == 0
                else None,
            }
            for i in range(accounts)
        ],
    )
    ids = list(range(1, accounts + 1))
    commitments = []
    for n in range(accounts * 2):
        account_id = ids[n % accounts]
        due_on = TODAY + timedelta(days=rng.randint(-84, 30))
        overdue = due_on < TODAY and n % 10 == 0
        done = None if overdue or due_on >= TODAY else datetime.combine(due_on, clock(15), UTC)
        commitments.append(
            {
                "team_id": TEAM,
                "account_id": account_id,
                "owner_id": f"U{(account_id - 1) % owners:07d}",
                "what": f"send the follow-up pack #{n}",
                "due_on": due_on,
                "due_at": datetime.combine(due_on, clock(23, 59), UTC),
                "created_by": "U0000000",
                "created_at": created,
                "done_at": done,
                "kept_on_time": None if done is None else n % 7 != 0,
                "nudges_sent": 0,
                "direction": "ours",
                "ladder_step": 0,
            }
        )
    _insert(engine, Commitment, commitments)
    _insert(
        engine,
        Concession,
        [
            {
                "team_id": TEAM,
                "account_id": ids[(n * 7) % accounts],
                "give": "extended payment terms",
                "get": "a case study" if n % 3 else None,
                "logged_by": "U0000000",
                "logged_at": NOW - timedelta(hours=rng.randint(1, 84 * 24)),
            }
            for n in range(accounts // 2)
        ],
    )
    _insert(
        engine,
        Qbr,
        [
            {
                "team_id": TEAM,
                "account_id": account_id,
                "next_on": TODAY + timedelta(days=rng.randint(-10, 90)),
                "cadence": "quarter",
                "lead_days": 7,
                "held_count": 2,
                "on_time_count": 1,
                "created_by": "U0000000",
            }
            for account_id in ids[::5]
        ],
    )
    _insert(
        engine,
        CheckIn,
        [
            {
                "team_id": TEAM,
                "account_id": account_id,
                "due_on": TODAY + timedelta(days=rng.randint(-20, 60)),
                "label": "30-day",
            }
            for account_id in ids[::3]
        ],
    )
    _insert(
        engine,
        HealthSnapshot,
        [
            {
                "team_id": TEAM,
                "account_id": account_id,
                "week": TODAY - timedelta(days=7),
                "score": rng.randint(20, 100),
                "taken_at": NOW - timedelta(days=7),
            }
            for account_id in ids
        ],
    )
    subscriptions = []
    for n in range(channels):
        if n % 100 == 0:
            scope, scope_ids = "team", None
        elif n % 100 == 1:
            scope, scope_ids = "group", f"S{n:07d} @region-{n}"
            slack.add_usergroup(f"S{n:07d}", [f"U{(n + k) % owners:07d}" for k in range(20)])
        else:
            scope = "users"
            scope_ids = " ".join(f"U{(n * 5 + k) % owners:07d}" for k in range(5))
        subscriptions.append(
            {
                "team_id": TEAM,
                "channel_id": f"C{n:07d}",
                "weekday": 0,
                "send_at": clock(9),
                "tz": "UTC",
                "scope": scope,
                "scope_ids": scope_ids,
                "quiet": "skip",
                "active": True,
                "created_by": "U0000000",
                "created_at": NOW - timedelta(days=30),
                "updated_at": NOW - timedelta(days=30),
                "next_run_at": NOW,
                "last_counts": {"overdue": 3, "drip": 1, "cooling": 2, "checkins": 1},
                "last_sent_at": NOW - timedelta(days=7),
            }
        )
    _insert(engine, DigestSubscription, subscriptions)


def reset(engine: Engine) -> None:
    """Put every digest back as due and forget what the last run queued."""
    with engine.begin() as conn:
        conn.execute(delete(OutboxMessage))
        conn.execute(delete(HealthSnapshot).where(HealthSnapshot.week == TODAY))
        conn.execute(
            update(DigestSubscription).values(
                next_run_at=NOW,
                last_sent_at=NOW - timedelta(days=7),
                last_counts={"overdue": 3, "drip": 1, "cooling": 2, "checkins": 1},
            )
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--owners", type=int, default=1_000)
    parser.add_argument("--channels", type=int, default=1_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    with own_database(args.database_url, "digest") as database_url:
        engine = make_engine(database_url)
        try:
            migrate.upgrade(engine)
            run(engine, database_url, args)
        finally:
            engine.dispose()


def run(engine: Engine, database_url: str, args: argparse.Namespace) -> None:
    with LocalSlack(bot_tokens=["xoxb-bench"]) as slack:
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            slack_bot_token="xoxb-bench",
            slack_signing_secret="bench",
            slack_api_url=slack.api_url,
            database_url=database_url,
        )
        client = make_client(settings, token="xoxb-bench")
        started = time.perf_counter()
        seed(engine, args.accounts, args.owners, args.channels, slack)
        print(f"seeded in {time.perf_counter() - started:.1f} s")
        db = make_session_factory(engine)

        started, cpu = time.perf_counter(), time.process_time()
        served = plan_digests(db, lambda _team: client, now=NOW)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        with db() as session:
            queued = session.scalar(select(func.count()).select_from(OutboxMessage))
        print(
            f"{args.channels} channels over {args.accounts:,} accounts: "
            f"{served} digests built and queued ({queued} outbox rows) in {elapsed:.2f} s "
            f"(CPU {cpu:.2f} s here)"
        )

        reset(engine)
        tracemalloc.start()
        plan_digests(db, lambda _team: client, now=NOW)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"peak memory allocated by Python during the step: {peak / 2**20:.0f} MiB")


if __name__ == "__main__":
    main()
