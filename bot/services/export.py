"""Export: an account's history, table by table, as CSV files or one JSON document.

Rows are streamed from the database in chunks and written as they come, so a large
team never sits in memory at once. Rows that belong to an account carry its team and
name as well as its id, so each table reads on its own, without joins. The coaching
history is part of it: negotiation preps, governance plans, debriefs and the steps
accepted from them, and the clients' questions on the reply clock.
"""

from __future__ import annotations

import csv
import itertools
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from sqlalchemy import Engine, Select, select
from sqlalchemy.orm import Session

from bot.services.account_kpis import EXPORT_COLUMNS
from storage.models import (
    Account,
    AccountKpi,
    CheckIn,
    ClientQuestion,
    Commitment,
    Concession,
    ConcessionRevision,
    Debrief,
    DebriefFollowup,
    GovernancePlan,
    MesoOffer,
    MesoSet,
    NegotiationPrep,
    Qbr,
    Rating,
    Touch,
)

if TYPE_CHECKING:
    # A SELECT of any number of labelled columns.
    Query = Select[*tuple[Any, ...]]

# Rows fetched per round trip; small enough to keep memory flat, big enough to be quick.
CHUNK_ROWS = 1000

Scalar = str | int | float | bool | None
# A list or an object only where the column holds JSON (a prep's people, its issues).
Value = Scalar | list[Any] | dict[str, Any]


@dataclass(frozen=True)
class Table:
    name: str
    # The rows to write, as labelled columns; `None` means every team.
    query: Callable[[str | None], Query]

    def columns(self) -> list[str]:
        return list(self.query(None).selected_columns.keys())


def _for_team(stmt: Query, team_column: Any, team_id: str | None) -> Query:
    return stmt if team_id is None else stmt.where(team_column == team_id)


def _named(model: Any, names: str) -> tuple[Any, ...]:
    """`model`'s columns `names` (space-separated), in that order: the export's header."""
    return tuple(getattr(model, name) for name in names.split())


def _of_account(model: Any, names: str) -> Table:
    """`model`'s rows, each of one account: its id, team, the account's id and name, then
    the columns `names` says."""
    columns = (
        model.id,
        model.team_id,
        model.account_id,
        Account.name.label("account_name"),
        *_named(model, names),
    )

    def query(team_id: str | None) -> Query:
        stmt = select(*columns).join(Account, Account.id == model.account_id)
        return _for_team(stmt, model.team_id, team_id).order_by(model.id)

    return Table(model.__tablename__, query)


def _of_parent(model: Any, parent: Any, parent_id: Any, names: str, *, order_by: str) -> Table:
    """`model`'s rows, each under a row of `parent` (joined on `parent_id`): its id, team,
    the account its parent belongs to (id and name), the parent's id, then the columns
    `names` says; sorted by the columns `order_by` says."""
    columns = (
        model.id,
        model.team_id,
        parent.account_id,
        Account.name.label("account_name"),
        parent_id,
        *_named(model, names),
    )
    order = _named(model, order_by)

    def query(team_id: str | None) -> Query:
        stmt = (
            select(*columns)
            .join(parent, parent.id == parent_id)
            .join(Account, Account.id == parent.account_id)
        )
        return _for_team(stmt, model.team_id, team_id).order_by(*order)

    return Table(model.__tablename__, query)


_ACCOUNT_COLUMNS = _named(
    Account,
    "id team_id name owner_id relationship_type channel_id expectations stage created_by "
    "created_at won_at lost_at paused_until pause_reason last_touch_at",
)


def _accounts(team_id: str | None) -> Query:
    # With its KPIs as `rapport import` reads them back (account_kpis.EXPORT_COLUMNS).
    stmt = select(*_ACCOUNT_COLUMNS, *EXPORT_COLUMNS)
    return _for_team(stmt, Account.team_id, team_id).order_by(Account.id)


# What the other tables hold, after the columns that say whose rows they are.
# The terms a concession and each of its revisions have (ConcessionTerms):
_TERMS = "item give get trigger value_to_us value_to_them"
_OFFER_COLUMNS = "position label terms scope cadence extras value_to_us"

ACCOUNTS = Table("accounts", _accounts)
MESO_SETS = _of_account(
    MesoSet,
    # value_period: what every offer's value_to_us is counted per ("" a total).
    "created_by created_at tolerance_pct value_period shared_at chosen_label chosen_by chosen_at",
)
MESO_OFFERS = _of_parent(
    MesoOffer, MesoSet, MesoOffer.meso_set_id, _OFFER_COLUMNS, order_by="meso_set_id position"
)
# In the order they are written: accounts first, then what hangs off them.
TABLES = (
    ACCOUNTS,
    _of_account(Concession, f"{_TERMS} logged_by logged_at edited_at withdrawn_at withdrawn_by"),
    _of_parent(
        ConcessionRevision,
        Concession,
        ConcessionRevision.concession_id,
        f"change {_TERMS} changed_by changed_at",
        order_by="id",
    ),
    MESO_SETS,
    MESO_OFFERS,
    _of_account(
        Commitment,
        "owner_id direction what due_on due_at created_by created_at done_at done_by kept_on_time",
    ),
    _of_account(Qbr, "next_on cadence lead_days last_held_on held_count on_time_count created_by"),
    _of_account(CheckIn, "due_on label done_at done_by"),
    _of_account(Touch, "user_id at note permalink"),
    _of_account(Rating, "kind score contact_on checkin_id recorded_by recorded_at followup_id"),
    _of_account(AccountKpi, "kind day outcome note recorded_by recorded_at"),
    _of_account(
        ClientQuestion,
        "owner_id question asked_at norm_minutes reply_by recorded_by recorded_at permalink "
        "answered_at answered_by reply_minutes",
    ),
    _of_account(
        NegotiationPrep,
        "question our_batna their_batna target_value reservation_value anchor_value "
        "value_period value_notes people our_issues their_issues we_can_give we_want "
        "opened_by opened_at updated_by updated_at closed_at",
    ),
    _of_account(
        GovernancePlan,
        "cadence owner_ids kpis credits escalation_owner_id escalation exit_ramps reopeners "
        "created_by created_at updated_by updated_at",
    ),
    _of_account(Debrief, "trust trades metrics governance next_meso by_user at"),
    _of_parent(
        DebriefFollowup,
        Debrief,
        DebriefFollowup.debrief_id,
        "step commitment_id accepted_by accepted_at",
        order_by="id",
    ),
)


