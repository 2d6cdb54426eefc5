"""The account lifecycle: one state machine that every command, button and sweep asks.

    prospect ──won──▶ won ──lost──▶ lost ──won──▶ won (again, scheduled from that day)
        │                             │
        └────────lost────────▶ lost ──reopen──▶ prospect

Paused is an overlay on a prospect or won account: its reminders wait until a day.
Every transition is idempotent (a repeated one says so and changes nothing) and
reversible: it lands in the account's history (storage.models) with what an
Undo needs to put back exactly what it changed. A lost account has nothing
scheduled, is left off every working list (follow-ups, overdue, health, digests,
App Home) and has no health score; it shows only where someone asks for it.

When someone other than the owner changes an account, the change is queued as a DM
to the owner (an outbox row the sweep delivers, rendered when sent), with Undo.

This module holds the transitions. What state an account is in (asked everywhere) is
bot.services.account_state, and the history of changes bot.services.account_changes:
both sit below the rhythm and the digest, which the transitions call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.services import account_changes, account_state, questions
from bot.services.account_changes import ChangeShown
from bot.services.accounts import AccountShown
from bot.services.calendar import WorkCalendar, whose_calendar
from bot.services.errors import NotAllowed, UsageError
from bot.services.followups import CommitmentShown, cancel_pending
from bot.services.rhythm import CheckInShown, QbrShown
from storage.models import (
    Account,
    AccountChange,
    AccountStage,
    CheckIn,
    Commitment,
    Nudge,
    NudgeStatus,
    Qbr,
)

# --- transitions --------------------------------------------------------------------


@dataclass(frozen=True)
class Closed:
    """What is open on an account, which a loss closes as dropped, as a reply lists it."""

    commitments: tuple[CommitmentShown, ...] = ()
    checkins: tuple[CheckInShown, ...] = ()
    qbr: QbrShown | None = None

    @property
    def count(self) -> int:
        return len(self.commitments) + len(self.checkins) + (1 if self.qbr else 0)


class _OpenRows(NamedTuple):
    """What is open on an account, as rows (a loss drops them)."""

    commitments: tuple[Commitment, ...]
    checkins: tuple[CheckIn, ...]
    qbr: Qbr | None

    def shown(self) -> Closed:
        return Closed(
            tuple(map(CommitmentShown.of, self.commitments)),
            tuple(map(CheckInShown.of, self.checkins)),
            QbrShown.of(self.qbr) if self.qbr is not None else None,
        )


@dataclass(frozen=True)
class Outcome:
    """What a stage change did, as its reply says it: plain values, read inside the
    session (built by `_outcome`)."""

    account: AccountShown
    # False: it already was in the state asked for; nothing changed.
    changed: bool
    previous_stage: str
    change: ChangeShown | None = None
    checkins: tuple[CheckInShown, ...] = ()
    closed: Closed = field(default_factory=Closed)
    # A won account's first check-in, when the calendar moved it off the day the plan
    # gave (a weekend, a day off): that day, why it is not a working one, and how
    # many days after the win it was.
    moved_from: date | None = None
    moved_why: str | None = None
    moved_days: int = 0
    # Client questions still waiting for a reply when it was lost: a loss answers none,
    # and they leave every list with the account, so its reply names them.
    waiting_questions: int = 0

    @property
    def previous_word(self) -> str:
        return account_state.stage_word(self.previous_stage)


def _outcome(
    account: Account,
    changed: bool,
    previous: str,
    *,
    change: AccountChange | None = None,
    checkins: Sequence[CheckIn] = (),
    **rest: Any,
) -> Outcome:
    return Outcome(
        AccountShown.of(account),
        changed,
        previous,
        change=ChangeShown.of(change) if change is not None else None,
        checkins=tuple(map(CheckInShown.of, checkins)),
        **rest,
    )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _from_iso(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _record_stage(
    session: Session,
    account: Account,
    kind: account_changes.ChangeKind,
    previous: str,
    *,
    actor_id: str,
    now: datetime,
    detail: dict[str, Any],
) -> AccountChange:
    """A move from `previous` to the account's stage now, into its history."""
    return account_changes.record_change(
        session,
        team_id=account.team_id,
        account_id=account.id,
        kind=kind,
        actor_id=actor_id,
        owner_id=account.owner_id,
        now=now,
        before=account_state.stage_word(previous),
        after=account_state.stage_word(account.stage),
        detail=detail,
    )


_Open = TypeVar("_Open", Commitment, CheckIn)


