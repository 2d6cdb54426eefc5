"""Grouping: due nudges into one DM per person, in their working hours.

Every pending nudge whose time has come is held back until its recipient's working
hours, dropped if it stopped being true, merged with the other nudges about the same
thing, and written, together with everything else due for that person, into one
outbox message. The message is rendered when it is sent (`compose`), so it shows the
items as they are then.

"Can this go now?" is one rule, `can_go_now`, asked by grouping for every pending
nudge and by planning for each nudge it has just planned (`plan.py`): the nudges it
says GO to are written once, straight into their recipient's message for this sweep
(`Grouping`, `write_planned`); the others are written pending and grouping decides
for them after the sweep's time-zone lookups. Each message is held back from every
sender (HOLD) until grouping ends and lets it go (`release` inside `group_due`), so
batches that split a person's nudges still give them one message.

The reads and writes are named functions: the nudges' and the outbox's in
storage/nudges.py and storage/outbox.py, whether a subject is still open in the
service that owns it (`followups.closed_among`, `rhythm.done_checkins_among`,
`rhythm.qbr_days`, `questions.answered_among`, `rhythm.nudged_accounts`). This module writes no SQL.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.config import Settings
from bot.scheduler import batches
from bot.scheduler.batches import Calendars, is_user
from bot.services import account_state, followups, health_watch, questions, rhythm
from bot.services.people import HolidayCountries, needs_timezone
from storage import nudges, outbox
from storage.db import SessionFactory
from storage.models import NudgeStatus

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

# --- can this go now? -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Verdict:
    """What `can_go_now` says of a due nudge."""

    go: bool = False  # into its recipient's message of this sweep
    cancel: bool = False  # it stopped being true: nobody is nudged
    until: datetime | None = None  # otherwise it waits till then (None: asked again later)


GO = Verdict(go=True)
CANCEL = Verdict(cancel=True)
# Its recipient's time zone is being looked up this sweep: grouping asks again after.
LATER = Verdict()


@dataclass
class Hours:
    """When each recipient's working hours next open, worked out once per recipient
    for one batch (`now` is the same for all nudges in it)."""

    calendars: Calendars
    now: datetime
    # False while planning: the sweep looks stale time zones up after planning, so a
    # person whose zone is stale cannot be told yet when their day starts.
    zones_settled: bool = True
    _opens: dict[tuple[str, str], datetime | None] = field(default_factory=dict)

    def opens(self, team_id: str, recipient: str) -> datetime | None:
        to = (team_id, recipient)
        if to not in self._opens:
            if (
                not self.zones_settled
                and is_user(recipient)
                and needs_timezone(self.calendars.prefs_of(team_id, recipient), self.now)
            ):
                self._opens[to] = None
            else:
                self._opens[to] = self.calendars.of(team_id, recipient).next_open(self.now)
        return self._opens[to]


def can_go_now(
    hours: Hours,
    team_id: str,
    recipient: str,
    *,
    stage: str | None,
    owner_id: str,
    paused_until: date | None,
    closed: bool,
) -> Verdict:
    """Can a due nudge go to its recipient now? The one rule for planning's write-once
    path and for grouping.

    CANCEL when its account is gone (`stage` None) or no longer scheduled (lost), or
    its subject needs nobody any more (`closed`: done, snoozed, answered, touched
    since); LATER when the recipient's time zone is not settled yet; else it waits
    for the recipient's working hours, then, while the account is paused, for the
    owner's first working hour after the pause; else GO.
    """
    if stage is None or not account_state.schedules(stage) or closed:
        return CANCEL
    opens = hours.opens(team_id, recipient)
    if opens is None:
        return LATER
    if opens > hours.now:
        return Verdict(until=opens)  # outside the recipient's hours: wait for them
    if paused_until is not None:
        owner_calendar = hours.calendars.of(team_id, owner_id)
        if account_state.paused_on(paused_until, owner_calendar.today(hours.now)):
            return Verdict(until=owner_calendar.opening(paused_until))
    return GO


# --- written once, while planning -----------------------------------------------------

# How long a message written while planning stays unsendable if its sweep dies before
# grouping ends and lets it go: then any worker sends it after this, nothing lost.
HOLD = timedelta(minutes=5)


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


def write_planned(
    session: Session,
    planned: Sequence[tuple[str, followups.PlannedNudge]],
    now: datetime,
    *,
    ready: Sequence[bool] = (),
    grouping: Grouping | None = None,
) -> int:
    """Write the planned nudges: those `ready` (`can_go_now` said GO) straight into
    the recipient's message of this sweep (with `grouping`), the others pending."""
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
    return written + nudges.add_new(session, pending)


