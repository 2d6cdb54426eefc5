"""From due sources to one DM per person: plan nudges, then group them in working hours.

A sweep plans (writes a `Nudge` row per reminder that fell due, unique per kind,
subject and slot), then groups: every pending nudge whose time has come is held
back until its recipient's working hours, dropped if it stopped being true, merged
with the other nudges for the same thing, and written, together with everything
else due for that person, into one outbox message.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from bot.config import Settings
from bot.services import followups, rhythm
from bot.services.calendar import WorkCalendar
from bot.services.concessions import Balance, balance_of
from bot.services.people import calendar_of, needs_timezone, prefs_of, remember_timezone
from messages import render
from storage import outbox
from storage.db import SessionFactory
from storage.models import Account, AccountStage, Commitment
from storage.scheduling_models import CheckIn, Nudge, NudgeStatus, Qbr
from storage.upsert import insert_ignore

log = logging.getLogger("rapport.nudging")

BATCH = 500
# Items shown in one DM: each takes up to three blocks, Slack allows 50.
MAX_ITEMS_PER_MESSAGE = 15

ClientForTeam = Callable[[str], WebClient]


def is_user(recipient: str) -> bool:
    return recipient.startswith(("U", "W"))


@dataclass
class Calendars:
    """Working calendars looked up once per sweep."""

    session: Session
    settings: Settings
    cache: dict[tuple[str, str | None], WorkCalendar] = field(default_factory=dict)

    def of(self, team_id: str, user_id: str | None) -> WorkCalendar:
        key = (team_id, user_id if user_id and is_user(user_id) else None)
        if key not in self.cache:
            self.cache[key] = calendar_of(
                self.session,
                team_id=team_id,
                user_id=key[1],
                default_tz=self.settings.default_tz,
                country=self.settings.holiday_country,
            )
        return self.cache[key]


# --- planning -----------------------------------------------------------------


def _write(
    session: Session, planned: Sequence[followups.PlannedNudge], team_id: str, now: datetime
) -> int:
    written = 0
    for item in planned:
        new_id = insert_ignore(
            session,
            Nudge,
            {
                "team_id": team_id,
                "kind": item.kind,
                "subject": item.subject,
                "slot": item.slot,
                "recipient": item.recipient,
                "account_id": item.account_id,
                "deliver_at": item.due_at,
                "status": NudgeStatus.PENDING,
                "created_at": now,
            },
            unique=("team_id", "kind", "subject", "slot"),
        )
        written += new_id is not None
    return written


def _escalation_target(session: Session, commitment: Commitment) -> str:
    prefs = prefs_of(session, team_id=commitment.team_id, user_id=commitment.owner_id)
    if prefs is not None and prefs.manager_id:
        return prefs.manager_id
    return commitment.account.channel_id or commitment.owner_id


def plan_due(db: SessionFactory, settings: Settings, *, now: datetime) -> int:
    """Write a nudge for every reminder due at `now`; returns how many were new."""
    written = 0
    for planner in (_plan_commitments, _plan_qbrs, _plan_checkins, _plan_touches):
        while True:
            with db.begin() as session:
                calendars = Calendars(session, settings)
                count, new = planner(session, calendars, now)
                written += new
            if count < BATCH:
                break
    return written


def _plan_commitments(session: Session, calendars: Calendars, now: datetime) -> tuple[int, int]:
    due = session.scalars(
        select(Commitment)
        .where(Commitment.next_nudge_at <= now)
        .order_by(Commitment.next_nudge_at, Commitment.id)
        .limit(BATCH)
        .options(joinedload(Commitment.account))
        .with_for_update(skip_locked=True, of=Commitment)
    ).all()
    new = 0
    for commitment in due:
        if commitment.account.stage == AccountStage.LOST:
            commitment.next_nudge_at = None
            continue
        calendar = calendars.of(commitment.team_id, commitment.owner_id)
        planned = followups.plan(
            commitment, calendar, now, escalate_to=_escalation_target(session, commitment)
        )
        new += _write(session, planned, commitment.team_id, now)
    return len(due), new


def _plan_qbrs(session: Session, calendars: Calendars, now: datetime) -> tuple[int, int]:
    due = session.scalars(
        select(Qbr)
        .where(Qbr.next_nudge_at <= now)
        .order_by(Qbr.next_nudge_at, Qbr.id)
        .limit(BATCH)
        .options(joinedload(Qbr.account))
        .with_for_update(skip_locked=True, of=Qbr)
    ).all()
    new = 0
    for qbr in due:
        calendar = calendars.of(qbr.team_id, qbr.account.owner_id)
        new += _write(session, rhythm.plan_qbr(qbr, calendar, now), qbr.team_id, now)
    return len(due), new


def _plan_checkins(session: Session, calendars: Calendars, now: datetime) -> tuple[int, int]:
    due = session.scalars(
        select(CheckIn)
        .where(CheckIn.next_nudge_at <= now)
        .order_by(CheckIn.next_nudge_at, CheckIn.id)
        .limit(BATCH)
        .options(joinedload(CheckIn.account))
        .with_for_update(skip_locked=True, of=CheckIn)
    ).all()
    new = 0
    for checkin in due:
        calendar = calendars.of(checkin.team_id, checkin.account.owner_id)
        planned = rhythm.plan_checkin(session, checkin, calendar, now)
        new += _write(session, planned, checkin.team_id, now)
    return len(due), new


def _plan_touches(session: Session, calendars: Calendars, now: datetime) -> tuple[int, int]:
    due = session.scalars(
        select(Account)
        .where(Account.touch_nudge_at <= now)
        .order_by(Account.touch_nudge_at, Account.id)
        .limit(BATCH)
        .with_for_update(skip_locked=True)
    ).all()
    new = 0
    for account in due:
        new += _write(session, rhythm.plan_touch(account, now), account.team_id, now)
    return len(due), new


# --- time zones -----------------------------------------------------------------


def refresh_timezones(db: SessionFactory, client_for: ClientForTeam, *, now: datetime) -> None:
    """Ask Slack for the time zone of everyone about to be nudged whose entry is stale."""
    with db() as session:
        recipients = session.execute(
            select(Nudge.team_id, Nudge.recipient)
            .where(Nudge.status == NudgeStatus.PENDING, Nudge.deliver_at <= now)
            .distinct()
            .limit(BATCH)
        ).all()
        stale = [
            (team, user)
            for team, user in recipients
            if is_user(user) and needs_timezone(prefs_of(session, team_id=team, user_id=user), now)
        ]
    for team, user in stale:
        try:
            answer = client_for(team).users_info(user=user)
            tz_name = answer["user"].get("tz")
        except SlackApiError as exc:
            log.info("users.info failed for %s: %s", user, exc.response.get("error"))
            tz_name = None
        with db.begin() as session:
            remember_timezone(session, team_id=team, user_id=user, tz_name=tz_name, now=now)


# --- grouping -------------------------------------------------------------------


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


def load_item(session: Session, nudge: Nudge, now: datetime) -> Item:
    kind, _, raw_id = nudge.subject.partition(":")
    item = Item(nudge=nudge)
    subject_id = int(raw_id) if raw_id.isdigit() else -1
    if kind == "commitment":
        item.commitment = followups.get_commitment(
            session, team_id=nudge.team_id, commitment_id=subject_id
        )
        item.account = item.commitment.account if item.commitment else None
        if item.commitment is not None and item.commitment.done_at is not None:
            item.closed = "done"
        elif item.commitment is not None and (item.commitment.snoozed_until or now) > now:
            item.closed = "snoozed"
    elif kind == "qbr":
        item.qbr = session.scalar(
            select(Qbr).where(Qbr.team_id == nudge.team_id, Qbr.id == subject_id)
        )
        item.account = item.qbr.account if item.qbr else None
        if item.qbr is not None and not nudge.slot.endswith(str(item.qbr.next_on)):
            item.closed = "held"
    elif kind == "checkin":
        item.checkin = session.scalar(
            select(CheckIn).where(CheckIn.team_id == nudge.team_id, CheckIn.id == subject_id)
        )
        item.account = item.checkin.account if item.checkin else None
        if item.checkin is not None and item.checkin.done_at is not None:
            item.closed = "done"
    elif kind == "account":
        item.account = session.scalar(
            select(Account).where(Account.team_id == nudge.team_id, Account.id == subject_id)
        )
        if item.account is not None:
            item.days_quiet = rhythm.days_since_touch(item.account, now)
            since = item.account.last_touch_at or item.account.won_at or item.account.created_at
            if not nudge.slot.endswith(since.date().isoformat()):
                item.closed = "touched"
    if item.account is not None and item.account.stage == AccountStage.LOST:
        item.closed = "lost"
    if item.account is not None and kind in ("qbr", "commitment"):
        item.balance = balance_of(session, team_id=nudge.team_id, account_id=item.account.id)
    if item.qbr is not None and item.account is not None:
        item.open_commitments = followups.open_commitments(
            session, team_id=nudge.team_id, account_id=item.account.id, limit=5
        )
        item.kept_since = followups.kept_since(
            session,
            team_id=nudge.team_id,
            account_id=item.account.id,
            since=item.qbr.last_held_on,
        )
    return item


def _coalesce(items: list[Item]) -> tuple[list[Item], list[Item]]:
    """One item per subject: the newest nudge about it stands for the older ones."""
    newest: dict[str, Item] = {}
    for item in items:
        current = newest.get(item.nudge.subject)
        if current is None or item.nudge.id > current.nudge.id:
            newest[item.nudge.subject] = item
    kept = sorted(newest.values(), key=lambda i: i.nudge.id)
    superseded = [i for i in items if newest[i.nudge.subject] is not i]
    return kept, superseded


def group_due(db: SessionFactory, settings: Settings, *, now: datetime) -> int:
    """Turn due nudges into outbox messages, one per recipient; returns how many."""
    messages = 0
    while True:
        with db.begin() as session:
            due = session.scalars(
                select(Nudge)
                .where(Nudge.status == NudgeStatus.PENDING, Nudge.deliver_at <= now)
                .order_by(Nudge.team_id, Nudge.recipient, Nudge.id)
                .limit(BATCH)
                .with_for_update(skip_locked=True)
            ).all()
            calendars = Calendars(session, settings)
            by_recipient: dict[tuple[str, str], list[Nudge]] = defaultdict(list)
            for nudge in due:
                by_recipient[(nudge.team_id, nudge.recipient)].append(nudge)
            for (team_id, recipient), nudges in by_recipient.items():
                messages += _group_for(session, calendars, team_id, recipient, nudges, now)
        if len(due) < BATCH:
            return messages


def _group_for(
    session: Session,
    calendars: Calendars,
    team_id: str,
    recipient: str,
    nudges: list[Nudge],
    now: datetime,
) -> int:
    calendar = calendars.of(team_id, recipient)
    opens = calendar.next_open(now)
    if opens > now:
        for nudge in nudges:
            nudge.deliver_at = opens
        return 0
    ready: list[Item] = []
    for nudge in nudges:
        item = load_item(session, nudge, now)
        if item.account is None or item.closed is not None:
            nudge.status = NudgeStatus.CANCELLED
            continue
        owner_calendar = calendars.of(team_id, item.account.owner_id)
        if rhythm.is_paused(item.account, owner_calendar.today(now)):
            assert item.account.paused_until is not None
            nudge.deliver_at = owner_calendar.opening(item.account.paused_until)
            continue
        ready.append(item)
    kept, superseded = _coalesce(ready)
    for item in superseded:
        item.nudge.status = NudgeStatus.SUPERSEDED
    if not kept:
        return 0
    first = kept[0].nudge
    outbox_id = outbox.enqueue(
        session,
        team_id=team_id,
        kind="nudges",
        subject=recipient,
        slot=f"{now:%Y%m%dT%H%M}:{first.id}",
        recipient=recipient,
        payload={},
        not_before=now,
        now=now,
    )
    if outbox_id is None:  # another worker wrote this very message
        return 0
    for item in kept:
        item.nudge.status = NudgeStatus.GROUPED
        item.nudge.outbox_id = outbox_id
    outbox.set_payload(
        session, row_id=outbox_id, payload=render_message(kept, outbox_id, recipient, now)
    )
    return 1


def render_message(
    items: list[Item], outbox_id: int, recipient: str, now: datetime
) -> dict[str, Any]:
    shown = items[:MAX_ITEMS_PER_MESSAGE]
    message = render(
        "nudge_dm",
        items=shown,
        more=len(items) - len(shown),
        ref=outbox_id,
        to_channel=not is_user(recipient),
        now=now,
    )
    message["nudge_ids"] = [item.nudge.id for item in items]
    return message


def rerender(
    session: Session, *, team_id: str, outbox_id: int, now: datetime
) -> dict[str, Any] | None:
    """The message as it should read now (after a click), or None if it is not ours."""
    row = outbox.get(session, team_id=team_id, row_id=outbox_id)
    if row is None:
        return None
    ids = row.payload.get("nudge_ids", [])
    nudges = session.scalars(
        select(Nudge).where(Nudge.team_id == team_id, Nudge.id.in_(ids)).order_by(Nudge.id)
    ).all()
    items = [load_item(session, nudge, now) for nudge in nudges]
    return render_message(items, outbox_id, row.recipient, now)
