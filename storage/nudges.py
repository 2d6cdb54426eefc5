"""Nudge queries for the sweep: write planned nudges once per key, lock the due ones
a batch at a time, and record what grouping decided for each.

A nudge is unique per (team, kind, subject, slot): a sweep run twice writes nothing
twice. What goes into a nudge and what becomes of it are bot/scheduler's decisions
(`plan`, `group`); these are only their reads and writes, in batches.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from storage.models import NUDGE_IS_PENDING, Nudge, OutboxMessage
from storage.reads import plain_rows
from storage.uninstalls import serving
from storage.upsert import insert_ignore_many, insert_ignore_returning, update_by_id

KEY = ("team_id", "kind", "subject", "slot")


def add_new(session: Session, rows: Sequence[dict[str, Any]]) -> int:
    """Write the nudges whose key is new; returns how many were."""
    return insert_ignore_many(session, Nudge, rows, unique=KEY)


def add_new_returning(session: Session, rows: Sequence[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """Write the nudges whose key is new; returns (id, outbox_id, subject) of each."""
    return insert_ignore_returning(
        session, Nudge, rows, unique=KEY, returning=("id", "outbox_id", "subject")
    )


def lock_due(
    session: Session, *, now: datetime, limit: int
) -> Sequence[Row[int, str, str, str, str, str, int | None]]:
    """Up to `limit` pending nudges due by `now` (of installed workspaces: an uninstalled
    one's wait, as they are), in recipient order, locked for this
    transaction (another worker's locked ones skipped): (id, team, kind, subject,
    slot, recipient, account id)."""
    return plain_rows(
        session,
        select(
            Nudge.id,
            Nudge.team_id,
            Nudge.kind,
            Nudge.subject,
            Nudge.slot,
            Nudge.recipient,
            Nudge.account_id,
        )
        .where(NUDGE_IS_PENDING, Nudge.deliver_at <= now, serving(Nudge.team_id))
        .order_by(Nudge.team_id, Nudge.recipient, Nudge.id)
        .limit(limit)
        .with_for_update(skip_locked=True),
    )


def update_many(session: Session, changes: list[dict[str, Any]]) -> None:
    """Set each nudge's changed columns (each dict holds its "id")."""
    # executemany needs one shape per call: split the rows by the columns they set.
    by_shape: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for change in changes:
        by_shape[tuple(sorted(change))].append(change)
    for rows in by_shape.values():
        update_by_id(session, Nudge, rows)


def due_recipients(session: Session, *, now: datetime, limit: int) -> Sequence[Row[str, str]]:
    """Up to `limit` distinct (team, recipient) pairs with a pending nudge due by `now`."""
    return session.execute(
        select(Nudge.team_id, Nudge.recipient)
        .where(NUDGE_IS_PENDING, Nudge.deliver_at <= now, serving(Nudge.team_id))
        .distinct()
        .limit(limit)
    ).all()


def of_message(
    session: Session, *, team_id: str, outbox_id: int, ids: Sequence[int] | None
) -> Sequence[Nudge]:
    """The nudges an outbox message names (`ids`, its payload's), in order; None: it
    was never let go (its sweep died first), so its nudges name it instead (rare, so
    the scan of nudges by outbox_id, which is not indexed, is acceptable)."""
    named = Nudge.outbox_id == outbox_id if ids is None else Nudge.id.in_(ids)
    return session.scalars(
        select(Nudge).where(Nudge.team_id == team_id, named).order_by(Nudge.id)
    ).all()


def in_message(
    session: Session, *, team_id: str, nudge_id: int, outbox_id: int, subject: str
) -> bool:
    """Whether the team's nudge about `subject` is still an item of that outbox message,
    and the message is still there (a click on a copy from before a reset, or on an item
    a newer nudge took over, names one that is not)."""
    found = session.scalar(
        select(Nudge.id)
        .join(OutboxMessage, OutboxMessage.id == Nudge.outbox_id)
        .where(
            Nudge.id == nudge_id,
            Nudge.team_id == team_id,
            Nudge.outbox_id == outbox_id,
            Nudge.subject == subject,
            OutboxMessage.team_id == team_id,
        )
    )
    return found is not None
