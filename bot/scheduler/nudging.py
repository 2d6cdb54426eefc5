"""From due sources to one DM per person: plan nudges, then group them in working hours.

A sweep plans (writes a `Nudge` row per reminder that fell due, unique per kind,
subject and slot), then groups: every pending nudge whose time has come is held
back until its recipient's working hours, dropped if it stopped being true, merged
with the other nudges about the same thing, and written, together with everything
else due for that person, into one outbox message. The message is rendered when it
is sent, so it shows the items as they are then.

Within a sweep (`Grouping`), a nudge that grouping would send right away (due, its
subject open, its account not paused, its recipient's time zone fresh and working
hours open) is written once, straight into its recipient's message for this sweep;
only the others are written pending and grouped later, into that same message. The
message is held back from every sender (HOLD) until grouping ends and lets it go, so
batches that split a person's nudges still give them one message.

Every step works in batches with a handful of statements per batch, so a sweep's
cost follows what is due, not the size of the tables (bench/sweep.py).
"""

from __future__ import annotations

import functools
import hashlib
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, TypeVarTuple, cast
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from sqlalchemy import Row, Select, delete, func, or_, select, type_coerce
from sqlalchemy.orm import InstrumentedAttribute, Session, joinedload
from sqlalchemy.types import NullType

from bot.config import Settings
from bot.scheduler import notices
from bot.services import due, followups, lifecycle, rhythm
from bot.services.calendar import WorkCalendar
from bot.services.concessions import Balance, balance_of
from bot.services.governance import plan_of
from bot.services.people import (
    HolidayCountries,
    calendar_from,
    needs_timezone,
    prefs_of,
    prefs_of_many,
    remember_timezone,
    team_days_off,
    zone,
)
from bot.slackapi.client import without_rate_limit_waits
from bot.slackapi.timezones import TryLater, slack_profile
from messages import render
from storage.db import SessionFactory, engine_of
from storage.models import (
    NUDGE_IS_PENDING,
    Account,
    CheckIn,
    Commitment,
    Nudge,
    NudgeStatus,
    OutboxMessage,
    OutboxStatus,
    Qbr,
    Rating,
    UserPrefs,
)
from storage.outbox import enqueue_many
from storage.upsert import among, insert_ignore_many, insert_ignore_returning, update_by_id

log = logging.getLogger("rapport.nudging")
_Ts = TypeVarTuple("_Ts")

# Rows per transaction. Larger batches cost fewer round trips (2,000 -> 5,000 took a
# 10,000-due sweep from about 1.7 s to 1.1 s on SQLite), but on SQLite a batch holds
# the one writer's lock: at 5,000 that is about a third of a second, well inside
# Slack's 3-second window for a command that has to wait behind it.
BATCH = 5000
# Items shown in one DM: each takes up to three blocks, Slack allows 50.
MAX_ITEMS_PER_MESSAGE = 15

ClientForTeam = Callable[[str], WebClient]
UTC_ZONE = ZoneInfo("UTC")


def is_user(recipient: str) -> bool:
    return recipient.startswith(("U", "W"))


def _rows(session: Session, statement: Select[*_Ts]) -> Sequence[Row[*_Ts]]:
    """Plain rows through the Core connection, fetched in one call: the ORM's per-row
    loading and the driver's row-by-row fetch cost more than the sweep's queries."""
    return session.connection().execute(statement).all()


@dataclass
class Calendars:
    """Working calendars for one batch, with everyone's preferences read in one query."""

    session: Session
    settings: Settings
    prefs: dict[tuple[str, str], UserPrefs | None] = field(default_factory=dict)
    days_off: dict[str, frozenset[date]] = field(default_factory=dict)
    cache: dict[tuple[str, str | None], WorkCalendar] = field(default_factory=dict)
    # Shared by the sweep's batches, so the teams' holiday countries are read once.
    countries: HolidayCountries | None = None

    def __post_init__(self) -> None:
        if self.countries is None:
            self.countries = HolidayCountries(self.settings.holiday_country)

    def preload(self, pairs: Iterable[tuple[str, str]]) -> None:
        by_team: dict[str, set[str]] = defaultdict(set)
        for team_id, user_id in set(pairs):
            if is_user(user_id) and (team_id, user_id) not in self.prefs:
                by_team[team_id].add(user_id)
        for team_id, users in by_team.items():
            found = prefs_of_many(self.session, team_id=team_id, user_ids=users)
            for user_id in users:
                self.prefs[(team_id, user_id)] = found.get(user_id)

    def prefs_of(self, team_id: str, user_id: str) -> UserPrefs | None:
        if (team_id, user_id) not in self.prefs:
            self.preload([(team_id, user_id)])
        return self.prefs.get((team_id, user_id))

    def of(self, team_id: str, user_id: str | None) -> WorkCalendar:
        person = user_id if user_id and is_user(user_id) else None
        key = (team_id, person)
        if key not in self.cache:
            if team_id not in self.days_off:
                self.days_off[team_id] = team_days_off(self.session, team_id=team_id)
            self.cache[key] = calendar_from(
                self.prefs_of(team_id, person) if person else None,
                default_tz=self.settings.default_tz,
                country=self.countries.of(self.session, team_id) if self.countries else None,
                days_off=self.days_off[team_id],
            )
        return self.cache[key]


