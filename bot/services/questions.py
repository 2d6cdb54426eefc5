"""Client questions on the team's reply clock.

A buyer who asks something and waits a day for the answer learns how much they
matter to us. So a question the client asked (`/followup ACCOUNT they asked: …`, or
the *Reply owed* shortcut on their message) starts a clock against the team's norm:
four working hours unless the team set another (`/followup norm: 3h`, workspace
admins). The clock runs in the working hours and days of the account's owner, who
owes the reply (bot/services/calendar.py: nights, weekends, holidays and time away do
not count), and the norm and the instant it runs out at are kept with the question,
so a later change of the norm rewrites no history.

The owner is reminded once before the clock runs out: with a quarter of the norm
left when they recorded it themselves (they know, a reminder is enough), with half of
it left when someone else flagged it for them (they may not have seen it yet). Replied
(on the reminder, the reply to the command, or `/followup ACCOUNT replied`) stops the
clock; what the reply took, in working minutes, is the KPI (`tally`): the median and
how many were answered within the norm, shown on the account card, in health and in
the weekly digest. A question answered after its clock ran out is late, and says so.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from bot.services import account_state
from bot.services.accounts import AccountShown, ShownWithAccount
from bot.services.calendar import WorkCalendar
from bot.services.errors import NotAllowed, NotFound, UsageError
from bot.services.followups import PlannedNudge, cancel_pending
from messages.formats import norm_words
from storage.models import Account, ClientQuestion, TeamCalendar
from storage.reads import lock_due_rows, plain_rows, team_rows_by_id
from storage.upsert import among

DEFAULT_NORM_MINUTES = 4 * 60
# Shorter than a quarter of an hour is a chat, not a norm; longer than a working week
# is no norm at all.
MIN_NORM_MINUTES = 15
MAX_NORM_MINUTES = 40 * 60
MAX_QUESTION = 1000
# The questions a response time is read from (the card's, health's): a quarter, long
# enough for a steady figure, short enough that an old habit fades.
REPLY_WINDOW = timedelta(days=90)
NUDGE_KIND = "reply_due"
NORM_USAGE = "/followup"
NORM_EXAMPLES = "Write it in working hours or minutes: `norm: 4h`, `norm: 90m`, `norm: 1h30`."


@dataclass(frozen=True, slots=True)
class QuestionShown(ShownWithAccount):
    """A question as a message shows it, with its account: plain values read while
    its session is open."""

    id: int
    account: AccountShown
    question: str
    owner_id: str
    recorded_by: str
    asked_at: datetime
    reply_by: datetime
    norm_minutes: int
    permalink: str | None
    answered_at: datetime | None
    reply_minutes: int | None

    @property
    def answered_late(self) -> bool:
        return self.answered_at is not None and self.answered_at > self.reply_by

    def waiting_late(self, now: datetime) -> bool:
        """Still unanswered after its clock ran out."""
        return self.answered_at is None and self.reply_by <= now


def subject_of(question: ClientQuestion) -> str:
    return f"question:{question.id}"


# --- the team's norm ------------------------------------------------------------------

_HOURS_MINUTES = re.compile(
    r"(?:(?P<hours>\d+(?:[.,]\d+)?)\s*(?:h|hr|hrs|hour|hours))?\s*"
    r"(?:(?P<minutes>\d+)\s*(?:m|min|mins|minute|minutes)?)?"
)
_CLOCK = re.compile(r"(?P<hours>\d+):(?P<minutes>\d\d)")


def read_norm(text: str) -> int:
    """A norm as people write it, in working minutes: `4h`, `4 hours`, `90m`, `1h30`,
    `1:30`, `2.5h`, or a bare `4` (hours); a UsageError saying what was read."""
    typed = " ".join(text.split()).casefold()
    found = _CLOCK.fullmatch(typed) or _HOURS_MINUTES.fullmatch(typed)
    hours = (found.group("hours") or "") if found else ""
    minutes = (found.group("minutes") or "") if found else ""
    if not typed or found is None or not (hours or minutes):
        raise UsageError(
            f"I read `norm: {text[:40]}`, which is not a length of time. {NORM_EXAMPLES}",
            usage=NORM_USAGE,
            key="norm",
        )
    bare = not hours and typed.isdigit()  # `norm: 4` is hours, as a norm is said
    total = round(float(hours.replace(",", ".") or 0) * 60) + int(minutes or 0)
    if bare:
        total = int(minutes) * 60
    if not MIN_NORM_MINUTES <= total <= MAX_NORM_MINUTES:
        raise UsageError(
            f"I read `norm: {text[:40]}` as {norm_words(total)}. The norm can be from "
            f"{norm_words(MIN_NORM_MINUTES)} to {norm_words(MAX_NORM_MINUTES)}.",
            usage=NORM_USAGE,
            key="norm",
        )
    return total


def team_norm(session: Session, *, team_id: str) -> int:
    """The team's reply norm in working minutes (the default until someone sets one)."""
    settings = session.get(TeamCalendar, team_id)
    if settings is None or settings.reply_norm_minutes is None:
        return DEFAULT_NORM_MINUTES
    return settings.reply_norm_minutes


