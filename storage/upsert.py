"""Writes that meet a unique key: the sweep's bulk writes, for SQLite and PostgreSQL
alike, and one row added unless another transaction added it first
(`add_or_read_winner`, at the end).

`INSERT … ON CONFLICT DO NOTHING` is what keeps two sweeps from writing the same
thing twice: a unique key, not a lock. SQLAlchemy's executemany spent more time
building parameters than the database spent writing, so these forms go around it:

- PostgreSQL: one statement, one round trip. Each column's values as one text
  parameter in array syntax, cast and unnested side by side (`_pg_arrays`). We write
  the text ourselves: with psycopg encoding Python lists the sweep took a fifth more
  CPU, and with every table on the JSON path a tenth more (bench/README.md, "Issue 14:
  what each speed-up buys"). Tables with other column types (JSON) send a JSON array
  of rows read back by `json_populate_recordset` instead.
- SQLite: the driver's own executemany over plain tuples, which is in-process and
  took half the CPU of reading a JSON array back; when the new rows' columns must
  come back (RETURNING), the JSON array through `json_each` instead.

Values go through the column types' own conversion, so what is stored is exactly
what an ORM insert would store.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any, TypeVar, cast

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Date,
    DateTime,
    Dialect,
    Integer,
    String,
    Table,
    any_,
    bindparam,
    func,
    select,
    text,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import QueryableAttribute, Session

from storage.models import Base
from storage.types import CalendarDate, UTCDateTime

Convert = Callable[[Any], Any]


def _table(model: type[Base]) -> Table:
    return cast(Table, model.__table__)


def _pg_value(value: Any) -> Any:
    # Raw SQL skips the column types' own conversion: store instants as naive UTC.
    if isinstance(value, datetime):
        return (value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _remembering(convert: Convert) -> Convert:
    """`convert`, answering each distinct value once.

    A batch of thousands of rows holds a few dozen distinct instants (the sweep's
    `now`, the working-day openings); converting each one again costs the sweep a fifth
    more CPU on SQLite (bench/README.md, "Issue 14: what each speed-up buys"). Only for
    dates and instants: hashable, and equal values convert alike (two aware datetimes
    are equal when they are the same instant).
    """
    answers: dict[Any, Any] = {}

    def remembered(value: Any) -> Any:
        if value not in answers:
            answers[value] = convert(value)
        return answers[value]

    return remembered


def _converters(table: Table, names: Sequence[str], dialect: Dialect) -> list[Convert | None]:
    """How each column's values are handed over: SQLite takes what the column type's
    bind conversion makes of them, PostgreSQL's row type parses JSON text."""
    converters: list[Convert | None] = []
    for name in names:
        column = table.c[name]
        temporal = isinstance(column.type, UTCDateTime | CalendarDate | Date | DateTime)
        convert: Convert | None
        if dialect.name == "postgresql":
            # The row type parses text as the column's type; everything but dates and
            # instants is JSON already (JSON columns nest as they are).
            convert = _pg_value if temporal else None
        else:
            # The type's own bind conversion: stored exactly as an ORM insert stores it.
            convert = column.type.dialect_impl(dialect).bind_processor(dialect)
        converters.append(_remembering(convert) if convert and temporal else convert)
    return converters


def _values(
    table: Table, names: Sequence[str], rows: Sequence[dict[str, Any]], dialect: Dialect
) -> list[tuple[Any, ...]]:
    """Each row's `names` values, in that order, as the database takes them."""
    converters = list(zip(names, _converters(table, names, dialect), strict=True))
    return [
        tuple(row[name] if to_db is None else to_db(row[name]) for name, to_db in converters)
        for row in rows
    ]


def _json_source(
    table: Table, names: Sequence[str], rows: Sequence[dict[str, Any]], dialect: Dialect
) -> tuple[str, dict[str, Any]]:
    """A FROM item `v` with the `names` columns of `rows`, and its one parameter."""
    values = _values(table, names, rows, dialect)
    if dialect.name == "postgresql":
        encoded = json.dumps([dict(zip(names, row, strict=True)) for row in values])
        source = f"json_populate_recordset(NULL::{table.name}, CAST(:rows AS json)) AS v"
        return source, {"rows": encoded}
    columns = ", ".join(f"json_extract(value, '$[{i}]') AS {name}" for i, name in enumerate(names))
    return f"(SELECT {columns} FROM json_each(:rows)) AS v", {"rows": json.dumps(values)}


# What a column's values are cast to in an array literal (`_pg_arrays`): the base type
# without a length, so that a value too long for a VARCHAR(n) column fails on
# assignment as an ORM insert would (an explicit cast to VARCHAR(n) cuts it short).
_PG_ARRAY_TYPES: tuple[tuple[type[Any], str], ...] = (
    (UTCDateTime, "timestamp"),
    (CalendarDate, "date"),
    (DateTime, "timestamp"),
    (Date, "date"),
    (Boolean, "boolean"),
    (Integer, "bigint"),
    (String, "text"),
)


def _pg_array_type(table: Table, name: str) -> str | None:
    column_type = table.c[name].type
    for kind, sql in _PG_ARRAY_TYPES:
        if isinstance(column_type, kind):
            return sql
    return None