# --- planning -----------------------------------------------------------------

# How long a message written while planning stays unsendable if its sweep dies before
# grouping ends and lets it go: then any worker sends it after this, nothing lost.
HOLD = timedelta(minutes=5)
_KEY = ("team_id", "kind", "subject", "slot")


@dataclass
class Held:
    """A recipient's message written by this sweep while planning, not sendable yet."""

    outbox_id: int
    nudges: dict[str, int] = field(default_factory=dict)  # subject -> its newest nudge


@dataclass
class Grouping:
    """One sweep's messages written while planning (each nudge written once, grouped),
    held back from every sender until the sweep's grouping has added the rest."""

    held: dict[tuple[str, str], Held] = field(default_factory=dict)


def _nudge_row(
    team_id: str, item: followups.PlannedNudge, now: datetime, status: str, outbox_id: int | None
) -> dict[str, Any]:
    return {
        "team_id": team_id,
        "kind": item.kind,
        "subject": item.subject,
        "slot": item.slot,
        "recipient": item.recipient,
        "account_id": item.account_id,
        "deliver_at": item.due_at,
        "status": status,
        "created_at": now,
        "outbox_id": outbox_id,
    }


def _write(
    session: Session,
    planned: Sequence[tuple[str, followups.PlannedNudge]],
    now: datetime,
    *,
    ready: Sequence[bool] = (),
    grouping: Grouping | None = None,
) -> int:
    """Write the planned nudges: those `ready` (to go to their recipient right now)
    straight into the recipient's message of this sweep, the others pending."""
    pending: list[dict[str, Any]] = []
    direct: dict[tuple[str, str], list[followups.PlannedNudge]] = defaultdict(list)
    for i, (team_id, item) in enumerate(planned):
        if grouping is not None and i < len(ready) and ready[i]:
            direct[(team_id, item.recipient)].append(item)
        else:
            pending.append(_nudge_row(team_id, item, now, NudgeStatus.PENDING, None))
    written = 0
    if direct:
        assert grouping is not None
        written += _write_grouped(session, grouping, direct, pending, now)
    return written + insert_ignore_many(session, Nudge, pending, unique=_KEY)


def _still_held(session: Session, grouping: Grouping, wanted: Iterable[tuple[str, str]]) -> None:
    """Forget this sweep's held messages that a sender took meanwhile (a sweep longer
    than HOLD), and lock the others, so nothing joins a message already sent."""
    ids = {grouping.held[to].outbox_id: to for to in wanted if to in grouping.held}
    if not ids:
        return
    untouched = {
        row_id
        for (row_id,) in _rows(
            session,
            select(OutboxMessage.id)
            .where(
                among(session, OutboxMessage.id, sorted(ids)),
                OutboxMessage.status == OutboxStatus.PENDING,
                OutboxMessage.attempts == 0,
            )
            .with_for_update(),
        )
    }
    for row_id, to in ids.items():
        if row_id not in untouched:
            del grouping.held[to]


def _held_slot(now: datetime, team_id: str, item: followups.PlannedNudge) -> str:
    # New exactly once: it follows from its first nudge's unique key, written once.
    key = "\x1f".join((team_id, item.kind, item.subject, item.slot)).encode()
    return f"{now:%Y%m%dT%H%M}:h{hashlib.blake2b(key, digest_size=10).hexdigest()}"


