"""APScheduler 3.x as a clock only: it calls `sweep(now)` every minute.

All durable state lives in Rapport's own tables, so the scheduler uses a memory job
store; a run missed while the process was down is simply the next sweep's work.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.config import Settings
from bot.scheduler.delivery import ClientForTeam
from bot.scheduler.sweep import sweep
from storage.db import SessionFactory

log = logging.getLogger("rapport.scheduler")

SWEEP_INTERVAL_SECONDS = 60


def run_sweep(db: SessionFactory, client_for: ClientForTeam, settings: Settings) -> None:
    try:
        sweep(db, client_for, settings, now=datetime.now(UTC))
    except Exception:
        # The next tick tries again; the outbox keeps what was not sent.
        log.exception("sweep failed")


def make_scheduler(
    db: SessionFactory,
    client_for: ClientForTeam,
    settings: Settings,
    *,
    blocking: bool,
    interval_seconds: int = SWEEP_INTERVAL_SECONDS,
) -> BaseScheduler:
    scheduler_class = BlockingScheduler if blocking else BackgroundScheduler
    scheduler = scheduler_class(
        timezone=UTC,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
    )
    scheduler.add_job(
        run_sweep,
        IntervalTrigger(seconds=interval_seconds),
        id="sweep",
        replace_existing=True,
        next_run_time=datetime.now(UTC),
        kwargs={"db": db, "client_for": client_for, "settings": settings},
    )
    return scheduler
