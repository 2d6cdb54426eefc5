"""Reading many rows at once: plain rows through the Core connection.

The sweep reads thousands of rows a batch (due commitments, due nudges, the state of
their subjects and accounts); through the ORM, loading each row cost more than the
queries themselves (bench/README.md, "Sweep").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVarTuple

from sqlalchemy import Row, Select
from sqlalchemy.orm import Session

_Ts = TypeVarTuple("_Ts")


def plain_rows(session: Session, statement: Select[*_Ts]) -> Sequence[Row[*_Ts]]:
    """Plain rows through the Core connection, fetched in one call: the ORM's per-row
    loading and the driver's row-by-row fetch cost more than the sweep's queries."""
    return session.connection().execute(statement).all()
