"""INSERT … ON CONFLICT DO NOTHING, for SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Table, bindparam
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
    table = cast(Table, model.__table__)
    statement = (
        insert(table).on_conflict_do_nothing(index_elements=list(unique)).returning(table.c.id)
    )
    # Core, with a list of parameter sets: SQLAlchemy's "insertmanyvalues" sends a few
    # multi-row statements compiled once, without the ORM's per-row bookkeeping.
    return list(session.connection().scalars(statement, list(rows)))


def update_by_id(session: Session, model: type[Base], rows: Sequence[dict[str, Any]]) -> None:
    """UPDATE many rows by id in one executemany; every row must set the same columns."""
    if not rows:
        return
    table = cast(Table, model.__table__)
    columns = [name for name in rows[0] if name != "id"]
    statement = (
        table.update()
        .where(table.c.id == bindparam("row_id"))
        .values({name: bindparam(name) for name in columns})
    )
    params = [{"row_id": row["id"], **{name: row[name] for name in columns}} for row in rows]
    session.connection().execute(statement, params)
