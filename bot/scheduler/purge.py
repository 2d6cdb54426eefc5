"""Deleting what uninstalled workspaces left (a sweep's last stage): once a workspace
has been uninstalled for the retention period (`RAPPORT_UNINSTALL_RETENTION_DAYS`),
its rows are deleted, a batch at a time and a budget of rows a sweep, so that a big
workspace's deletion never holds the database for long; the next sweep goes on where
this one stopped. A reinstall before the deletion is finished stops it."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime

from bot.config import Settings
from bot.services import uninstalls
from storage.db import SessionFactory

log = logging.getLogger("rapport.purge")


def purge_due(db: SessionFactory, settings: Settings, *, now: datetime) -> int:
    """Delete the data of workspaces whose retention period is over, up to
    PURGE_PER_SWEEP rows; returns how many rows went."""
    with db() as session:
        due = uninstalls.due_for_purge(
            session, now=now, retention_days=settings.uninstall_retention_days
        )
    budget = uninstalls.PURGE_PER_SWEEP
    for team_id, since in due:
        deleted: Counter[str] = Counter()
        done = False
        while budget > 0 and not done:
            with db.begin() as session:
                purged = uninstalls.purge_some(
                    session,
                    team_id=team_id,
                    limit=min(uninstalls.PURGE_BATCH, budget),
                    while_uninstalled=True,
                )
            deleted.update(purged.rows)
            budget -= sum(purged.rows.values())
            done = purged.done
        tables = ", ".join(f"{table} {n}" for table, n in sorted(deleted.items())) or "none"
        if done:
            log.warning(
                "team %s, uninstalled on %s: its %d days are over and its data is deleted "
                "(rows: %s)",
                team_id,
                since.date().isoformat(),
                settings.uninstall_retention_days,
                tables,
            )
        else:
            log.info("team %s: deleting its data, %s so far; more next sweep", team_id, tables)
    return uninstalls.PURGE_PER_SWEEP - budget
