"""INSERT … ON CONFLICT DO NOTHING, for SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage.models import Base


def insert_ignore(
    session: Session, model: type[Base], values: dict[str, Any], *, unique: Sequence[str]
) -> int | None:
    """Insert the row unless one with the same `unique` columns exists.

    Returns the new row's id, or None when the row was already there. A unique key,
    not a lock, is what keeps two sweeps from writing the same thing twice.
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(model)
        .values(**values)
        .on_conflict_do_nothing(index_elements=list(unique))
        .returning(model.id)  # type: ignore[attr-defined]
    )
    return session.scalar(statement)


def insert_ignore_many(
    session: Session,
    model: type[Base],
    rows: Sequence[dict[str, Any]],
    *,
    unique: Sequence[str],
) -> list[int]:
    """`insert_ignore` for many rows in one statement; returns the ids actually added."""
    if not rows:
        return []
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(model)
        .values(list(rows))
        .on_conflict_do_nothing(index_elements=list(unique))
        .returning(model.id)  # type: ignore[attr-defined]
    )
    return list(session.scalars(statement))