def _open_on(
    session: Session, account: Account, model: type[_Open], *order: Any
) -> tuple[_Open, ...]:
    """The account's follow-ups or check-ins not done yet, in `order`."""
    return tuple(
        session.scalars(
            select(model)
            .where(
                model.team_id == account.team_id,
                model.account_id == account.id,
                model.done_at.is_(None),
            )
            .order_by(*order)
        )
    )


def win(
    session: Session, account: Account, *, actor_id: str, calendar: WorkCalendar, now: datetime
) -> Outcome:
    """Won (from prospect or lost): check-ins are planned from today."""
    from bot.services import rhythm

    previous = account.stage or AccountStage.OPEN.value
    if previous == AccountStage.WON:
        return _outcome(
            account, False, previous, checkins=_open_on(session, account, CheckIn, CheckIn.due_on)
        )
    # Check-ins a loss dropped may fall on the days planned now: they are taken up
    # again, and an Undo puts them back as they were.
    dropped = {
        c.id: [_iso(c.done_at), _iso(c.dropped_at), c.done_by, c.label]
        for c in session.scalars(
            select(CheckIn).where(
                CheckIn.team_id == account.team_id,
                CheckIn.account_id == account.id,
                CheckIn.dropped_at.is_not(None),
            )
        )
    }
    before = {"stage": previous, "won_at": _iso(account.won_at), "lost_at": _iso(account.lost_at)}
    account.stage = AccountStage.WON
    account.won_at = now
    account.lost_at = None
    planned = rhythm.schedule_checkins(session, account, calendar=calendar, now=now)
    rhythm.arm_touch_clock(account, since=now)
    session.flush()
    change = _record_stage(
        session,
        account,
        account_changes.ChangeKind.WON,
        previous,
        actor_id=actor_id,
        now=now,
        detail={
            **before,
            "new": [c.id for c in planned if c.id not in dropped],
            "revived": {str(c.id): dropped[c.id] for c in planned if c.id in dropped},
        },
    )
    today = calendar.today(now)
    wanted = rhythm.first_checkin_wanted(account, today)
    moved = wanted if planned and planned[0].due_on != wanted else None
    return _outcome(
        account,
        True,
        previous,
        change=change,
        checkins=tuple(planned),
        moved_from=moved,
        moved_why=(
            calendar.why_not_working(moved, whose=whose_calendar(actor_id, account.owner_id))
            if moved is not None
            else None
        ),
        moved_days=(wanted - today).days,
    )


def lose(
    session: Session,
    account: Account,
    *,
    actor_id: str,
    now: datetime,
    reason: str | None = None,
) -> Outcome:
    """Lost: everything open on it is closed as dropped (account lost), nothing planned;
    `reason`, the rep's words of why, is kept in its history."""
    previous = account.stage or AccountStage.OPEN.value
    if previous == AccountStage.LOST:
        return _outcome(account, False, previous)
    detail: dict[str, Any] = {
        "stage": previous,
        "lost_at": _iso(account.lost_at),
        "touch_nudge_at": _iso(account.touch_nudge_at),
    }
    if reason:
        detail["reason"] = reason
    closed, dropped = _drop_everything(session, account, actor_id=actor_id, now=now)
    detail.update(dropped)
    account.stage = AccountStage.LOST
    account.lost_at = now
    account.touch_nudge_at = None
    change = _record_stage(
        session,
        account,
        account_changes.ChangeKind.LOST,
        previous,
        actor_id=actor_id,
        now=now,
        detail=detail,
    )
    return _outcome(
        account,
        True,
        previous,
        change=change,
        closed=closed,
        waiting_questions=len(
            questions.open_questions(session, team_id=account.team_id, account_id=account.id)
        ),
    )


def open_items(session: Session, account: Account) -> Closed:
    """What is open on the account: what a loss would close, what a new owner takes on."""
    return _open_rows(session, account).shown()


def _open_rows(session: Session, account: Account) -> _OpenRows:
    commitments = _open_on(session, account, Commitment, Commitment.due_on, Commitment.id)
    qbr = session.scalar(
        select(Qbr).where(
            Qbr.team_id == account.team_id, Qbr.account_id == account.id, account_state.QBR_LIVE
        )
    )
    return _OpenRows(commitments, _open_on(session, account, CheckIn, CheckIn.due_on), qbr)