def _write_grouped(
    session: Session,
    grouping: Grouping,
    direct: dict[tuple[str, str], list[followups.PlannedNudge]],
    pending: list[dict[str, Any]],
    now: datetime,
) -> int:
    """Outbox rows first (held), then each nudge once, already grouped into one."""
    _still_held(session, grouping, direct)
    new_rows = [
        {
            "team_id": team_id,
            "kind": "nudges",
            "subject": recipient,
            "slot": _held_slot(now, team_id, items[0]),
            "recipient": recipient,
            # Filled in when grouping ends; until then the nudges name their message.
            "payload": {"nudge_ids": None},
        }
        for (team_id, recipient), items in direct.items()
        if (team_id, recipient) not in grouping.held
    ]
    ids = enqueue_many(session, new_rows, now=now, not_before=now + HOLD)
    for row in new_rows:
        outbox_id = ids.get((str(row["team_id"]), str(row["subject"]), str(row["slot"])))
        if outbox_id is not None:
            grouping.held[(str(row["team_id"]), str(row["recipient"]))] = Held(outbox_id)
    grouped: list[dict[str, Any]] = []
    replaced: list[int] = []
    for (team_id, recipient), items in direct.items():
        held = grouping.held.get((team_id, recipient))
        if held is None:  # its message's key was taken: leave them to grouping
            pending.extend(_nudge_row(team_id, i, now, NudgeStatus.PENDING, None) for i in items)
            continue
        # One nudge per subject, the newest (written last, so the highest id).
        newest = {item.subject: item for item in items}
        for item in items:
            if newest[item.subject] is item:
                grouped.append(_nudge_row(team_id, item, now, NudgeStatus.GROUPED, held.outbox_id))
            else:
                grouped.append(_nudge_row(team_id, item, now, NudgeStatus.SUPERSEDED, None))
    added = insert_ignore_returning(
        session, Nudge, grouped, unique=_KEY, returning=("id", "outbox_id", "subject")
    )
    by_outbox = {held.outbox_id: held for held in grouping.held.values()}
    for nudge_id, outbox_id, subject in added:
        if outbox_id is None:  # superseded by a newer one in the same message
            continue
        held = by_outbox[outbox_id]
        if subject in held.nudges:  # an earlier batch's nudge about it: this one is newer
            replaced.append(held.nudges[subject])
        held.nudges[subject] = nudge_id
    _bulk_update_nudges(
        session,
        [{"id": i, "status": NudgeStatus.SUPERSEDED, "outbox_id": None} for i in replaced],
    )
    return len(added)


def _release(session: Session, grouping: Grouping, now: datetime) -> int:
    """Let this sweep's held messages go, each naming its nudges; returns how many."""
    _still_held(session, grouping, list(grouping.held))
    empty = [h.outbox_id for h in grouping.held.values() if not h.nudges]
    if empty:  # every nudge it was for had been written before: nothing to send
        session.execute(delete(OutboxMessage).where(among(session, OutboxMessage.id, empty)))
    update_by_id(
        session,
        OutboxMessage,
        [
            {
                "id": h.outbox_id,
                "payload": {"nudge_ids": sorted(h.nudges.values())},
                "not_before": now,
            }
            for h in grouping.held.values()
            if h.nudges
        ],
    )
    released = len(grouping.held) - len(empty)
    grouping.held.clear()
    return released


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
            if count < BATCH:
                break
    return written


@dataclass(slots=True)
class LadderRow:
    """A due commitment as the sweep reads it: plain values, no ORM identity map.

    Fields in the order of `_LADDER_COLUMNS`, so a row fills it by position.
    """

    id: int
    team_id: str
    account_id: int
    owner_id: str
    due_on: date
    due_at: datetime
    direction: str
    ladder_step: int
    ladder_anchor: date | None
    snoozed_until: datetime | None
    done_at: datetime | None
    nudges_sent: int
    stage: str
    channel_id: str | None
    paused_until: date | None
    # Not read: the ladder sets it on every row, so parsing 5,000 stored instants
    # per batch would be thrown away.
    next_nudge_at: datetime | None = None

    def changes(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "ladder_step": self.ladder_step,
            "ladder_anchor": self.ladder_anchor,
            "snoozed_until": self.snoozed_until,
            "nudges_sent": self.nudges_sent,
            "next_nudge_at": self.next_nudge_at,
        }