def set_team_norm(
    session: Session,
    *,
    team_id: str,
    minutes: int,
    user_id: str,
    is_workspace_admin: bool,
    now: datetime,
) -> int:
    """Change the team's norm: a promise the whole team keeps, so admins and owners only."""
    if is_workspace_admin:
        chosen = TeamCalendar.for_change(session, team_id=team_id, user_id=user_id, now=now)
        chosen.reply_norm_minutes = minutes
        return minutes
    raise NotAllowed(
        "Only a Slack workspace admin or owner can change the team's reply norm. It stays "
        f"at {norm_words(team_norm(session, team_id=team_id))}; ask an admin to run "
        f"`/followup norm: {typed_norm(minutes)}` if it should change."
    )


def typed_norm(minutes: int) -> str:
    """A norm as `norm:` reads it back: `4h`, `1h30`, `45m`."""
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest}m"
    return f"{hours}h{rest:02d}" if rest else f"{hours}h"


# --- a question on the clock -------------------------------------------------------------


@dataclass(frozen=True)
class Recorded:
    """A question put on the clock, as the reply tells it."""

    question: QuestionShown
    # The owner's reminder before the clock runs out (None: none will come).
    remind_at: datetime | None
    # When the clock started: the first working moment of the owner's at or after
    # the question (later than `asked_at` when it came outside their hours).
    clock_from: datetime
    # The same message was already on the clock: nothing new was recorded.
    already: bool = False

    @property
    def spans_time_off(self) -> bool:
        """The clock stops over time the owner does not work before it runs out."""
        q = self.question
        return (q.reply_by - self.clock_from).total_seconds() > q.norm_minutes * 60


def clean_question(text: str) -> str:
    """The question as it is kept: spaces tidied; refused when empty or too long."""
    question = " ".join(text.split())
    if not question:
        raise UsageError("Say what they asked, after `asked:`.", key="asked")
    if len(question) > MAX_QUESTION:
        raise UsageError(
            f"Keep the question under {MAX_QUESTION:,} characters; yours has {len(question):,}.",
            key="asked",
        )
    return question


@dataclass(frozen=True)
class Asked:
    """What the client asked, when, and who put it on the clock (from their message,
    with the shortcut: its link, so one message is on the clock once)."""

    text: str
    at: datetime
    by: str
    permalink: str | None = None


def ask(
    session: Session,
    account: Account,
    asked: Asked,
    *,
    calendar: WorkCalendar,
    norm_minutes: int,
    now: datetime,
) -> Recorded:
    """Put the client's question on the clock, owed by the account's owner; `calendar`
    is the owner's. A message flagged twice is on the clock once."""
    text = clean_question(asked.text)
    account_state.require_live(account, "start a reply clock on it")
    at = min(asked.at, now)  # a message's time a little ahead of ours
    flagged = _flagged(session, account, asked.permalink, text)
    if flagged is not None:
        clock_from = calendar.next_open(flagged.asked_at)
        return Recorded(QuestionShown.of(flagged), flagged.next_nudge_at, clock_from, True)
    row = ClientQuestion(team_id=account.team_id, account=account, question=text)
    row.owner_id, row.asked_at, row.recorded_at = account.owner_id, at, now
    row.recorded_by, row.permalink = asked.by, asked.permalink
    row.norm_minutes = norm_minutes
    row.reply_by = calendar.after_working(at, norm_minutes)
    # The owner's own: a reminder with a quarter of the norm left; someone else's flag
    # reaches them with half of it left. Past that already, the owner who recorded it
    # is looking at it now; anyone else's flag goes to the owner at once.
    lead = norm_minutes // 4 if asked.by == row.owner_id else norm_minutes // 2
    remind_at: datetime | None = calendar.after_working(at, norm_minutes - lead)
    if remind_at is not None and remind_at <= now:
        remind_at = None if asked.by == row.owner_id else now
    row.next_nudge_at = remind_at
    session.add(row)
    session.flush()
    shown = QuestionShown.of(row, AccountShown.of(account))
    return Recorded(shown, remind_at, calendar.next_open(at))


