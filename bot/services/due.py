"""What needs a person now: the order a reminder DM shows its items in, and the
full list behind it (`/rapport due`: replies owed to clients' questions, follow-ups,
QBRs, check-ins, quiet accounts).

One order: what is due today first, then what is overdue, then the rest (what is
coming up, someone else's promise escalated to you, notes), newest first within
each. So a DM that cannot show everything never hides today's items behind older
escalations.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import IntEnum
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from bot.services import account_state, rhythm
from bot.services.accounts import AccountShown
from bot.services.followups import CommitmentShown, LadderStep
from bot.services.questions import OwedReplies, owed_replies
from bot.services.rhythm import CheckInShown, QbrShown
from storage.models import (
    Account,
    AccountStage,
    CheckIn,
    Commitment,
    CommitmentDirection,
    Qbr,
    UserPrefs,
)
from storage.orgs import people_scope_sql

# How far ahead `/rapport due` looks, and how many of each kind it lists.
AHEAD = timedelta(days=7)
QBRS_AHEAD = timedelta(days=14)
MAX_PER_KIND = 15
# Replies owed: fewer, as each line carries its question.
MAX_QUESTIONS = 10

_T = TypeVar("_T")
_OPEN = Commitment.done_at.is_(None)


class Urgency(IntEnum):
    TODAY = 0
    OVERDUE = 1
    REST = 2  # coming up, escalated to you about someone else's promise, notes


# Nudge kinds about someone else's work: never ahead of your own due and overdue ones.
ABOUT_OTHERS = frozenset({"followup_escalation"})


def urgency(kind: str, day: date | None, today: date) -> Urgency:
    """How urgent a reminder is for its reader on `today`; `day` is the day it is
    about (a follow-up's due day, a check-in's, a QBR's), None for a quiet account."""
    if kind in ABOUT_OTHERS or day is None or day > today:
        return Urgency.REST
    return Urgency.TODAY if day == today else Urgency.OVERDUE


@dataclass(frozen=True)
class Ranked:
    """Something to sort: its urgency and a number that grows with newness."""

    urgency: Urgency
    newness: int


def by_urgency(ranks: Sequence[Ranked]) -> list[int]:
    """Positions of `ranks` in the order to show them: most urgent first, then newest."""
    return sorted(range(len(ranks)), key=lambda i: (ranks[i].urgency, -ranks[i].newness))


# --- /rapport due ---------------------------------------------------------------


@dataclass(frozen=True)
class DueList:
    """Everything one person has due or coming up, by kind, each list capped: plain
    values, read while the session is open."""

    today: date
    # Replies owed to clients' questions: listed first, as their clock runs in hours.
    owed: OwedReplies | None = None
    followups: list[CommitmentShown] = field(default_factory=list)
    escalated: list[CommitmentShown] = field(default_factory=list)
    qbrs: list[QbrShown] = field(default_factory=list)
    checkins: list[CheckInShown] = field(default_factory=list)
    quiet: list[tuple[AccountShown, int]] = field(default_factory=list)  # (account, days quiet)
    more: dict[str, int] = field(default_factory=dict)  # kind -> how many not listed

    @property
    def empty(self) -> bool:
        owed = self.owed is not None and self.owed.questions
        return not (
            owed or self.followups or self.escalated or self.qbrs or self.checkins or self.quiet
        )


def _capped(rows: Sequence[_T], kind: str, more: dict[str, int]) -> list[_T]:
    if len(rows) > MAX_PER_KIND:
        more[kind] = len(rows) - MAX_PER_KIND
    return list(rows[:MAX_PER_KIND])


def _on_live_accounts(
    session: Session, day: Any, until: date, team_id: str, *where: Any
) -> Sequence[Any]:
    """Rows (with their account) on the team's accounts that are not lost, whose `day`
    (a column: a follow-up's due day, a QBR's) is `until` or before, soonest first."""
    model = day.class_
    return session.scalars(
        select(model)
        .join(Account, Account.id == model.account_id)
        .where(model.team_id == team_id, account_state.WORKING, day <= until, *where)
        .options(joinedload(model.account))
        .order_by(day, model.id)
    ).all()


def due_list(
    session: Session, *, team_id: str, user_id: str, today: date, now: datetime
) -> DueList:
    """What `user_id` has due today, overdue or coming up within a week (QBRs two),
    on accounts that are not lost, plus promises escalated to them as a manager; and
    first, every reply they owe to a client's question, whenever it is due."""
    more: dict[str, int] = {}
    week, mine = today + AHEAD, Account.owner_id == user_id
    followups = _on_live_accounts(
        session, Commitment.due_on, week, team_id, Commitment.owner_id == user_id, _OPEN
    )
    # Who named me their manager: in their settings, kept under their org if the team
    # is in one (bot.services.people), so a link made in one workspace holds in each.
    reports = select(UserPrefs.user_id).where(
        UserPrefs.team_id == people_scope_sql(team_id), UserPrefs.manager_id == user_id
    )
    # Our promises past the last rung of their ladder, of the people who report to me.
    escalated = _on_live_accounts(
        session,
        Commitment.due_on,
        week,
        team_id,
        Commitment.owner_id.in_(reports),
        Commitment.owner_id != user_id,
        _OPEN,
        Commitment.direction == CommitmentDirection.OURS,
        Commitment.ladder_step >= LadderStep.FINISHED,
    )
    qbrs = _on_live_accounts(
        session, Qbr.next_on, today + QBRS_AHEAD, team_id, mine, account_state.QBR_LIVE
    )
    won = Account.stage == AccountStage.WON
    checkins = _on_live_accounts(
        session, CheckIn.due_on, week, team_id, mine, won, CheckIn.done_at.is_(None)
    )
    quiet = []
    for account in session.scalars(
        select(Account)
        .where(
            Account.team_id == team_id,
            Account.owner_id == user_id,
            account_state.WORKING,
        )
        .order_by(Account.name)
    ):
        days = rhythm.days_since_touch(account, now)
        if days >= rhythm.touch_intervals(account)[1]:
            quiet.append((account, days))
    quiet.sort(key=lambda pair: -pair[1])
    return DueList(
        today=today,
        owed=owed_replies(session, team_id=team_id, user_id=user_id, now=now, limit=MAX_QUESTIONS),
        followups=[CommitmentShown.of(c) for c in _capped(followups, "followups", more)],
        escalated=[CommitmentShown.of(c) for c in _capped(escalated, "escalated", more)],
        qbrs=[QbrShown.of(qbr) for qbr in _capped(qbrs, "qbrs", more)],
        checkins=[CheckInShown.of(checkin) for checkin in _capped(checkins, "checkins", more)],
        quiet=[(AccountShown.of(a), days) for a, days in _capped(quiet, "quiet", more)],
        more=more,
    )