def _still_held(session: Session, grouping: Grouping, wanted: Iterable[tuple[str, str]]) -> None:
    """Forget this sweep's held messages that a sender took meanwhile (a sweep longer
    than HOLD), and lock the others, so nothing joins a message already sent."""
    ids = {grouping.held[to].outbox_id: to for to in wanted if to in grouping.held}
    if not ids:
        return
    untouched = outbox.lock_untouched(session, sorted(ids))
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
    ids = outbox.enqueue_many(session, new_rows, now=now, not_before=now + HOLD)
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
    added = nudges.add_new_returning(session, grouped)
    by_outbox = {held.outbox_id: held for held in grouping.held.values()}
    for nudge_id, outbox_id, subject in added:
        if outbox_id is None:  # superseded by a newer one in the same message
            continue
        held = by_outbox[outbox_id]
        if subject in held.nudges:  # an earlier batch's nudge about it: this one is newer
            replaced.append(held.nudges[subject])
        held.nudges[subject] = nudge_id
    nudges.update_many(
        session,
        [{"id": i, "status": NudgeStatus.SUPERSEDED, "outbox_id": None} for i in replaced],
    )
    return len(added)


def release(session: Session, grouping: Grouping, now: datetime) -> int:
    """Let this sweep's held messages go, each naming its nudges; returns how many."""
    _still_held(session, grouping, list(grouping.held))
    empty = [h.outbox_id for h in grouping.held.values() if not h.nudges]
    if empty:  # every nudge it was for had been written before: nothing to send
        outbox.delete_by_ids(session, empty)
    outbox.let_go(
        session,
        {
            h.outbox_id: {"nudge_ids": sorted(h.nudges.values())}
            for h in grouping.held.values()
            if h.nudges
        },
        now=now,
    )
    released = len(grouping.held) - len(empty)
    grouping.held.clear()
    return released


# --- grouping ---------------------------------------------------------------------


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
            due = [Due(*row) for row in nudges.lock_due(session, now=now, limit=batches.BATCH)]
            full = len(due) == batches.BATCH
            batch = _whole_recipients(due) if full else due
            messages += _group(
                session, Calendars(session, settings, countries=countries), batch, now, held
            )
            if not full:
                return messages + release(session, held, now)


def _whole_recipients(due: list[Due]) -> list[Due]:
    """A full batch may end part-way through someone's nudges: leave that person for
    the next batch, so each person still gets one message."""
    last = (due[-1].team_id, due[-1].recipient)
    whole = [n for n in due if (n.team_id, n.recipient) != last]
    return whole or due


def _subject_ids(due: list[Due], kind: str) -> list[int]:
    named = batches.subject_ids(((n.team_id, n.subject) for n in due), kind)
    return [subject_id for ids in named.values() for subject_id in ids]


def _closed_subjects(session: Session, due: list[Due], now: datetime) -> set[str]:
    """Subjects that need nobody any more: done, held, snoozed, replied, or touched since."""
    closed: set[str] = set()
    # Only the closed ones come back: nearly every subject of a due nudge is still open.
    if ids := _subject_ids(due, "commitment"):
        closed |= {f"commitment:{i}" for i in followups.closed_among(session, ids, now)}
    if ids := _subject_ids(due, "checkin"):
        closed |= {f"checkin:{i}" for i in rhythm.done_checkins_among(session, ids)}
    if ids := _subject_ids(due, "question"):
        closed |= {f"question:{i}" for i in questions.answered_among(session, ids)}
    if ids := _subject_ids(due, "qbr"):
        next_on = rhythm.qbr_days(session, ids)
        closed |= {
            n.subject
            for n in due
            if n.subject.startswith("qbr:")
            and int(n.subject[4:]) in next_on
            and rhythm.is_answered(n.slot, next_on[int(n.subject[4:])])
        }
    return closed


def _accounts(session: Session, due: list[Due]) -> dict[int, rhythm.NudgedAccount]:
    ids = sorted({n.account_id for n in due if n.account_id is not None})
    if not ids:
        return {}
    return rhythm.nudged_accounts(session, ids)


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
    hours = Hours(calendars, now)
    ready: dict[tuple[str, str], list[Due]] = defaultdict(list)
    for nudge in due:
        account = accounts.get(nudge.account_id) if nudge.account_id is not None else None
        if account is None:
            nudge.status = NudgeStatus.CANCELLED
            continue
        touched_since = nudge.kind == "touch" and rhythm.touched_since(nudge.slot, account.since)
        # A paused account's owner hears of no fall, even one found before the pause.
        paused_fall = nudge.kind == health_watch.KIND and account_state.paused_on(
            account.paused_until, now.date()
        )
        verdict = can_go_now(
            hours,
            nudge.team_id,
            nudge.recipient,
            stage=account.stage,
            owner_id=account.owner_id,
            paused_until=account.paused_until,
            closed=nudge.subject in closed or touched_since or paused_fall,
        )
        if verdict.go:
            ready[(nudge.team_id, nudge.recipient)].append(nudge)
        elif verdict.cancel:
            nudge.status = NudgeStatus.CANCELLED
        else:
            nudge.deliver_at = verdict.until
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
    ids = outbox.enqueue_many(session, outbox_rows, now=now)
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
    nudges.update_many(session, changed)
    return len(ids)


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


def due_recipients(db: SessionFactory, *, now: datetime) -> list[tuple[str, str]]:
    """The people (not channels) grouping is about to nudge: (team, user) pairs, a
    batch's worth, for the sweep's time-zone lookups."""
    with db() as session:
        due = nudges.due_recipients(session, now=now, limit=batches.BATCH)
    return [(team_id, user_id) for team_id, user_id in due if is_user(user_id)]
