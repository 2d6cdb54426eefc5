"""Planning: from due sources to nudges (a sweep's first stage).

Four sources fall due: follow-up commitments (their ladder, `followups.plan`, which
also decides escalation), QBRs, check-ins, and accounts gone quiet (touches). Each
is read in batches through its `next_nudge_at` (or `touch_nudge_at`) index, moved on,
and a `Nudge` row written for every reminder that fell due, unique per kind, subject
and slot, so a sweep run twice writes nothing twice.

A commitment's nudge that `group.can_go_now` says may go right away is written once,
straight into its recipient's message for this sweep (`group.write_planned`); every
other nudge is written pending and grouping decides for it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar, cast

from sqlalchemy import select, type_coerce
from sqlalchemy.orm import InstrumentedAttribute, Session, joinedload
from sqlalchemy.types import NullType

from bot.config import Settings
from bot.scheduler import batches
from bot.scheduler.batches import Calendars, plain_rows
from bot.scheduler.group import Grouping, Hours, can_go_now, write_planned
from bot.services import account_state, followups, rhythm
from bot.services.calendar import WorkCalendar
from bot.services.followups import LADDER_COLUMNS, LadderRow
from bot.services.people import HolidayCountries
from storage.db import SessionFactory, engine_of
from storage.models import Account, CheckIn, Commitment, Qbr
from storage.upsert import update_by_id


def plan_due(
    db: SessionFactory, settings: Settings, *, now: datetime, grouping: Grouping | None = None
) -> int:
    """Write a nudge for every reminder due at `now`; returns how many were new.

    With `grouping`, a nudge that can go to its recipient right now is written once,
    into the recipient's message for this sweep, held until `group_due(grouping=...)`
    has added the rest and lets it go.
    """
    countries = HolidayCountries(settings.holiday_country)
    written = _plan_commitments(db, settings, countries, now, grouping)
    for planner in (_plan_qbrs, _plan_checkins, _plan_touches):
        while True:
            with db.begin() as session:
                calendars = Calendars(session, settings, countries=countries)
                count, new = planner(session, calendars, now)
                written += new
            if count < batches.BATCH:
                break
    return written


# Dates and instants come back as the driver hands them over and are converted once
# per distinct value (`_reader`): a batch holds a few dozen due days and due instants,
# and converting 25,000 values one by one was a fifth of reading it (SQLite 58 -> 47 ms
# a batch, PostgreSQL 32 -> 17-22).
_READ_ONCE = frozenset(
    {"due_on", "due_at", "ladder_anchor", "snoozed_until", "done_at", "paused_until"}
)
_LADDER_COLUMNS = tuple(
    type_coerce(column, NullType()) if column.key in _READ_ONCE else column
    for column in LADDER_COLUMNS
)


def _reader(session: Session, column: InstrumentedAttribute[Any]) -> Callable[[Any], Any] | None:
    """The column type's own conversion of a stored value, answered once per value."""
    if column.key not in _READ_ONCE:
        return None
    dialect = session.get_bind().dialect
    convert = column.type.dialect_impl(dialect).result_processor(dialect, None)
    answers: dict[Any, Any] = {None: None}

    def read(value: Any) -> Any:
        if value not in answers:
            answers[value] = value if convert is None else convert(value)
        return answers[value]

    return read


@dataclass
class LadderBatch:
    """Due commitments read and planned in one transaction, not written yet."""

    session: Session
    due: list[LadderRow]
    planned: list[tuple[str, followups.PlannedNudge]]
    ready: list[bool]

    @property
    def full(self) -> bool:  # then more may be due behind it
        return len(self.due) == batches.BATCH


def _plan_commitments(
    db: SessionFactory,
    settings: Settings,
    countries: HolidayCountries,
    now: datetime,
    grouping: Grouping | None,
) -> int:
    """Due commitments, a batch per transaction.

    On PostgreSQL the next batch is read and planned on a second connection while
    this one's writes run: the sweep's Python and the server's work then overlap on
    two cores instead of taking turns. The next batch cannot take this one's rows:
    they are locked (FOR UPDATE SKIP LOCKED) until it commits, and by then they are
    no longer due. Writing stays one batch at a time, in order, as `grouping` needs.
    """

    def read_batch() -> LadderBatch:
        session = db()
        try:
            session.begin()
            return _read_commitments(
                session, Calendars(session, settings, countries=countries), now, grouping
            )
        except BaseException:
            session.close()
            raise

    # SQLite has one writer: reading ahead would only queue behind this batch's writes.
    read_ahead = engine_of(db).dialect.name == "postgresql"
    written = 0
    with ThreadPoolExecutor(1, thread_name_prefix="rapport-plan-ahead") as ahead:
        upcoming: Future[LadderBatch] | None = ahead.submit(read_batch)
        while upcoming is not None:
            batch = upcoming.result()
            upcoming = ahead.submit(read_batch) if batch.full and read_ahead else None
            try:
                written += _write_commitments(batch, now, grouping)
                batch.session.commit()
            except BaseException:
                if upcoming is not None:  # its transaction must not outlive this sweep
                    upcoming.add_done_callback(_close_read)
                raise
            finally:
                batch.session.close()
            if batch.full and not read_ahead:
                upcoming = ahead.submit(read_batch)
    return written