def _flagged(
    session: Session, account: Account, link: str | None, text: str
) -> ClientQuestion | None:
    """The account's question still waiting from the message `link` names, or, typed,
    the same words (case and spacing aside): one question, on the clock since it was
    first asked, however often it is flagged or typed again."""
    waiting = open_questions(session, team_id=account.team_id, account_id=account.id)
    if link is not None:
        return next((q for q in waiting if q.permalink == link), None)
    same = text.casefold()
    return next((q for q in waiting if q.question.casefold() == same), None)


def question_by_id(session: Session, *, team_id: str, question_id: int) -> ClientQuestion:
    """The team's question a button names; NotFound when it is gone or another team's."""
    rows = team_rows_by_id(
        session, ClientQuestion, team_id=team_id, ids=[question_id], with_account=True
    )
    if question_id not in rows:
        raise NotFound("That question is not on the clock any more.")
    found: ClientQuestion = rows[question_id]
    return found


def mark_replied(
    session: Session,
    question: ClientQuestion,
    *,
    user_id: str,
    calendar: WorkCalendar,
    now: datetime,
) -> bool:
    """Stop the clock: replied now, by `user_id`; what it took counted in `calendar`'s
    working time (the owner's). False when it was replied to already."""
    if question.answered_at is not None:
        return False
    question.answered_at = now
    question.answered_by = user_id
    question.reply_minutes = calendar.working_minutes(question.asked_at, now)
    question.next_nudge_at = None
    cancel_pending(session, team_id=question.team_id, subject=subject_of(question))
    return True


def open_questions(session: Session, *, team_id: str, account_id: int) -> list[ClientQuestion]:
    """The account's questions still waiting for a reply, oldest first."""
    return list(
        session.scalars(
            select(ClientQuestion)
            .where(
                ClientQuestion.team_id == team_id,
                ClientQuestion.account_id == account_id,
                ClientQuestion.answered_at.is_(None),
            )
            .options(joinedload(ClientQuestion.account))
            .order_by(ClientQuestion.asked_at, ClientQuestion.id)
        )
    )


def reply_to_all(
    session: Session, account: Account, *, user_id: str, calendar: WorkCalendar, now: datetime
) -> list[QuestionShown]:
    """`/followup ACCOUNT replied`: every question of the account still waiting, replied
    now (one answer usually covers what piled up); NotFound when none waits."""
    waiting = open_questions(session, team_id=account.team_id, account_id=account.id)
    if not waiting:
        raise NotFound(f"No question from {account.name} is waiting for a reply.")
    shown = AccountShown.of(account)
    for question in waiting:
        mark_replied(session, question, user_id=user_id, calendar=calendar, now=now)
    return [QuestionShown.of(question, shown) for question in waiting]


@dataclass(frozen=True)
class OwedReplies:
    """The questions one person owes a reply to, as App Home and `/rapport due` list
    them: soonest due first (so the overdue ones lead), capped, with how many more."""

    questions: tuple[QuestionShown, ...]
    more: int
    now: datetime  # what "overdue" is read against


def owed_replies(
    session: Session,
    *,
    team_id: str,
    now: datetime,
    limit: int,
    user_id: str | None = None,
    account_id: int | None = None,
) -> OwedReplies:
    """The questions still waiting for a reply that `user_id` owes, on the team's
    accounts that are not lost (a loss plans no reminder, and the account leaves a
    person's lists), or that `account_id` is owed, whoever owes them and lost or not
    (`/followup ACCOUNT`: a loss answers no question, and `/rapport lost` says they
    still wait); `limit` at most."""
    waiting = (
        ClientQuestion.team_id == team_id,
        ClientQuestion.answered_at.is_(None),
        *([] if user_id is None else [ClientQuestion.owner_id == user_id]),
        *([account_state.WORKING] if account_id is None else []),
        *([] if account_id is None else [ClientQuestion.account_id == account_id]),
    )
    rows = session.scalars(
        select(ClientQuestion)
        .join(Account, Account.id == ClientQuestion.account_id)
        .where(*waiting)
        .options(joinedload(ClientQuestion.account))
        .order_by(ClientQuestion.reply_by, ClientQuestion.id)
        .limit(limit + 1)
    ).all()
    more = 0
    if len(rows) > limit:
        counted = select(func.count(ClientQuestion.id)).join(
            Account, Account.id == ClientQuestion.account_id
        )
        more = (session.scalar(counted.where(*waiting)) or 0) - limit
    shown = tuple(QuestionShown.of(q) for q in rows[:limit])
    return OwedReplies(shown, more, now)


