"""Bulk writes the sweep needs, for SQLite and PostgreSQL alike.

`INSERT … ON CONFLICT DO NOTHING` is what keeps two sweeps from writing the same
thing twice: a unique key, not a lock. On PostgreSQL the many-row forms send whole
columns as arrays through `unnest`, one short statement and one round trip per batch;
elsewhere they use SQLAlchemy's executemany.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any, cast

from sqlalchemy import JSON, Boolean, Column, Date, Integer, Table, bindparam, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from storage.models import Base
from storage.types import CalendarDate, UTCDateTime


def _table(model: type[Base]) -> Table:
    return cast(Table, model.__table__)


def _pg_array_type(column: Column[Any]) -> str:
    kind = column.type
    if isinstance(kind, JSON):
        return "json[]"
    if isinstance(kind, UTCDateTime):
        return "timestamp[]"
    if isinstance(kind, CalendarDate | Date):
        return "date[]"
    if isinstance(kind, Boolean):
        return "boolean[]"
    if isinstance(kind, Integer):
        return "bigint[]"
    return "text[]"


def _pg_value(value: Any) -> Any:
    # Raw SQL skips the column types' own conversion: store instants as naive UTC.
    if isinstance(value, dict | list):
        return json.dumps(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, date):
        return date(value.year, value.month, value.day)
    return value


def _pg_unnest(
    table: Table, names: Sequence[str], rows: Sequence[dict[str, Any]]
) -> tuple[str, dict[str, Any]]:
    arrays = ", ".join(f"CAST(:{name} AS {_pg_array_type(table.c[name])})" for name in names)
    params = {name: [_pg_value(row[name]) for row in rows] for name in names}
    return f"unnest({arrays}) AS v({', '.join(names)})", params


def insert_ignore_many(
    session: Session,
    model: type[Base],
    rows: Sequence[dict[str, Any]],
    *,
    unique: Sequence[str],
) -> list[int]:
    """Insert the rows whose `unique` columns are new; returns the ids actually added."""
    return [row[0] for row in insert_ignore_returning(session, model, rows, unique=unique)]


def insert_ignore_returning(
    session: Session,
    model: type[Base],
    rows: Sequence[dict[str, Any]],
    *,
    unique: Sequence[str],
    returning: Sequence[str] = ("id",),
) -> list[tuple[Any, ...]]:
    """Insert the rows whose `unique` columns are new; returns `returning` of those."""
    if not rows:
        return []
    table = _table(model)
    if session.get_bind().dialect.name == "postgresql":
        names = list(rows[0])
        source, params = _pg_unnest(table, names, rows)
        pg_insert = text(
            f"INSERT INTO {table.name} ({', '.join(names)}) SELECT * FROM {source} "
            f"ON CONFLICT ({', '.join(unique)}) DO NOTHING RETURNING {', '.join(returning)}"
        )
        return [tuple(row) for row in session.connection().execute(pg_insert, params)]
    statement = (
        sqlite.insert(table)
        .on_conflict_do_nothing(index_elements=list(unique))
        .returning(*(table.c[name] for name in returning))
    )
    # A list of parameter sets: "insertmanyvalues" sends a few multi-row statements.
    return [tuple(row) for row in session.connection().execute(statement, list(rows))]


def update_by_id(session: Session, model: type[Base], rows: Sequence[dict[str, Any]]) -> None:
    """UPDATE many rows by id; every row must set the same columns."""
    if not rows:
        return
    table = _table(model)
    columns = [name for name in rows[0] if name != "id"]
    if session.get_bind().dialect.name == "postgresql":
        source, params = _pg_unnest(table, ["id", *columns], rows)
        assignments = ", ".join(f"{name} = v.{name}" for name in columns)
        pg_update = text(
            f"UPDATE {table.name} AS t SET {assignments} FROM {source} WHERE t.id = v.id"
        )
        session.connection().execute(pg_update, params)
        return
    statement = (
        table.update()
        .where(table.c.id == bindparam("row_id"))
        .values({name: bindparam(name) for name in columns})
    )
    params_list = [{"row_id": row["id"], **{name: row[name] for name in columns}} for row in rows]
    session.connection().execute(statement, params_list)
