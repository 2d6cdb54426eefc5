"""Reading many rows at once: plain rows through the Core connection.

The sweep reads thousands of rows a batch (due commitments, due nudges, the state of
their subjects and accounts); through the ORM, loading each row cost more than the
queries themselves (bench/README.md, "Sweep").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVarTuple

from sqlalchemy import Row, Select, select
from sqlalchemy.orm import Session, joinedload

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