def _array_literal(values: Sequence[Any]) -> str:
    """A column's values in PostgreSQL's array syntax: each one quoted (inside the
    quotes only `"` and `\\` are special), NULL unquoted."""
    quoted = (
        "NULL"
        if value is None
        else '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
        for value in values
    )
    return "{" + ",".join(quoted) + "}"


def _pg_arrays(
    table: Table, names: Sequence[str], rows: Sequence[dict[str, Any]], dialect: Dialect
) -> tuple[str, dict[str, Any]] | None:
    """A FROM item `v` with the `names` columns of `rows`: one array per column, each
    one text parameter, unnested side by side. None when a column's type is not one of
    the above."""
    types = [_pg_array_type(table, name) for name in names]
    if None in types:
        return None
    converters = _converters(table, names, dialect)
    params: dict[str, Any] = {}
    casts: list[str] = []
    for i, (name, sql_type, to_db) in enumerate(zip(names, types, converters, strict=True)):
        column = [row[name] for row in rows]
        if to_db is not None:
            column = [to_db(value) for value in column]
        elif sql_type == "boolean":
            column = [None if value is None else "t" if value else "f" for value in column]
        params[f"c{i}"] = _array_literal(column)
        casts.append(f"CAST(:c{i} AS {sql_type}[])")
    return f"unnest({', '.join(casts)}) AS v({', '.join(names)})", params


def insert_ignore_many(
    session: Session,
    model: type[Base],
    rows: Sequence[dict[str, Any]],
    *,
    unique: Sequence[str],
) -> int:
    """Insert the rows whose `unique` columns are new; returns how many were."""
    if not rows:
        return 0
    table = _table(model)
    names = list(rows[0])
    dialect = session.get_bind().dialect
    conflict = f"ON CONFLICT ({', '.join(unique)}) DO NOTHING"
    if dialect.name == "postgresql":
        source, params = _pg_arrays(table, names, rows, dialect) or _json_source(
            table, names, rows, dialect
        )
        columns = ", ".join(names)
        statement = text(
            f"INSERT INTO {table.name} ({columns}) SELECT {columns} FROM {source} {conflict}"
        )
        return session.connection().execute(statement, params).rowcount
    placeholders = ", ".join("?" for _ in names)
    # Counts only the rows written: a skipped conflict changes nothing.
    return (
        session.connection()
        .exec_driver_sql(
            f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({placeholders}) {conflict}",
            _values(table, names, rows, dialect),
        )
        .rowcount
    )


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
    names = list(rows[0])
    dialect = session.get_bind().dialect
    pg = _pg_arrays(table, names, rows, dialect) if dialect.name == "postgresql" else None
    source, params = pg or _json_source(table, names, rows, dialect)
    columns = ", ".join(names)
    # `WHERE true` tells SQLite's parser that ON CONFLICT is not a join's ON.
    statement = text(
        f"INSERT INTO {table.name} ({columns}) SELECT {columns} FROM {source} WHERE true "
        f"ON CONFLICT ({', '.join(unique)}) DO NOTHING RETURNING {', '.join(returning)}"
    )
    # Fetched in one call: psycopg's row-by-row fetch cost about 5 ms per 1,000 rows.
    return [tuple(row) for row in session.connection().execute(statement, params).all()]


def update_by_id(session: Session, model: type[Base], rows: Sequence[dict[str, Any]]) -> None:
    """UPDATE many rows by id; every row must set the same columns, each id once."""
    if not rows:
        return
    table = _table(model)
    columns = [name for name in rows[0] if name != "id"]
    dialect = session.get_bind().dialect
    if dialect.name == "postgresql":
        names = ["id", *columns]
        source, params = _pg_arrays(table, names, rows, dialect) or _json_source(
            table, names, rows, dialect
        )
        assignments = ", ".join(f"{name} = v.{name}" for name in columns)
        statement = text(
            f"UPDATE {table.name} SET {assignments} FROM {source} WHERE {table.name}.id = v.id"
        )
        session.connection().execute(statement, params)
        return
    assignments = ", ".join(f"{name} = ?" for name in columns)
    session.connection().exec_driver_sql(
        f"UPDATE {table.name} SET {assignments} WHERE id = ?",
        _values(table, [*columns, "id"], rows, dialect),
    )


def among(
    session: Session, column: QueryableAttribute[int], ids: Sequence[int]
) -> ColumnElement[bool]:
    """`column IN ids` for thousands of ids, as one parameter instead of one per id.

    SQLAlchemy renders an IN list as a fresh statement with a bound name per value on
    every call, which cost more than running the query.
    """
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, list(ids), type_=postgresql.ARRAY(Integer)))
    listed = func.json_each(bindparam(None, json.dumps(list(ids)))).table_valued("value")
    return column.in_(select(listed.c.value))


# --- one row, when two transactions add it at once --------------------------------

_Row = TypeVar("_Row", bound=Base)


def add_or_read_winner(
    session: Session, row: _Row, winner: Callable[[], _Row | None]
) -> tuple[_Row, bool]:
    """Add `row` under a savepoint: (row, True).

    Two people submitting the same form, two workers meeting the same new person:
    both look, find nothing, and add; the loser's insert breaks the unique key. The
    savepoint then costs only that insert: it is rolled back (which takes `row` out
    of the session), the caller's transaction goes on, and `winner` reads the row
    that won: (that row, False). When `winner` finds none, the key was not the
    trouble, and the IntegrityError is raised.
    """
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        found = winner()
        if found is None:
            raise
        return found, False
    return row, True
