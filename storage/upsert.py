"""Bulk writes the sweep needs, for SQLite and PostgreSQL alike.

`INSERT … ON CONFLICT DO NOTHING` is what keeps two sweeps from writing the same
thing twice: a unique key, not a lock. Every many-row form is one short statement with
one parameter per column (PostgreSQL: whole columns as arrays through `unnest`) or one
parameter in all (SQLite: the rows as one JSON array through `json_each`), so a batch
of thousands of rows costs one round trip and no per-row work in SQLAlchemy, whose
executemany spent more time building parameters than SQLite spent writing.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any, cast

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ColumnElement,
    Date,
    Dialect,
    Integer,
    Table,
    any_,
    bindparam,
    func,
    select,
    text,
)
from sqlalchemy.dialects import postgresql
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


def _sqlite_rows(
    table: Table, names: Sequence[str], rows: Sequence[dict[str, Any]], dialect: Dialect
) -> tuple[str, dict[str, Any]]:
    """The rows as one JSON array of arrays, and a subquery that reads it back as `v`.

    Each value goes through its column type's own bind conversion first, so what is
    stored is exactly what an ORM or Core insert would have stored.
    """
    convert = [
        (name, table.c[name].type.dialect_impl(dialect).bind_processor(dialect)) for name in names
    ]
    encoded = json.dumps(
        [
            [row[name] if to_db is None else to_db(row[name]) for name, to_db in convert]
            for row in rows
        ]
    )
    columns = ", ".join(
        f"json_extract(value, '$[{index}]') AS {name}" for index, name in enumerate(names)
    )
    return f"(SELECT {columns} FROM json_each(:rows)) AS v", {"rows": encoded}


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
    names = list(rows[0])
    source, params = _sqlite_rows(table, names, rows, session.get_bind().dialect)
    # `WHERE true` tells SQLite's parser that ON CONFLICT is not a join's ON.
    sqlite_insert = text(
        f"INSERT INTO {table.name} ({', '.join(names)}) SELECT * FROM {source} WHERE true "
        f"ON CONFLICT ({', '.join(unique)}) DO NOTHING RETURNING {', '.join(returning)}"
    )
    return [tuple(row) for row in session.connection().execute(sqlite_insert, params)]


def update_by_id(session: Session, model: type[Base], rows: Sequence[dict[str, Any]]) -> None:
    """UPDATE many rows by id; every row must set the same columns, each id once."""
    if not rows:
        return
    table = _table(model)
    columns = [name for name in rows[0] if name != "id"]
    assignments = ", ".join(f"{name} = v.{name}" for name in columns)
    dialect = session.get_bind().dialect
    if dialect.name == "postgresql":
        source, params = _pg_unnest(table, ["id", *columns], rows)
    else:
        source, params = _sqlite_rows(table, ["id", *columns], rows, dialect)
    statement = text(
        f"UPDATE {table.name} SET {assignments} FROM {source} WHERE {table.name}.id = v.id"
    )
    session.connection().execute(statement, params)


def among(session: Session, column: ColumnElement[int], ids: Sequence[int]) -> ColumnElement[bool]:
    """`column IN ids` for thousands of ids, as one parameter instead of one per id.

    SQLAlchemy renders an IN list as a fresh statement with a bound name per value on
    every call, which cost more than running the query.
    """
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, list(ids), type_=postgresql.ARRAY(Integer)))
    listed = func.json_each(bindparam(None, json.dumps(list(ids)))).table_valued("value")
    return column.in_(select(listed.c.value))
