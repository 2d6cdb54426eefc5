"""Planning: from due sources to nudges (a sweep's first stage).

Five sources fall due: follow-up commitments (their ladder, `followups.plan`, which
also decides escalation), QBRs, check-ins, accounts gone quiet (touches), and client
questions whose reply clock is about to run out. Each is read in batches through its
`next_nudge_at` (or `touch_nudge_at`) index by the service that owns it
(`followups.lock_due`, `rhythm.lock_due_qbrs`, `…_checkins`, `…_touches`,
`questions.lock_due`), moved on, and a `Nudge` row written for every reminder that fell due
(storage/nudges.py), unique per kind, subject and slot, so a sweep run twice writes
nothing twice. A sixth comes once a day per team: its health scores, a batch of
accounts a sweep, taken to find falls to tell owners of (`health_watch.check_team`).
This module keeps the order and the batching; it writes no SQL.

A commitment's nudge that `group.can_go_now` says may go right away is written once,
straight into its recipient's message for this sweep (`group.write_planned`); every
other nudge is written pending and grouping decides for it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar

from bot.config import Settings
from bot.scheduler import batches
from bot.scheduler.batches import Calendars
from bot.scheduler.group import Grouping, Hours, can_go_now, write_planned
from bot.services import account_state, followups, health_watch, questions, rhythm
from bot.services.calendar import WorkCalendar
from bot.services.followups import LadderRow
from bot.services.people import HolidayCountries
from storage.db import SessionFactory, engine_of
from storage.models import CheckIn, Qbr

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


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
    for planner in (_plan_qbrs, _plan_checkins, _plan_touches, _plan_questions):
        while True:
            with db.begin() as session:
                calendars = Calendars(session, settings, countries=countries)
                count, new = planner(session, calendars, now)
                written += new
            if count < batches.BATCH:
                break
    return written + _plan_health_falls(db, now)


def _plan_health_falls(db: SessionFactory, now: datetime) -> int:
    """Each (UTC) day, every team's health scores, a budget of accounts a sweep
    (bot.services.health_watch), and a DM planned for each fall found. The scoring
    reads outside any write transaction, so on SQLite the bot's own writes do not wait
    behind it; each batch's rows, falls and nudges are then written in one short one."""
    with db.begin() as session:
        teams = health_watch.teams_to_score(session, today=now.date())
    budget, written = health_watch.BUDGET, 0
    for team_id in teams:
        done = False
        while not done and budget > 0:
            with db() as session:
                check = health_watch.check_team(session, team_id=team_id, now=now, limit=budget)
            with db.begin() as session:
                health_watch.save_check(session, check)
                written += write_planned(session, [(team_id, item) for item in check.nudges], now)
            budget -= max(check.scored, 1)
            done = check.done
    return written


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
    due = followups.lock_due(session, now=now, limit=batches.BATCH)
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
        followups.save_ladders(batch.session, batch.due)
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


def _by_owner(
    lock_due: Callable[..., Sequence[_Scheduled]],
    plan_one: Callable[[Session, _Scheduled, WorkCalendar, datetime], list[followups.PlannedNudge]],
) -> Callable[[Session, Calendars, datetime], tuple[int, int]]:
    """A planner of due QBRs or check-ins (`lock_due`), a batch at a time, each planned
    (`plan_one`) in its account owner's calendar."""

    def plan(session: Session, calendars: Calendars, now: datetime) -> tuple[int, int]:
        due = lock_due(session, now=now, limit=batches.BATCH)
        calendars.preload((row.team_id, row.account.owner_id) for row in due)
        planned = [
            (row.team_id, item)
            for row in due
            for item in plan_one(session, row, calendars.of(row.team_id, row.account.owner_id), now)
        ]
        return len(due), write_planned(session, planned, now)

    return plan


_plan_qbrs = _by_owner(
    rhythm.lock_due_qbrs, lambda _session, qbr, calendar, now: rhythm.plan_qbr(qbr, calendar, now)
)
_plan_checkins = _by_owner(rhythm.lock_due_checkins, rhythm.plan_checkin)


def _plan_touches(session: Session, calendars: Calendars, now: datetime) -> tuple[int, int]:
    due = rhythm.lock_due_touches(session, now=now, limit=batches.BATCH)
    planned = [(a.team_id, item) for a in due for item in rhythm.plan_touch(a, now)]
    return len(due), write_planned(session, planned, now)


def _plan_questions(session: Session, calendars: Calendars, now: datetime) -> tuple[int, int]:
    # The reminder's instant was placed in the owner's working hours when the question
    # was recorded; grouping still holds it for them, as for every nudge.
    due = questions.lock_due(session, now=now, limit=batches.BATCH)
    planned = [(q.team_id, item) for q in due for item in questions.plan(q)]
    return len(due), write_planned(session, planned, now)
