"""What is due when: the rules the sweep applies, as queries over `now`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from storage.models import Commitment


def due_followups(session: Session, *, now: datetime, limit: int) -> Sequence[Commitment]:
    """Open commitments whose next nudge is due at `now`, oldest first.

    Walks the `next_nudge_at` index only, so the cost follows what is due, not how
    many commitments exist. Rows another worker is handling are skipped (PostgreSQL).
    """
    return session.scalars(
        select(Commitment)
        .where(Commitment.next_nudge_at <= now)
        .order_by(Commitment.next_nudge_at, Commitment.id)
        .limit(limit)
        .options(joinedload(Commitment.account))
        .with_for_update(skip_locked=True, of=Commitment)
    ).all()


def overdue_slot(commitment: Commitment) -> str:
    """The outbox slot of a commitment's unkept nudge: one per due date."""
    return f"overdue:{commitment.due_on.isoformat()}"


def mark_nudged(commitment: Commitment, *, enqueued: bool) -> None:
    # The foundation sends one unkept nudge; nothing further is scheduled.
    commitment.next_nudge_at = None
    if enqueued:
        commitment.nudges_sent += 1