def _drop_everything(
    session: Session, account: Account, *, actor_id: str, now: datetime
) -> tuple[Closed, dict[str, Any]]:
    """Close all that is open on the account as dropped; what an Undo needs to reopen it."""
    team, account_id = account.team_id, account.id
    found = _open_rows(session, account)
    commitments, checkins, qbr = found
    nudges = list(
        session.scalars(
            select(Nudge.id).where(
                Nudge.team_id == team,
                Nudge.account_id == account_id,
                Nudge.status == NudgeStatus.PENDING,
            )
        )
    )
    detail: dict[str, Any] = {
        "commitments": [[c.id, _iso(c.next_nudge_at)] for c in commitments],
        "checkins": [[c.id, _iso(c.next_nudge_at)] for c in checkins],
        "qbr": [qbr.id, _iso(qbr.next_nudge_at)] if qbr is not None else None,
        "nudges": nudges,
    }
    for commitment in commitments:
        _drop(commitment, actor_id, now)
    for checkin in checkins:
        _drop(checkin, actor_id, now)
    if qbr is not None:
        qbr.dropped_at = now
        qbr.next_nudge_at = None
    if nudges:
        session.execute(
            update(Nudge).where(Nudge.id.in_(nudges)).values(status=NudgeStatus.CANCELLED)
        )
    account.touch_nudge_at = None
    return found.shown(), detail


def _drop(row: Commitment | CheckIn, actor_id: str, now: datetime) -> None:
    row.done_at = now
    row.done_by = actor_id
    row.dropped_at = now
    row.next_nudge_at = None


def _take_back(
    row: Commitment | CheckIn | None, dropped_then: datetime, next_nudge: str | None
) -> None:
    """Reopen a row a loss dropped, unless it changed since (reopened, or gone)."""
    if row is None or row.dropped_at != dropped_then:
        return
    row.done_at = None
    row.done_by = None
    row.dropped_at = None
    # A reminder due while it was closed goes out at the next sweep.
    row.next_nudge_at = _from_iso(next_nudge)


def reopen(session: Session, account: Account, *, actor_id: str, now: datetime) -> Outcome:
    """A lost account back in play as a prospect (won again is `win`)."""
    from bot.services import rhythm

    previous = account.stage or AccountStage.OPEN.value
    if previous != AccountStage.LOST:
        return _outcome(account, False, previous)
    lost_at = account.lost_at
    account.stage = AccountStage.OPEN
    account.lost_at = None
    if account.last_touch_at is not None:
        rhythm.arm_touch_clock(account, since=account.last_touch_at)
    change = _record_stage(
        session,
        account,
        account_changes.ChangeKind.REOPENED,
        previous,
        actor_id=actor_id,
        now=now,
        detail={"lost_at": _iso(lost_at)},
    )
    return _outcome(account, True, previous, change=change)


def _pause_words(until: date | None, reason: str | None) -> str:
    if until is None:
        return "not paused"
    return f"paused until {until:%a} {until.day} {until:%b %Y}: {reason or 'no reason given'}"


def pause(
    session: Session,
    account: Account,
    *,
    until: date,
    reason: str,
    actor_id: str,
    today: date,
    now: datetime,
) -> AccountChange | None:
    account_state.require_live(account, "pause its reminders")
    if until <= today:
        raise UsageError("Pick a date after today for `until:`.")
    return _set_pause(session, account, until, reason, actor_id=actor_id, now=now)


def resume(
    session: Session, account: Account, *, actor_id: str, now: datetime
) -> AccountChange | None:
    # Nothing of a lost account's is waiting to resume: saying "back on" would not be true.
    account_state.require_live(account, "resume its reminders")
    return _set_pause(session, account, None, None, actor_id=actor_id, now=now)


def _set_pause(
    session: Session,
    account: Account,
    until: date | None,
    reason: str | None,
    *,
    actor_id: str,
    now: datetime,
) -> AccountChange | None:
    before = (account.paused_until, account.pause_reason)
    if before == (until, reason):
        return None
    account.paused_until = until
    account.pause_reason = reason
    return account_changes.record_change(
        session,
        team_id=account.team_id,
        account_id=account.id,
        kind=account_changes.ChangeKind.PAUSED
        if until is not None
        else account_changes.ChangeKind.RESUMED,
        actor_id=actor_id,
        owner_id=account.owner_id,
        now=now,
        before=_pause_words(*before),
        after=_pause_words(until, reason),
        detail={
            "until": before[0].isoformat() if before[0] is not None else None,
            "reason": before[1],
        },
    )


# Account fields set with `/rapport account X field: …`: (change kind, attribute).
FIELDS = {
    "type": (account_changes.ChangeKind.TYPE, "relationship_type"),
    "owner": (account_changes.ChangeKind.OWNER, "owner_id"),
    "expects": (account_changes.ChangeKind.EXPECTS, "expectations"),
    "channel": (account_changes.ChangeKind.CHANNEL, "channel_id"),
}


