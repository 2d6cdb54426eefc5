"""One scheduler pass: find what is due at `now`, write it to the outbox, deliver."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from bot.delivery import ClientForTeam, DeliveryReport, deliver_pending
from bot.services import nudges
from messages import render
from storage import outbox
from storage.db import SessionFactory

log = logging.getLogger("rapport.sweep")

ENQUEUE_BATCH = 500


@dataclass(frozen=True)
class SweepReport:
    enqueued: int
    delivery: DeliveryReport


def enqueue_due(db: SessionFactory, *, now: datetime) -> int:
    """Write every nudge due at `now` to the outbox; returns how many were new."""
    enqueued = 0
    while True:
        with db.begin() as session:
            due = nudges.due_followups(session, now=now, limit=ENQUEUE_BATCH)
            for commitment in due:
                added = outbox.enqueue(
                    session,
                    team_id=commitment.team_id,
                    kind="followup",
                    subject=f"commitment:{commitment.id}",
                    slot=nudges.overdue_slot(commitment),
                    recipient=commitment.owner_id,
                    payload=render("nudge_followup_overdue", commitment=commitment),
                    not_before=now,
                    now=now,
                )
                nudges.mark_nudged(commitment, enqueued=added)
                enqueued += added
        if len(due) < ENQUEUE_BATCH:
            return enqueued


def sweep(db: SessionFactory, client_for: ClientForTeam, *, now: datetime) -> SweepReport:
    enqueued = enqueue_due(db, now=now)
    delivery = deliver_pending(db, client_for, now=now)
    if enqueued or delivery.sent or delivery.failed:
        log.info(
            "sweep at %s: %d new, %d sent, %d retrying, %d failed",
            now.isoformat(),
            enqueued,
            delivery.sent,
            delivery.retrying,
            delivery.failed,
        )
    return SweepReport(enqueued=enqueued, delivery=delivery)