# --- the KPI ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ReplyTally:
    """How the questions of a period were answered: the response-time KPI."""

    answered: int = 0
    within: int = 0  # answered before their clock ran out
    waiting_late: int = 0  # not answered, and past their clock
    median_minutes: int | None = None  # of the answered ones, in working minutes

    @property
    def late(self) -> int:
        return self.answered - self.within

    @property
    def counted(self) -> int:
        """Questions whose outcome is known: answered, or already late."""
        return self.answered + self.waiting_late

    @property
    def empty(self) -> bool:
        return not self.counted


def tally(
    rows: Iterable[tuple[datetime, datetime | None, int | None]], now: datetime
) -> ReplyTally:
    """(reply by, answered at, reply minutes) of some questions, summed up at `now`. A
    question still inside its clock counts nowhere yet."""
    taken: list[int] = []
    within = waiting_late = 0
    for reply_by, answered_at, minutes in rows:
        if answered_at is None:
            waiting_late += reply_by <= now
            continue
        taken.append(minutes or 0)
        within += answered_at <= reply_by
    median = round(statistics.median(taken)) if taken else None
    return ReplyTally(len(taken), within, waiting_late, median)


@dataclass(frozen=True)
class AccountReplies:
    """An account's questions, as its card shows them: the tally of the window, and the
    latest questions (those still waiting first)."""

    tally: ReplyTally
    recent: tuple[QuestionShown, ...]
    waiting: int
    norm_minutes: int  # the team's norm now
    now: datetime  # what "waiting past the norm" is read against


QUESTIONS_SHOWN = 5


def account_replies(
    session: Session, *, team_id: str, account: AccountShown, since: datetime, now: datetime
) -> AccountReplies:
    rows = session.scalars(
        select(ClientQuestion)
        .where(
            ClientQuestion.team_id == team_id,
            ClientQuestion.account_id == account.id,
            (ClientQuestion.asked_at >= since) | ClientQuestion.answered_at.is_(None),
        )
        .order_by(ClientQuestion.asked_at.desc(), ClientQuestion.id.desc())
    ).all()
    counted = [q for q in rows if q.asked_at >= since]
    waiting = [q for q in rows if q.answered_at is None]
    answered = [q for q in rows if q.answered_at is not None]
    shown = [QuestionShown.of(q, account) for q in (*waiting, *answered)[:QUESTIONS_SHOWN]]
    return AccountReplies(
        tally(((q.reply_by, q.answered_at, q.reply_minutes) for q in counted), now),
        tuple(shown),
        len(waiting),
        team_norm(session, team_id=team_id),
        now,
    )


# --- the sweep's reads and writes (bot/scheduler/plan.py, group.py) ----------------------


def lock_due(session: Session, *, now: datetime, limit: int) -> Sequence[ClientQuestion]:
    """Up to `limit` questions whose reminder is due by `now`, with their accounts,
    locked for this transaction (another worker's skipped)."""
    return lock_due_rows(session, ClientQuestion, now=now, limit=limit)


def plan(question: ClientQuestion) -> list[PlannedNudge]:
    """The owner's reminder, once, if the question still waits and its account is
    worked on; the clock's end names its slot."""
    due = question.next_nudge_at
    question.next_nudge_at = None
    if due is None or question.answered_at is not None:
        return []
    if not account_state.schedules(question.account.stage):
        return []
    return [
        PlannedNudge(
            NUDGE_KIND,
            subject_of(question),
            f"by:{question.reply_by.isoformat()}",
            question.owner_id,
            question.account_id,
            due,
        )
    ]


def answered_among(session: Session, ids: Sequence[int]) -> set[int]:
    """Those of the questions `ids` replied to."""
    return {
        question_id
        for (question_id,) in plain_rows(
            session,
            select(ClientQuestion.id).where(
                among(session, ClientQuestion.id, ids), ClientQuestion.answered_at.is_not(None)
            ),
        )
    }