def plain(value: Any) -> Value:
    """A value as JSON and CSV carry it: instants in ISO 8601 UTC, days as YYYY-MM-DD,
    a JSON column's lists and objects as they are."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool | list | dict):
        return value
    return str(value)


def rows_of(session: Session, table: Table, *, team_id: str | None) -> Iterator[dict[str, Value]]:
    stmt = table.query(team_id).execution_options(yield_per=CHUNK_ROWS)
    for row in session.execute(stmt).mappings():
        yield {key: plain(value) for key, value in row.items()}


def meso_sets_with_offers(session: Session, *, team_id: str | None) -> Iterator[dict[str, Value]]:
    """Each MESO set with its offers inside, in one ordered pass over a join."""
    offer_labels = [
        column.label(f"offer_{column.key}") for column in _named(MesoOffer, _OFFER_COLUMNS)
    ]
    stmt = (
        MESO_SETS.query(team_id)
        .add_columns(*offer_labels)
        .outerjoin(MesoOffer, MesoOffer.meso_set_id == MesoSet.id)
        .order_by(MesoOffer.position)
        .execution_options(yield_per=CHUNK_ROWS)
    )
    set_keys = MESO_SETS.columns()
    rows = session.execute(stmt).mappings()
    for _, group in itertools.groupby(rows, key=lambda row: row["id"]):
        first, *rest = list(group)
        meso: dict[str, Any] = {key: plain(first[key]) for key in set_keys}
        meso["offers"] = [
            {label.key.removeprefix("offer_"): plain(row[label.key]) for label in offer_labels}
            for row in (first, *rest)
            if row["offer_position"] is not None
        ]
        yield meso


@contextmanager
def snapshot(engine: Engine) -> Iterator[Session]:
    """A read-only session that sees every table as of one instant.

    On PostgreSQL, REPEATABLE READ gives all the export's queries one snapshot. On
    SQLite a deferred transaction does the same in WAL mode, without taking the one
    write lock the bot's other writers wait on (see storage.db).
    """
    if engine.dialect.name == "postgresql":
        bound = engine.execution_options(
            isolation_level="REPEATABLE READ", postgresql_readonly=True
        )
    else:
        bound = engine.execution_options(sqlite_read_only=True)
    with Session(bound) as session, session.begin():
        yield session


def write_csv(session: Session, directory: Path, *, team_id: str | None) -> dict[str, int]:
    """One CSV file per table in `directory`, each with a header row; rows per table."""
    directory.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    for table in TABLES:
        with (directory / f"{table.name}.csv").open("w", newline="", encoding="utf-8") as out:
            writer = csv.DictWriter(out, fieldnames=table.columns())
            writer.writeheader()
            counts[table.name] = 0
            for row in rows_of(session, table, team_id=team_id):
                writer.writerow({key: _csv_cell(value) for key, value in row.items()})
                counts[table.name] += 1
    return counts


def _csv_cell(value: Value) -> Scalar:
    # Spelled the way JSON spells them, so both formats agree.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        # One cell of JSON text: it starts with `[` or `{`, never as a formula does.
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, str):
        return defuse_formula(value)
    return value


# What makes a spreadsheet read a cell as a formula ("CSV injection", OWASP). The
# export is full of text that anyone in the workspace typed, and an admin opens it.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def defuse_formula(text: str) -> str:
    """`=HYPERLINK(…)` -> `'=HYPERLINK(…)`: a spreadsheet shows it, it does not run it."""
    return "'" + text if text.startswith(FORMULA_START) else text


def restore_formula(text: str) -> str:
    """The inverse, for a file this export wrote coming back in (`rapport import`)."""
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_START) else text


def write_json(session: Session, out: TextIO, *, team_id: str | None) -> dict[str, int]:
    """One JSON object with a list per table (MESO sets hold their offers); rows per table."""
    counts: dict[str, int] = {}
    out.write("{")
    for index, table in enumerate(t for t in TABLES if t is not MESO_OFFERS):
        rows = (
            meso_sets_with_offers(session, team_id=team_id)
            if table is MESO_SETS
            else rows_of(session, table, team_id=team_id)
        )
        out.write(("," if index else "") + f"\n{json.dumps(table.name)}: [")
        counts[table.name] = 0
        for row in rows:
            out.write(("," if counts[table.name] else "") + "\n  ")
            out.write(json.dumps(row, ensure_ascii=False))
            counts[table.name] += 1
        out.write("\n]" if counts[table.name] else "]")
    out.write("\n}\n")
    return counts