def set_field(
    session: Session,
    account: Account,
    name: str,
    value: str,
    *,
    actor_id: str,
    now: datetime,
) -> AccountChange | None:
    """Set one account field, into the history; None when it already had that value."""
    kind, attribute = FIELDS[name]
    before = getattr(account, attribute)
    if before == value:
        return None
    # The owner before the change is the one told; a new owner given the account by
    # someone else is told as well, with what they take on.
    owner = account.owner_id
    setattr(account, attribute, value)
    change = account_changes.record_change(
        session,
        team_id=account.team_id,
        account_id=account.id,
        kind=kind,
        actor_id=actor_id,
        owner_id=owner,
        now=now,
        before=before,
        after=value,
        detail={"value": before},
    )
    if kind == account_changes.ChangeKind.OWNER and value != actor_id:
        account_changes.queue_notice(session, change, recipient=value, slot="new_owner")
    return change


# --- undo ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Undone:
    """What an Undo did, as its reply says it: plain values, read inside the session."""

    change: ChangeShown
    account: AccountShown | None
    # False: it was undone before (a second click); nothing changed now.
    changed: bool

    @classmethod
    def of(cls, change: AccountChange, account: Account | None, changed: bool) -> Undone:
        shown = AccountShown.of(account) if account is not None else None
        return cls(ChangeShown.of(change), shown, changed)


def may_undo(change: AccountChange, account: Account | None, user_id: str) -> bool:
    owners = {change.actor_id, change.owner_id}
    if account is not None:
        owners.add(account.owner_id)
    return user_id in owners


def undo(
    session: Session,
    *,
    team_id: str,
    change_id: int,
    user_id: str,
    calendar: WorkCalendar,
    now: datetime,
) -> Undone:
    change = account_changes.get_change(session, team_id=team_id, change_id=change_id)
    if change is None:
        raise UsageError("That change is no longer on record, so there is nothing to undo.")
    account = session.get(Account, change.account_id) if change.account_id is not None else None
    if change.undone_at is not None:
        return Undone.of(change, account, False)
    if not may_undo(change, account, user_id):
        raise NotAllowed(
            f"Only <@{change.owner_id}> or <@{change.actor_id}>, who made the change, can undo it."
        )
    kind = account_changes.ChangeKind(change.kind)
    if kind not in _UNDO:
        raise UsageError("That was itself an Undo: make the change again instead.")
    if (
        account is not None
        and kind in account_changes.UNDO_GROUPS
        and _superseded(session, change, account)
    ):
        raise UsageError(
            f"{account.name} has changed since then (see `/rapport account {account.name} "
            "history`), so this can no longer be undone on its own."
        )
    _UNDO[kind](_Undo(session, change, account, calendar, now))
    change.undone_at = now
    change.undone_by = user_id
    # The Undo is a change of its own in the history (who undid what, before → after).
    # Not announced: the owner was told of the change it undoes, and that DM, rendered
    # when sent, says it was undone.
    account_changes.record_change(
        session,
        team_id=team_id,
        account_id=change.account_id,
        kind=account_changes.ChangeKind.UNDONE,
        actor_id=user_id,
        owner_id=account.owner_id if account is not None else change.owner_id,
        now=now,
        before=change.after,
        after=change.before,
        detail={
            "undid": {
                "id": change.id,
                "kind": change.kind,
                "actor_id": change.actor_id,
                "before": change.before,
                "after": change.after,
                "detail": change.detail,
            }
        },
        notify=False,
    )
    return Undone.of(change, account, True)


def _superseded(session: Session, change: AccountChange, account: Account) -> bool:
    group = [
        k.value
        for k, g in account_changes.UNDO_GROUPS.items()
        if g == account_changes.UNDO_GROUPS[account_changes.ChangeKind(change.kind)]
    ]
    later = session.scalar(
        select(AccountChange.id).where(
            AccountChange.team_id == change.team_id,
            AccountChange.account_id == account.id,
            AccountChange.kind.in_(group),
            AccountChange.id > change.id,
            AccountChange.undone_at.is_(None),
        )
    )
    return later is not None