_LADDER_SOURCES: tuple[InstrumentedAttribute[Any], ...] = (
    Commitment.id,
    Commitment.team_id,
    Commitment.account_id,
    Commitment.owner_id,
    Commitment.due_on,
    Commitment.due_at,
    Commitment.direction,
    Commitment.ladder_step,
    Commitment.ladder_anchor,
    Commitment.snoozed_until,
    Commitment.done_at,
    Commitment.nudges_sent,
    Account.stage,
    Account.channel_id,
    Account.paused_until,
)
# Dates and instants come back as the driver hands them over and are converted once
# per distinct value (`_reader`): a batch holds a few dozen due days and due instants,
# and converting 25,000 values one by one was a fifth of reading it (SQLite 58 -> 47 ms
# a batch, PostgreSQL 32 -> 17-22).
_READ_ONCE = frozenset(
    {"due_on", "due_at", "ladder_anchor", "snoozed_until", "done_at", "paused_until"}
)
_LADDER_COLUMNS = tuple(
    type_coerce(column, NullType()) if column.key in _READ_ONCE else column
    for column in _LADDER_SOURCES
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
        return len(self.due) == BATCH


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
    rows = _rows(
        session,
        select(*_LADDER_COLUMNS)
        .join(Account, Account.id == Commitment.account_id)
        .where(Commitment.next_nudge_at <= now)
        .order_by(Commitment.next_nudge_at, Commitment.id)
        .limit(BATCH)
        .with_for_update(skip_locked=True, of=Commitment),
    )
    # Column by column (map and zip, no Python frame per value), then back into rows.
    readers = [_reader(session, column) for column in _LADDER_SOURCES]
    columns = [
        list(values) if read is None else list(map(read, values))
        # Not strict: no rows, no columns.
        for read, values in zip(readers, zip(*rows, strict=True), strict=False)
    ]
    due = [LadderRow(*cast("tuple[Any, ...]", values)) for values in zip(*columns, strict=True)]
    calendars.preload((c.team_id, c.owner_id) for c in due)
    planned: list[tuple[str, followups.PlannedNudge]] = []
    sources: list[LadderRow] = []
    for commitment in due:
        if not lifecycle.schedules(commitment.stage):
            commitment.next_nudge_at = None
            continue
        prefs = calendars.prefs_of(commitment.team_id, commitment.owner_id)
        escalate_to = (prefs.manager_id if prefs is not None else None) or commitment.channel_id
        calendar = calendars.of(commitment.team_id, commitment.owner_id)
        for item in followups.plan(commitment, calendar, now, escalate_to=escalate_to):
            planned.append((commitment.team_id, item))
            sources.append(commitment)
    ready = _ready_now(calendars, planned, sources, now) if grouping is not None else []
    return LadderBatch(session, due, planned, ready)


def _write_commitments(batch: LadderBatch, now: datetime, grouping: Grouping | None) -> int:
    if batch.due:
        update_by_id(batch.session, Commitment, [c.changes() for c in batch.due])
    return _write(batch.session, batch.planned, now, ready=batch.ready, grouping=grouping)


def _ready_now(
    calendars: Calendars,
    planned: Sequence[tuple[str, followups.PlannedNudge]],
    sources: Sequence[LadderRow],
    now: datetime,
) -> list[bool]:
    """Which planned nudges grouping would send right now, by grouping's own rules
    (`_group`): due, about a commitment still open, its account not paused, the
    recipient's time zone known and fresh and their working hours open. The rest are
    written pending and grouping decides for them, as for any pending nudge."""
    calendars.preload((team_id, item.recipient) for team_id, item in planned)
    opening_for: dict[tuple[str, str], bool] = {}
    ready: list[bool] = []
    for (team_id, item), commitment in zip(planned, sources, strict=True):
        if (
            item.due_at > now
            or commitment.done_at is not None
            or (commitment.snoozed_until or now) > now
            or commitment.paused_until is not None
        ):
            ready.append(False)
            continue
        to = (team_id, item.recipient)
        if to not in opening_for:
            opening_for[to] = (
                not (is_user(item.recipient) and needs_timezone(calendars.prefs_of(*to), now))
                and calendars.of(*to).next_open(now) <= now
            )
        ready.append(opening_for[to])
    return ready


def _plan_qbrs(session: Session, calendars: Calendars, now: datetime) -> tuple[int, int]:
    due = session.scalars(
        select(Qbr)
        .where(Qbr.next_nudge_at <= now)
        .order_by(Qbr.next_nudge_at, Qbr.id)
        .limit(BATCH)
        .options(joinedload(Qbr.account))
        .with_for_update(skip_locked=True, of=Qbr)
    ).all()
    calendars.preload((q.team_id, q.account.owner_id) for q in due)
    planned = [
        (qbr.team_id, item)
        for qbr in due
        for item in rhythm.plan_qbr(qbr, calendars.of(qbr.team_id, qbr.account.owner_id), now)
    ]
    return len(due), _write(session, planned, now)


def _plan_checkins(session: Session, calendars: Calendars, now: datetime) -> tuple[int, int]:
    due = session.scalars(
        select(CheckIn)
        .where(CheckIn.next_nudge_at <= now)
        .order_by(CheckIn.next_nudge_at, CheckIn.id)
        .limit(BATCH)
        .options(joinedload(CheckIn.account))
        .with_for_update(skip_locked=True, of=CheckIn)
    ).all()
    calendars.preload((c.team_id, c.account.owner_id) for c in due)
    planned = [
        (checkin.team_id, item)
        for checkin in due
        for item in rhythm.plan_checkin(
            session, checkin, calendars.of(checkin.team_id, checkin.account.owner_id), now
        )
    ]
    return len(due), _write(session, planned, now)


def _plan_touches(session: Session, calendars: Calendars, now: datetime) -> tuple[int, int]:
    due = session.scalars(
        select(Account)
        .where(Account.touch_nudge_at <= now)
        .order_by(Account.touch_nudge_at, Account.id)
        .limit(BATCH)
        .with_for_update(skip_locked=True)
    ).all()
    planned = [(a.team_id, item) for a in due for item in rhythm.plan_touch(a, now)]
    return len(due), _write(session, planned, now)


# --- time zones -----------------------------------------------------------------

TZ_LOOKUPS_PER_SWEEP = 200
# Lookups run while other workers wait for the plan-and-group lock: past this many
# seconds the rest wait for the next sweep (their nudges follow the team's zone).
TZ_LOOKUP_SECONDS = 10.0


def refresh_timezones(db: SessionFactory, client_for: ClientForTeam, *, now: datetime) -> None:
    """Ask Slack for the time zone of people about to be nudged whose entry is stale.

    Bounded per sweep (users.info is Tier 4, about 100 a minute; and TZ_LOOKUP_SECONDS),
    and never waiting out a rate limit: the rest are looked up on later sweeps and
    meanwhile follow the team's default zone.
    """
    with db() as session:
        recipients = session.execute(
            select(Nudge.team_id, Nudge.recipient)
            .where(NUDGE_IS_PENDING, Nudge.deliver_at <= now)
            .distinct()
            .limit(BATCH)
        ).all()
        by_team: dict[str, list[str]] = defaultdict(list)
        for team_id, user_id in recipients:
            if is_user(user_id):
                by_team[team_id].append(user_id)
        stale = [
            (team_id, user_id)
            for team_id, users in by_team.items()
            for user_id, prefs in _with_prefs(session, team_id, users)
            if needs_timezone(prefs, now)
        ][:TZ_LOOKUPS_PER_SWEEP]
    deadline = time.monotonic() + TZ_LOOKUP_SECONDS
    for team_id, user_id in stale:
        try:
            profile = slack_profile(without_rate_limit_waits(client_for(team_id)), user_id)
        except TryLater as exc:
            log.info("time zone lookups stop until the next sweep: %s", exc)
            return
        with db.begin() as session:
            remember_timezone(session, team_id=team_id, user_id=user_id, profile=profile, now=now)
        if time.monotonic() > deadline:
            return


def _with_prefs(
    session: Session, team_id: str, users: list[str]
) -> list[tuple[str, UserPrefs | None]]:
    found = prefs_of_many(session, team_id=team_id, user_ids=users)
    return [(user_id, found.get(user_id)) for user_id in users]


# --- what a nudge is about ------------------------------------------------------


@dataclass
class Item:
    """A nudge with what it is about, as the DM shows it."""

    nudge: Nudge
    account: Account | None = None
    commitment: Commitment | None = None
    qbr: Qbr | None = None
    checkin: CheckIn | None = None
    balance: Balance | None = None
    open_commitments: list[Commitment] = field(default_factory=list)
    closed: str | None = None  # why it needs no action any more, once it doesn't
    days_quiet: int = 0
    kept_since: int = 0
    kpis: str | None = None  # from the account's governance plan, for a QBR agenda
    rating: Rating | None = None  # the buyer's answer recorded from a check-in nudge

    @property
    def day(self) -> date | None:
        """The day this item is about: a follow-up's due day, a review's, a check-in's."""
        if self.commitment is not None:
            return self.commitment.due_on
        if self.qbr is not None:
            if self.nudge.kind == "qbr_lapsed" or self.closed:
                return None
            return self.qbr.next_on
        if self.checkin is not None:
            return self.checkin.due_on
        return None


def _ids(nudges: Sequence[Nudge | Due], kind: str) -> dict[str, list[int]]:
    """The ids of the `kind` subjects ("commitment:12" -> 12) the nudges name, by team."""
    by_team: dict[str, list[int]] = defaultdict(list)
    for nudge in nudges:
        prefix, _, raw = nudge.subject.partition(":")
        if prefix == kind and raw.isdigit():
            by_team[nudge.team_id].append(int(raw))
    return by_team


def _load(
    session: Session,
    nudges: Sequence[Nudge],
    kind: str,
    model: Any,
    with_account: Any,
) -> dict[tuple[str, int], Any]:
    """The subjects of `kind` the nudges name, keyed by (team, id), one query per team."""
    found: dict[tuple[str, int], Any] = {}
    for team_id, ids in _ids(nudges, kind).items():
        query = select(model).where(model.team_id == team_id, model.id.in_(ids))
        if with_account is not None:
            query = query.options(joinedload(with_account))
        for row in session.scalars(query):
            found[(team_id, row.id)] = row
    return found


def load_items(session: Session, nudges: Sequence[Nudge], now: datetime) -> list[Item]:
    """What each nudge is about, read in one query per kind of subject."""
    commitments = _load(session, nudges, "commitment", Commitment, Commitment.account)
    qbrs = _load(session, nudges, "qbr", Qbr, Qbr.account)
    checkins = _load(session, nudges, "checkin", CheckIn, CheckIn.account)
    accounts = _load(session, nudges, "account", Account, None)
    items = []
    for nudge in nudges:
        kind, _, raw = nudge.subject.partition(":")
        key = (nudge.team_id, int(raw) if raw.isdigit() else -1)
        item = Item(nudge=nudge)
        if kind == "commitment" and key in commitments:
            item.commitment = commitments[key]
            item.account = item.commitment.account
            if item.commitment.done_at is not None:
                item.closed = "done"
            elif (item.commitment.snoozed_until or now) > now:
                item.closed = "snoozed"
        elif kind == "qbr" and key in qbrs:
            item.qbr = qbrs[key]
            item.account = item.qbr.account
            if rhythm.is_answered(nudge.slot, item.qbr.next_on):
                item.closed = "answered"
            elif nudge.kind in ("qbr_lead", "qbr_eve"):
                _add_agenda(session, item)
        elif kind == "checkin" and key in checkins:
            item.checkin = checkins[key]
            item.account = item.checkin.account
            if item.checkin.done_at is not None:
                item.closed = "done"
        elif kind == "person" and nudge.account_id is not None:
            # The one-time note that overdue follow-ups reach nobody else.
            item.account = session.get(Account, nudge.account_id)
        elif kind == "account" and key in accounts:
            item.account = accounts[key]
            item.days_quiet = rhythm.days_since_touch(item.account, now)
            since = item.account.last_touch_at or item.account.won_at or item.account.created_at
            if not nudge.slot.endswith(since.date().isoformat()):
                item.closed = "touched"
        if item.account is not None and lifecycle.is_lost(item.account.stage):
            item.closed = "lost"
        items.append(item)
    _add_ratings(session, items)
    return items


def _add_ratings(session: Session, items: list[Item]) -> None:
    """The rating recorded for each check-in shown, one query per team."""
    by_team: dict[str, dict[int, Item]] = defaultdict(dict)
    for item in items:
        if item.checkin is not None:
            by_team[item.checkin.team_id][item.checkin.id] = item
    for team_id, wanted in by_team.items():
        for rating in session.scalars(
            select(Rating)
            .where(Rating.team_id == team_id, Rating.checkin_id.in_(list(wanted)))
            .order_by(Rating.id.desc())
        ):
            assert rating.checkin_id is not None
            wanted[rating.checkin_id].rating = rating


def _add_agenda(session: Session, item: Item) -> None:
    """A QBR reminder carries a draft agenda built from the account."""
    assert item.qbr is not None and item.account is not None
    team_id, account_id = item.account.team_id, item.account.id
    item.balance = balance_of(session, team_id=team_id, account_id=account_id)
    item.open_commitments = followups.open_commitments(
        session, team_id=team_id, account_id=account_id, limit=5
    )
    item.kept_since = followups.kept_since(
        session, team_id=team_id, account_id=account_id, since=item.qbr.last_held_on
    )
    plan = plan_of(session, team_id=team_id, account_id=account_id)
    item.kpis = plan.kpis if plan is not None else None


# --- grouping -------------------------------------------------------------------


@dataclass
class Due:
    """A pending nudge as grouping reads it, and what grouping decides for it."""

    id: int
    team_id: str
    kind: str
    subject: str
    slot: str
    recipient: str
    account_id: int | None
    status: str = NudgeStatus.PENDING
    deliver_at: datetime | None = None
    outbox_id: int | None = None


@dataclass
class AccountState:
    owner_id: str
    stage: str
    paused_until: date | None
    since: datetime  # the last touch, or the win, or the creation


def group_due(
    db: SessionFactory, settings: Settings, *, now: datetime, grouping: Grouping | None = None
) -> int:
    """Turn due nudges into outbox messages, one per recipient; returns how many.

    With `grouping` (from `plan_due`), a recipient's nudges join the message this
    sweep already wrote for them, and at the end those messages are let go.
    """
    messages = 0
    countries = HolidayCountries(settings.holiday_country)
    held = grouping if grouping is not None else Grouping()
    while True:
        with db.begin() as session:
            due = [
                Due(*row)
                for row in _rows(
                    session,
                    select(
                        Nudge.id,
                        Nudge.team_id,
                        Nudge.kind,
                        Nudge.subject,
                        Nudge.slot,
                        Nudge.recipient,
                        Nudge.account_id,
                    )
                    .where(NUDGE_IS_PENDING, Nudge.deliver_at <= now)
                    .order_by(Nudge.team_id, Nudge.recipient, Nudge.id)
                    .limit(BATCH)
                    .with_for_update(skip_locked=True),
                )
            ]
            full = len(due) == BATCH
            batch = _whole_recipients(due) if full else due
            messages += _group(
                session, Calendars(session, settings, countries=countries), batch, now, held
            )
            if not full:
                return messages + _release(session, held, now)


def _whole_recipients(due: list[Due]) -> list[Due]:
    """A full batch may end part-way through someone's nudges: leave that person for
    the next batch, so each person still gets one message."""
    last = (due[-1].team_id, due[-1].recipient)
    whole = [n for n in due if (n.team_id, n.recipient) != last]
    return whole or due


def _subject_ids(due: list[Due], kind: str) -> list[int]:
    return [subject_id for ids in _ids(due, kind).values() for subject_id in ids]


def _closed_subjects(session: Session, due: list[Due], now: datetime) -> set[str]:
    """Subjects that need nobody any more: done, held, snoozed, or touched since."""
    closed: set[str] = set()
    # Only the closed ones come back: nearly every subject of a due nudge is still open.
    if ids := _subject_ids(due, "commitment"):
        closed |= {
            f"commitment:{cid}"
            for (cid,) in _rows(
                session,
                select(Commitment.id).where(
                    among(session, Commitment.id, ids),
                    or_(Commitment.done_at.is_not(None), Commitment.snoozed_until > now),
                ),
            )
        }
    if ids := _subject_ids(due, "qbr"):
        next_on = dict(
            _rows(session, select(Qbr.id, Qbr.next_on).where(among(session, Qbr.id, ids)))
        )
        closed |= {
            n.subject
            for n in due
            if n.subject.startswith("qbr:")
            and int(n.subject[4:]) in next_on
            and rhythm.is_answered(n.slot, next_on[int(n.subject[4:])])
        }
    if ids := _subject_ids(due, "checkin"):
        closed |= {
            f"checkin:{cid}"
            for (cid,) in _rows(
                session,
                select(CheckIn.id).where(
                    among(session, CheckIn.id, ids), CheckIn.done_at.is_not(None)
                ),
            )
        }
    return closed


def _accounts(session: Session, due: list[Due]) -> dict[int, AccountState]:
    ids = sorted({n.account_id for n in due if n.account_id is not None})
    if not ids:
        return {}
    rows = _rows(
        session,
        select(
            Account.id,
            Account.owner_id,
            Account.stage,
            Account.paused_until,
            func.coalesce(Account.last_touch_at, Account.won_at, Account.created_at),
        ).where(among(session, Account.id, ids)),
    )
    return {
        aid: AccountState(owner, stage, paused, since) for aid, owner, stage, paused, since in rows
    }


def _group(
    session: Session, calendars: Calendars, due: list[Due], now: datetime, grouping: Grouping
) -> int:
    if not due:
        return 0
    closed = _closed_subjects(session, due, now)
    accounts = _accounts(session, due)
    calendars.preload((n.team_id, n.recipient) for n in due)
    # An owner's calendar matters only while their account is paused.
    calendars.preload(
        (n.team_id, accounts[n.account_id].owner_id)
        for n in due
        if n.account_id in accounts and accounts[n.account_id].paused_until is not None
    )
    # `now` is the same for all: one answer per recipient, not per nudge.
    opening_for: dict[tuple[str, str], datetime] = {}
    ready: dict[tuple[str, str], list[Due]] = defaultdict(list)
    for nudge in due:
        account = accounts.get(nudge.account_id) if nudge.account_id is not None else None
        touched_since = (
            nudge.kind == "touch"
            and account is not None
            and not nudge.slot.endswith(account.since.date().isoformat())
        )
        if (
            account is None
            or not lifecycle.schedules(account.stage)
            or nudge.subject in closed
            or touched_since
        ):
            nudge.status = NudgeStatus.CANCELLED
            continue
        to = (nudge.team_id, nudge.recipient)
        if to not in opening_for:
            opening_for[to] = calendars.of(*to).next_open(now)
        opens = opening_for[to]
        if opens > now:
            nudge.deliver_at = opens  # outside the recipient's hours: wait for them
            continue
        if account.paused_until is not None:
            owner_calendar = calendars.of(nudge.team_id, account.owner_id)
            if owner_calendar.today(now) < account.paused_until:
                nudge.deliver_at = owner_calendar.opening(account.paused_until)
                continue
        ready[to].append(nudge)
    outbox_rows: list[dict[str, Any]] = []
    groups: list[list[Due]] = []
    _still_held(session, grouping, ready)
    replaced: list[int] = []
    for (team_id, recipient), batch in ready.items():
        kept = _coalesce(batch)
        held = grouping.held.get((team_id, recipient))
        if held is not None:  # join the message planning wrote for them this sweep
            for nudge in kept:
                older = held.nudges.get(nudge.subject)
                if older is not None and older > nudge.id:
                    nudge.status = NudgeStatus.SUPERSEDED
                    continue
                if older is not None:
                    replaced.append(older)
                held.nudges[nudge.subject] = nudge.id
                nudge.status = NudgeStatus.GROUPED
                nudge.outbox_id = held.outbox_id
            continue
        groups.append(kept)
        outbox_rows.append(
            {
                "team_id": team_id,
                "kind": "nudges",
                "subject": recipient,
                # The first nudge is grouped once, so this key is new exactly once.
                "slot": f"{now:%Y%m%dT%H%M}:{kept[0].id}",
                "recipient": recipient,
                "payload": {"nudge_ids": [n.id for n in kept]},
            }
        )
    ids = enqueue_many(session, outbox_rows, now=now)
    for kept, row in zip(groups, outbox_rows, strict=True):
        outbox_id = ids.get((str(row["team_id"]), str(row["subject"]), str(row["slot"])))
        if outbox_id is None:
            continue  # not written: the nudges stay pending for the next sweep
        for nudge in kept:
            nudge.status = NudgeStatus.GROUPED
            nudge.outbox_id = outbox_id
    changed = [
        {"id": n.id, "status": n.status, "deliver_at": n.deliver_at, "outbox_id": n.outbox_id}
        for n in due
        if n.status != NudgeStatus.PENDING or n.deliver_at is not None
    ]
    for row in changed:
        if row["deliver_at"] is None:
            del row["deliver_at"]
    changed += [{"id": i, "status": NudgeStatus.SUPERSEDED, "outbox_id": None} for i in replaced]
    _bulk_update_nudges(session, changed)
    return len(ids)


def _bulk_update_nudges(session: Session, changes: list[dict[str, Any]]) -> None:
    # executemany needs one shape per call: split the rows by the columns they set.
    by_shape: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for change in changes:
        by_shape[tuple(sorted(change))].append(change)
    for rows in by_shape.values():
        update_by_id(session, Nudge, rows)


def _coalesce(batch: list[Due]) -> list[Due]:
    """One nudge per subject: the newest stands for the older ones, which are superseded."""
    newest: dict[str, Due] = {}
    for nudge in batch:
        if nudge.subject not in newest or nudge.id > newest[nudge.subject].id:
            newest[nudge.subject] = nudge
    for nudge in batch:
        if newest[nudge.subject] is not nudge:
            nudge.status = NudgeStatus.SUPERSEDED
    return sorted(newest.values(), key=lambda n: n.id)


# --- rendering ------------------------------------------------------------------


def render_message(
    items: list[Item], outbox_id: int, recipient: str, now: datetime, today: date
) -> dict[str, Any]:
    """The DM: the most urgent items first (due.by_urgency), as many as fit; when
    more are due, it says how many and where to see them all."""
    ranks = [
        due.Ranked(due.urgency(item.nudge.kind, item.day, today), item.nudge.id) for item in items
    ]
    ordered = [items[i] for i in due.by_urgency(ranks)]
    shown = ordered[:MAX_ITEMS_PER_MESSAGE]
    return render(
        "nudge_dm",
        items=shown,
        more=len(items) - len(shown),
        ref=outbox_id,
        to_channel=not is_user(recipient),
        now=now,
        today=today,
    )


def recipient_today(
    session: Session, *, team_id: str, recipient: str, now: datetime, default_tz: ZoneInfo
) -> date:
    """The day it is where the message is read (the team's default zone for a channel)."""
    prefs = prefs_of(session, team_id=team_id, user_id=recipient) if is_user(recipient) else None
    tz = zone(prefs.tz_override or prefs.slack_tz, default_tz) if prefs is not None else default_tz
    return now.astimezone(tz).date()


def compose(
    session: Session, row: OutboxMessage, now: datetime, *, default_tz: ZoneInfo = UTC_ZONE
) -> dict[str, Any] | None:
    """The message an outbox row stands for, as it reads at `now`.

    None when nothing in it needs anyone any more (all done or cancelled since it
    was grouped): then nothing is sent. Its words about days ("today", "on Monday")
    are worked out now, in the reader's time zone, not when the nudge was planned.
    """
    if notices.is_notice(row):
        return notices.compose_notice(session, row, now)
    if "nudge_ids" not in row.payload:
        return row.payload
    ids = row.payload["nudge_ids"]
    # None: its sweep died before letting it go (HOLD); its nudges name it instead.
    # Rare, so the scan of nudges by outbox_id (not indexed) is acceptable.
    named = Nudge.outbox_id == row.id if ids is None else Nudge.id.in_(ids)
    nudges = session.scalars(
        select(Nudge).where(Nudge.team_id == row.team_id, named).order_by(Nudge.id)
    ).all()
    items = load_items(session, nudges, now)
    if row.message_ts is None and all(item.closed for item in items):
        return None
    today = recipient_today(
        session, team_id=row.team_id, recipient=row.recipient, now=now, default_tz=default_tz
    )
    return render_message(items, row.id, row.recipient, now, today)


def composer(default_tz: ZoneInfo) -> Callable[[Session, OutboxMessage, datetime], Any]:
    """`compose` for a deployment whose people default to `default_tz`."""
    return functools.partial(compose, default_tz=default_tz)


def rerender(
    session: Session,
    *,
    team_id: str,
    outbox_id: int,
    now: datetime,
    default_tz: ZoneInfo = UTC_ZONE,
) -> dict[str, Any] | None:
    """The message as it should read now (after a click), or None if it is not ours."""
    row = session.scalar(
        select(OutboxMessage).where(OutboxMessage.team_id == team_id, OutboxMessage.id == outbox_id)
    )
    return compose(session, row, now, default_tz=default_tz) if row is not None else None
