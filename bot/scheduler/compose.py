"""What a nudge DM shows: its items as they are now, rendered for its reader.

The sweep writes an outbox row per person naming their nudges; the row is rendered
when it is sent (`composer`, handed to delivery) and again when a button on it
changes something (`rerender`, from handlers/nudges.py), so the message
always shows its items as they are then: done, snoozed, answered and touched items
say so, the most urgent come first, and words about days are the reader's.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.config import Settings
from bot.scheduler import notices
from bot.scheduler.batches import is_user, subject_ids
from bot.services import (
    account_state,
    buyer_scores,
    coaching,
    due,
    followups,
    health_watch,
    rhythm,
)
from bot.services.accounts import AccountShown, account_by_id
from bot.services.coaching import Advice
from bot.services.concessions import Balance, balance_of
from bot.services.errors import NotFound
from bot.services.followups import CommitmentShown
from bot.services.governance import plan_of
from bot.services.health_watch import FallShown
from bot.services.people import prefs_of, zone
from bot.services.questions import QuestionShown
from bot.services.ratings import RatingShown, first_ratings
from bot.services.rhythm import CheckInShown, QbrShown
from bot.services.shown import Shown
from messages import render
from messages.ids import NudgeRef
from messages.playbook import Playbook, load_playbook
from storage import nudges as stored_nudges
from storage import outbox, reads
from storage.models import Account, CheckIn, ClientQuestion, Commitment, Nudge, OutboxMessage, Qbr

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

# Items shown in one DM: each takes up to three blocks, Slack allows 50.
MAX_ITEMS_PER_MESSAGE = 15
UTC_ZONE = ZoneInfo("UTC")


@dataclass(frozen=True, slots=True)
class NudgeShown(Shown):
    """A nudge as its DM item shows it."""

    id: int
    kind: str
    subject: str  # `<kind>:<id>`, as the item's block id names it
    slot: str


@dataclass(frozen=True, slots=True)
class Item:
    """A nudge with what it is about, as the DM shows it: plain values, read while the
    session is open, so rendering needs no database."""

    nudge: NudgeShown
    account: AccountShown | None = None
    commitment: CommitmentShown | None = None
    qbr: QbrShown | None = None
    checkin: CheckInShown | None = None
    balance: Balance | None = None
    open_commitments: tuple[CommitmentShown, ...] = ()
    closed: str | None = None  # why it needs no action any more, once it doesn't
    days_quiet: int = 0
    kept_since: int = 0
    kpis: str | None = None  # from the account's governance plan, for a QBR agenda
    rating: RatingShown | None = None  # the buyer's answer recorded from a check-in nudge
    advice: Advice | None = None  # what the playbook says to do next (after a rating)
    question: QuestionShown | None = None  # a client's question waiting for our reply
    health_fall: FallShown | None = None  # an account's health fell (health_watch)

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
        if self.question is not None:
            return self.question.reply_by.date()
        return None


def _load(
    session: Session, nudges: Sequence[Nudge], kind: str, model: Any, with_account: bool
) -> dict[tuple[str, int], Any]:
    """The subjects of `kind` the nudges name, keyed by (team, id), one query per team."""
    found: dict[tuple[str, int], Any] = {}
    for team_id, ids in subject_ids(((n.team_id, n.subject) for n in nudges), kind).items():
        rows = reads.team_rows_by_id(
            session, model, team_id=team_id, ids=ids, with_account=with_account
        )
        found.update(((team_id, row_id), row) for row_id, row in rows.items())
    return found


def load_items(
    session: Session, nudges: Sequence[Nudge], now: datetime, playbook: Playbook | None = None
) -> list[Item]:
    """What each nudge is about, read in one query per kind of subject; `playbook`
    (the deployment's, else the built-in one) says what to do after a rating."""
    subjects = _Subjects(
        commitments=_load(session, nudges, "commitment", Commitment, True),
        qbrs=_load(session, nudges, "qbr", Qbr, True),
        checkins=_load(session, nudges, "checkin", CheckIn, True),
        accounts=_load(session, nudges, "account", Account, False),
        questions=_load(session, nudges, "question", ClientQuestion, True),
        watched=_load(session, nudges, health_watch.SUBJECT, Account, False),
    )
    ratings = _ratings(session, subjects.checkins.values())
    read = _Read(session, now, playbook or load_playbook())
    return [_item(nudge, subjects, ratings, read) for nudge in nudges]


@dataclass(frozen=True)
class _Read:
    """What every item of one message is read with."""

    session: Session
    now: datetime
    playbook: Playbook


@dataclass(frozen=True)
class _Subjects:
    commitments: dict[tuple[str, int], Commitment]
    qbrs: dict[tuple[str, int], Qbr]
    checkins: dict[tuple[str, int], CheckIn]
    accounts: dict[tuple[str, int], Account]
    questions: dict[tuple[str, int], ClientQuestion]
    watched: dict[tuple[str, int], Account]  # accounts whose health fell


def _item(
    nudge: Nudge,
    subjects: _Subjects,
    ratings: dict[tuple[str, int], RatingShown],
    read: _Read,
) -> Item:
    """One nudge's item, from the subjects read for the whole message."""
    session, now = read.session, read.now
    kind, _, raw = nudge.subject.partition(":")
    key = (nudge.team_id, int(raw) if raw.isdigit() else -1)
    shown = NudgeShown.of(nudge)
    account: Account | None = None
    if kind == "commitment" and key in subjects.commitments:
        commitment = subjects.commitments[key]
        account = commitment.account
        promise = CommitmentShown.of(commitment)
        closed = followups.closed_reason(commitment.done_at, commitment.snoozed_until, now)
        item = Item(shown, promise.account, commitment=promise, closed=closed)
    elif kind == "qbr" and key in subjects.qbrs:
        qbr = subjects.qbrs[key]
        account = qbr.account
        review = QbrShown.of(qbr)
        if rhythm.is_answered(nudge.slot, qbr.next_on):
            item = Item(shown, review.account, qbr=review, closed="answered")
        elif nudge.kind in ("qbr_lead", "qbr_eve"):
            balance, still_open, kept, kpis = _agenda(session, qbr)
            item = Item(
                shown,
                review.account,
                qbr=review,
                balance=balance,
                open_commitments=still_open,
                kept_since=kept,
                kpis=kpis,
            )
        else:
            item = Item(shown, review.account, qbr=review)
    elif kind == "checkin" and key in subjects.checkins:
        checkin = subjects.checkins[key]
        account = checkin.account
        check = CheckInShown.of(checkin)
        closed = "done" if checkin.done_at is not None else None
        rating = ratings.get(key)
        advice = (
            coaching.for_answer(read.playbook, buyer_scores.next_move(rating.kind, rating.score))
            if rating is not None
            else None
        )
        item = Item(
            shown, check.account, checkin=check, closed=closed, rating=rating, advice=advice
        )
    elif kind == "question" and key in subjects.questions:
        waiting = subjects.questions[key]
        account = waiting.account
        asked = QuestionShown.of(waiting)
        closed = "replied" if waiting.answered_at is not None else None
        item = Item(shown, asked.account, question=asked, closed=closed)
    elif kind == health_watch.SUBJECT and key in subjects.watched:
        account = subjects.watched[key]
        fell = health_watch.fall_shown(
            session,
            team_id=nudge.team_id,
            account_id=account.id,
            day=date.fromisoformat(nudge.slot),
            now=now,
            playbook=read.playbook,
        )
        recovered = fell is None or fell.recovered
        item = Item(
            shown,
            AccountShown.of(account),
            health_fall=fell,
            closed="recovered" if recovered else None,
        )
    elif kind == "person" and nudge.account_id is not None:
        # The one-time note that overdue follow-ups reach nobody else.
        account = _account(session, nudge.team_id, nudge.account_id)
        item = Item(shown, AccountShown.of(account) if account is not None else None)
    elif kind == "account" and key in subjects.accounts:
        account = subjects.accounts[key]
        last = rhythm.last_touched(account)
        touched = rhythm.touched_since(nudge.slot, last)
        item = Item(
            shown,
            AccountShown.of(account),
            days_quiet=rhythm.days_quiet(last, now),
            closed="touched" if touched else None,
        )
    else:
        item = Item(shown)
    if account is not None and account_state.is_lost(account.stage):
        return replace(item, closed="lost")
    return item


def _account(session: Session, team_id: str, account_id: int) -> Account | None:
    try:
        return account_by_id(session, team_id=team_id, account_id=account_id)
    except NotFound:
        return None


def _ratings(session: Session, checkins: Iterable[CheckIn]) -> dict[tuple[str, int], RatingShown]:
    """The rating recorded for each check-in shown (its first), one query per team."""
    by_team: dict[str, list[int]] = defaultdict(list)
    for checkin in checkins:
        by_team[checkin.team_id].append(checkin.id)
    return {
        (team_id, checkin_id): rating
        for team_id, wanted in by_team.items()
        for checkin_id, rating in first_ratings(
            session, team_id=team_id, checkin_ids=wanted
        ).items()
    }


def _agenda(
    session: Session, qbr: Qbr
) -> tuple[Balance, tuple[CommitmentShown, ...], int, str | None]:
    """A QBR reminder's draft agenda, built from the account: its give/get balance, its
    open follow-ups (five), the promises kept since the last review, the agreed KPIs."""
    team_id, account_id = qbr.team_id, qbr.account_id
    plan = plan_of(session, team_id=team_id, account_id=account_id)
    return (
        balance_of(session, team_id=team_id, account_id=account_id),
        tuple(
            CommitmentShown.of(commitment)
            for commitment in followups.open_commitments(
                session, team_id=team_id, account_id=account_id, limit=5
            )
        ),
        followups.kept_since(
            session, team_id=team_id, account_id=account_id, since=qbr.last_held_on
        ),
        plan.kpis if plan is not None else None,
    )


# --- rendering ------------------------------------------------------------------


def render_message(
    items: list[Item],
    outbox_id: int,
    recipient: str,
    now: datetime,
    today: date,
    tz: ZoneInfo = UTC_ZONE,
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
        tz=tz,
    )


def recipient_zone(
    session: Session, *, team_id: str, recipient: str, default_tz: ZoneInfo
) -> ZoneInfo:
    """The time zone the message is read in (the team's default zone for a channel)."""
    prefs = prefs_of(session, team_id=team_id, user_id=recipient) if is_user(recipient) else None
    return (
        zone(prefs.tz_override or prefs.slack_tz, default_tz) if prefs is not None else default_tz
    )


def compose(
    session: Session,
    row: OutboxMessage,
    now: datetime,
    *,
    default_tz: ZoneInfo = UTC_ZONE,
    playbook_file: Path | None = None,
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
    nudges = stored_nudges.of_message(
        session, team_id=row.team_id, outbox_id=row.id, ids=row.payload["nudge_ids"]
    )
    items = load_items(session, nudges, now, load_playbook(playbook_file))
    if row.message_ts is None and all(item.closed for item in items):
        return None
    tz = recipient_zone(
        session, team_id=row.team_id, recipient=row.recipient, default_tz=default_tz
    )
    return render_message(items, row.id, row.recipient, now, now.astimezone(tz).date(), tz)


def composer(settings: Settings) -> Callable[[Session, OutboxMessage, datetime], Any]:
    """`compose` for this deployment: its people default to its time zone, and are
    coached from its playbook (PLAYBOOK_FILE merged over the built-in one)."""
    return functools.partial(
        compose, default_tz=settings.default_tz, playbook_file=settings.playbook_file
    )


def rerender(
    session: Session, settings: Settings, *, team_id: str, outbox_id: int, now: datetime
) -> dict[str, Any] | None:
    """The message as it should read now (after a click), or None if it is not ours."""
    row = outbox.team_row(session, team_id=team_id, row_id=outbox_id)
    if row is None:
        return None
    return composer(settings)(session, row, now)


def holds(session: Session, *, team_id: str, ref: NudgeRef) -> bool:
    """Whether the reminder a button names (`ref`, its item's block id) still holds that
    item: a button on a message this database no longer has, or on an item a newer
    reminder took over, is out of date."""
    return stored_nudges.in_message(
        session,
        team_id=team_id,
        nudge_id=ref.nudge_id,
        outbox_id=ref.outbox_id,
        subject=f"{ref.kind}:{ref.subject_id}",
    )