def _close_read(read: Future[LadderBatch]) -> None:
    if read.exception() is None:
        read.result().session.close()


def _read_commitments(
    session: Session, calendars: Calendars, now: datetime, grouping: Grouping | None
) -> LadderBatch:
    found = plain_rows(
        session,
        select(*_LADDER_COLUMNS)
        .join(Account, Account.id == Commitment.account_id)
        .where(Commitment.next_nudge_at <= now)
        .order_by(Commitment.next_nudge_at, Commitment.id)
        .limit(batches.BATCH)
        .with_for_update(skip_locked=True, of=Commitment),
    )
    # Column by column (map and zip, no Python frame per value), then back into rows.
    readers = [_reader(session, column) for column in LADDER_COLUMNS]
    columns = [
        list(values) if read is None else list(map(read, values))
        # Not strict: no rows, no columns.
        for read, values in zip(readers, zip(*found, strict=True), strict=False)
    ]
    due = [LadderRow(*cast("tuple[Any, ...]", values)) for values in zip(*columns, strict=True)]
    calendars.preload((c.team_id, c.owner_id) for c in due)
    planned: list[tuple[str, followups.PlannedNudge]] = []
    sources: list[LadderRow] = []
    for commitment in due:
        if not account_state.schedules(commitment.stage):
            commitment.next_nudge_at = None
            continue
        prefs = calendars.prefs_of(commitment.team_id, commitment.owner_id)
        calendar = calendars.of(commitment.team_id, commitment.owner_id)
        for item in followups.plan(
            commitment,
            calendar,
            now,
            manager_id=prefs.manager_id if prefs is not None else None,
            channel_id=commitment.channel_id,
        ):
            planned.append((commitment.team_id, item))
            sources.append(commitment)
    ready = _ready_now(calendars, planned, sources, now) if grouping is not None else []
    return LadderBatch(session, due, planned, ready)


def _write_commitments(batch: LadderBatch, now: datetime, grouping: Grouping | None) -> int:
    if batch.due:
        update_by_id(batch.session, Commitment, [c.changes() for c in batch.due])
    return write_planned(batch.session, batch.planned, now, ready=batch.ready, grouping=grouping)


def _ready_now(
    calendars: Calendars,
    planned: Sequence[tuple[str, followups.PlannedNudge]],
    sources: Sequence[LadderRow],
    now: datetime,
) -> list[bool]:
    """Which planned nudges may go to their recipient right now: due, and GO by
    grouping's own rule (`can_go_now`), asked before the sweep's time-zone lookups.
    The rest are written pending and grouping decides for them."""
    calendars.preload((team_id, item.recipient) for team_id, item in planned)
    hours = Hours(calendars, now, zones_settled=False)
    return [
        item.due_at <= now  # grouping, too, reads only the nudges that are due
        and can_go_now(
            hours,
            team_id,
            item.recipient,
            stage=commitment.stage,
            owner_id=commitment.owner_id,
            paused_until=commitment.paused_until,
            closed=followups.closed_reason(commitment.done_at, commitment.snoozed_until, now)
            is not None,
        ).go
        for (team_id, item), commitment in zip(planned, sources, strict=True)
    ]


_Scheduled = TypeVar("_Scheduled", Qbr, CheckIn)


def _plan_by_owner(
    session: Session,
    calendars: Calendars,
    model: type[_Scheduled],
    now: datetime,
    plan_one: Callable[[_Scheduled, WorkCalendar], list[followups.PlannedNudge]],
) -> tuple[int, int]:
    """A batch of due QBRs or check-ins, each planned in its account owner's calendar."""
    due = session.scalars(
        select(model)
        .where(model.next_nudge_at <= now)
        .order_by(model.next_nudge_at, model.id)
        .limit(batches.BATCH)
        .options(joinedload(model.account))
        .with_for_update(skip_locked=True, of=model)
    ).all()
    calendars.preload((row.team_id, row.account.owner_id) for row in due)
    planned = [
        (row.team_id, item)
        for row in due
        for item in plan_one(row, calendars.of(row.team_id, row.account.owner_id))
    ]
    return len(due), write_planned(session, planned, now)


def _plan_qbrs(session: Session, calendars: Calendars, now: datetime) -> tuple[int, int]:
    return _plan_by_owner(
        session, calendars, Qbr, now, lambda qbr, calendar: rhythm.plan_qbr(qbr, calendar, now)
    )


def _plan_checkins(session: Session, calendars: Calendars, now: datetime) -> tuple[int, int]:
    return _plan_by_owner(
        session,
        calendars,
        CheckIn,
        now,
        lambda checkin, calendar: rhythm.plan_checkin(session, checkin, calendar, now),
    )


def _plan_touches(session: Session, calendars: Calendars, now: datetime) -> tuple[int, int]:
    due = session.scalars(
        select(Account)
        .where(Account.touch_nudge_at <= now)
        .order_by(Account.touch_nudge_at, Account.id)
        .limit(batches.BATCH)
        .with_for_update(skip_locked=True)
    ).all()
    planned = [(a.team_id, item) for a in due for item in rhythm.plan_touch(a, now)]
    return len(due), write_planned(session, planned, now)
