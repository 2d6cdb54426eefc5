"""Reading many rows at once: plain rows through the Core connection.

The sweep reads thousands of rows a batch (due commitments, due nudges, the state of
their subjects and accounts); through the ORM, loading each row cost more than the
queries themselves (bench/README.md, "Sweep").
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVarTuple

from sqlalchemy import Row, Select, select
from sqlalchemy.orm import Session, joinedload

from storage.uninstalls import serving

_Ts = TypeVarTuple("_Ts")


def plain_rows(session: Session, statement: Select[*_Ts]) -> Sequence[Row[*_Ts]]:
    """Plain rows through the Core connection, fetched in one call: the ORM's per-row
    loading and the driver's row-by-row fetch cost more than the sweep's queries."""
    return session.connection().execute(statement).all()


def team_rows_by_id(
    session: Session, model: Any, *, team_id: str, ids: Sequence[int], with_account: bool
) -> dict[int, Any]:
    """The team's rows of `model` with those ids, by id, in one query (ORM rows, with
    their account loaded alongside when asked: a message shows both)."""
    query = select(model).where(model.team_id == team_id, model.id.in_(ids))
    if with_account:
        query = query.options(joinedload(model.account))
    return {row.id: row for row in session.scalars(query)}


def lock_due_rows(session: Session, model: Any, *, now: datetime, limit: int) -> Sequence[Any]:
    """Up to `limit` rows of `model` (a table the sweep plans from: its `next_nudge_at`,
    indexed, and its `account`) due by `now`, soonest first, of installed workspaces,
    with their accounts, locked for this transaction (FOR UPDATE SKIP LOCKED: another
    worker's batch is skipped)."""
    return session.scalars(
        select(model)
        .where(model.next_nudge_at <= now, serving(model.team_id))
        .order_by(model.next_nudge_at, model.id)
        .limit(limit)
        .options(joinedload(model.account))
        .with_for_update(skip_locked=True, of=model)
    ).all()
