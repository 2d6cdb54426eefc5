"""Outbox queries: enqueue once per key, claim atomically, settle each row."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from storage.models import OutboxMessage, OutboxStatus
from storage.upsert import insert_ignore_returning


def enqueue_many(
    session: Session,
    rows: Sequence[dict[str, Any]],
    *,
    now: datetime,
    not_before: datetime | None = None,
) -> dict[tuple[str, str, str], int]:
    """Add many messages in one statement; returns (team, subject, slot) -> new id.

    `not_before` later than `now` holds them back from every sender until then.
    """
    values = [
        {
            **row,
            "status": OutboxStatus.PENDING.value,
            "attempts": 0,
            "not_before": not_before or now,
            "created_at": now,
        }
        for row in rows
    ]
    added = insert_ignore_returning(
        session,
        OutboxMessage,
        values,
        unique=("team_id", "kind", "subject", "slot"),
        returning=("id", "team_id", "subject", "slot"),
    )
    return {(team, subject, slot): row_id for row_id, team, subject, slot in added}


def claim(
    session: Session, *, now: datetime, lease: timedelta, limit: int
) -> Sequence[OutboxMessage]:
    """Take up to `limit` sendable rows for this worker until `now + lease`.

    Sendable: pending and not held back, or claimed by a worker whose lease ran out
    (it died mid-send). PostgreSQL skips rows another worker holds; SQLite has one
    writer at a time, so the UPDATE itself is the lock.
    """
    sendable = (
        select(OutboxMessage.id)
        .where(
            or_(
                and_(
                    OutboxMessage.status == OutboxStatus.PENDING,
                    OutboxMessage.not_before <= now,
                ),
                and_(
                    OutboxMessage.status == OutboxStatus.SENDING,
                    OutboxMessage.claimed_until < now,
                ),
            )
        )
        .order_by(OutboxMessage.not_before, OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    claimed = session.scalars(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(sendable.scalar_subquery()))
        .values(
            status=OutboxStatus.SENDING,
            claimed_until=now + lease,
            attempts=OutboxMessage.attempts + 1,
        )
        .returning(OutboxMessage)
        .execution_options(synchronize_session=False)
    ).all()
    return sorted(claimed, key=lambda row: (row.not_before, row.id))


def mark_sent(session: Session, *, row_id: int, channel_id: str, ts: str, now: datetime) -> None:
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row_id)
        .values(
            status=OutboxStatus.SENT,
            sent_at=now,
            claimed_until=None,
            channel_id=channel_id,
            message_ts=ts,
            last_error=None,
        )
    )


def mark_failed(session: Session, *, row_id: int, error: str) -> None:
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row_id)
        .values(status=OutboxStatus.FAILED, claimed_until=None, last_error=error)
    )


def release_for_retry(session: Session, *, row_id: int, error: str, not_before: datetime) -> None:
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row_id)
        .values(
            status=OutboxStatus.PENDING,
            claimed_until=None,
            last_error=error,
            not_before=not_before,
        )
    )


def mark_skipped(session: Session, *, row_id: int, now: datetime) -> None:
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row_id)
        .values(status=OutboxStatus.SKIPPED, claimed_until=None, sent_at=now)
    )


def troubled(session: Session, *, now: datetime, limit: int = 200) -> Sequence[OutboxMessage]:
    """Rows an operator should look at: failed for good, retrying, or stuck mid-send."""
    return session.scalars(
        select(OutboxMessage)
        .where(
            or_(
                OutboxMessage.status == OutboxStatus.FAILED,
                and_(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.attempts > 0),
                and_(
                    OutboxMessage.status == OutboxStatus.SENDING,
                    OutboxMessage.claimed_until < now,
                ),
            )
        )
        .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
        .limit(limit)
    ).all()
