"""Follow-up commitments: who promised what to which account, and by when."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import Session

from bot.services import account_state
from bot.services.accounts import get_or_create_account
from bot.services.calendar import WorkCalendar
from bot.services.dates import end_of_day
from bot.services.errors import UsageError
from bot.services.followups import start_ladder
from storage.models import Commitment, CommitmentDirection

MAX_COMMITMENT_TEXT = 500
# A promise further out than this is a plan, not a follow-up; it also keeps typos
# such as "9999-12-31" from becoming dates.
MAX_DAYS_AHEAD = 2 * 366


def add_commitment(
    session: Session,
    *,
    team_id: str,
    account_name: str,
    user_id: str,
    what: str,
    due_on: date,
    calendar: WorkCalendar,
    now: datetime,
    direction: CommitmentDirection = CommitmentDirection.OURS,
) -> Commitment:
    """Record that `what` will be done for (or, `theirs`, by) the account by `due_on`.

    The caller owns it either way: for the buyer's promises, they are the one who
    follows up.
    """
    today = calendar.today(now)
    if due_on < today:
        raise UsageError(f"{due_on:%a} {due_on.day} {due_on:%b %Y} has already passed.")
    if (due_on - today).days > MAX_DAYS_AHEAD:
        raise UsageError("Pick a due date within the next two years.")
    if len(what) > MAX_COMMITMENT_TEXT:
        raise UsageError(f"Keep the follow-up under {MAX_COMMITMENT_TEXT} characters.")
    account = get_or_create_account(
        session, team_id=team_id, name=account_name, user_id=user_id, now=now
    )
    account_state.require_live(account, "track a follow-up on it")
    commitment = Commitment(
        team_id=team_id,
        account=account,
        owner_id=user_id,
        what=what,
        due_on=due_on,
        due_at=end_of_day(due_on, calendar.tz),
        created_by=user_id,
        created_at=now,
        nudges_sent=0,
        direction=direction,
    )
    start_ladder(commitment, calendar, now)
    session.add(commitment)
    session.flush()
    return commitment