@dataclass(frozen=True)
class _Undo:
    """Undoing one change: a method per kind of change (`_UNDO`), each putting back
    what that change did, from what it recorded (`detail`)."""

    session: Session
    change: AccountChange
    account: Account | None
    calendar: WorkCalendar
    now: datetime

    @property
    def detail(self) -> dict[str, Any]:
        assert self.change.detail is not None
        return self.change.detail

    @property
    def of_account(self) -> Account:
        assert self.account is not None
        return self.account

    def lost(self) -> None:
        """Put back exactly what the loss closed: the rows it dropped, as they were."""
        from bot.services import rhythm

        session, account, detail = self.session, self.of_account, self.detail
        dropped_then = self.change.at
        for row_id, next_nudge_at in detail["commitments"]:
            _take_back(session.get(Commitment, row_id), dropped_then, next_nudge_at)
        for row_id, next_nudge_at in detail["checkins"]:
            _take_back(session.get(CheckIn, row_id), dropped_then, next_nudge_at)
        if detail.get("qbr"):
            qbr = session.get(Qbr, detail["qbr"][0])
            if qbr is not None and qbr.dropped_at == dropped_then:
                qbr.dropped_at = None
                rhythm.arm_qbr(qbr, self.calendar, self.now)
        if detail["nudges"]:
            session.execute(
                update(Nudge)
                .where(Nudge.id.in_(detail["nudges"]), Nudge.status == NudgeStatus.CANCELLED)
                .values(status=NudgeStatus.PENDING)
            )
        account.stage = detail["stage"]
        account.lost_at = _from_iso(detail["lost_at"])
        account.touch_nudge_at = _from_iso(detail["touch_nudge_at"])

    def won(self) -> None:
        session, account, detail = self.session, self.of_account, self.detail
        for checkin_id in detail["new"]:
            checkin = session.get(CheckIn, checkin_id)
            if checkin is not None and checkin.done_at is None:
                cancel_pending(session, team_id=account.team_id, subject=f"checkin:{checkin_id}")
                session.delete(checkin)
        for checkin_id, (done_at, dropped_at, done_by, label) in detail["revived"].items():
            checkin = session.get(CheckIn, int(checkin_id))
            if checkin is not None and checkin.done_at is None:
                cancel_pending(session, team_id=account.team_id, subject=f"checkin:{checkin_id}")
                checkin.done_at = _from_iso(done_at)
                checkin.dropped_at = _from_iso(dropped_at)
                checkin.done_by = done_by
                checkin.label = label
                checkin.next_nudge_at = None
        account.stage = detail["stage"]
        account.won_at = _from_iso(detail["won_at"])
        account.lost_at = _from_iso(detail["lost_at"])
        if account_state.is_lost(account.stage):
            # Lost again: what was opened while it was won is dropped with it.
            _drop_everything(session, account, actor_id=self.change.actor_id, now=self.now)

    def reopened(self) -> None:
        account = self.of_account
        account.stage = AccountStage.LOST
        account.lost_at = _from_iso(self.detail["lost_at"])
        # Lost again: what was opened while it was a prospect is dropped with it.
        _drop_everything(self.session, account, actor_id=self.change.actor_id, now=self.now)

    def pause(self) -> None:
        account, detail = self.of_account, self.detail
        until = detail["until"]
        account.paused_until = date.fromisoformat(until) if until else None
        account.pause_reason = detail["reason"]

    def account_field(self) -> None:
        account, change = self.of_account, self.change
        (attribute,) = (a for k, a in FIELDS.values() if k == change.kind)
        if getattr(account, attribute) != change.after:
            raise UsageError(
                f"{account.name}'s {change.kind} has changed again since, so this can no "
                "longer be undone on its own."
            )
        setattr(account, attribute, self.detail["value"])

    def withdrawal(self) -> None:
        from storage.models import Concession

        concession = self.session.get(Concession, self.detail["concession_id"])
        if concession is not None and concession.withdrawn_at is not None:
            concession.withdrawn_at = None
            concession.withdrawn_by = None

    def digest_stop(self) -> None:
        from bot.services import digest

        digest.restart(
            self.session,
            team_id=self.change.team_id,
            subscription_id=self.detail["digest_id"],
            now=self.now,
        )


_UNDO = {
    account_changes.ChangeKind.WON: _Undo.won,
    account_changes.ChangeKind.LOST: _Undo.lost,
    account_changes.ChangeKind.REOPENED: _Undo.reopened,
    account_changes.ChangeKind.PAUSED: _Undo.pause,
    account_changes.ChangeKind.RESUMED: _Undo.pause,
    account_changes.ChangeKind.TYPE: _Undo.account_field,
    account_changes.ChangeKind.OWNER: _Undo.account_field,
    account_changes.ChangeKind.EXPECTS: _Undo.account_field,
    account_changes.ChangeKind.CHANNEL: _Undo.account_field,
    account_changes.ChangeKind.CONCESSION_WITHDRAWN: _Undo.withdrawal,
    account_changes.ChangeKind.DIGEST_STOPPED: _Undo.digest_stop,
}
