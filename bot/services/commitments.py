"""Follow-up commitments: who promised what to which account, and by when."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.errors import UsageError
from bot.services.accounts import get_or_create_account
from bot.services.dates import end_of_day, local_today
from storage.models import Commitment

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
    tz: ZoneInfo,
    now: datetime,
) -> Commitment:
    """Record that `user_id` will do `what` for the account by the end of `due_on`."""
    today = local_today(now, tz)
    if due_on < today:
        raise UsageError(f"{due_on:%a} {due_on.day} {due_on:%b %Y} has already passed.")
    if (due_on - today).days > MAX_DAYS_AHEAD:
        raise UsageError("Pick a due date within the next two years.")
    if len(what) > MAX_COMMITMENT_TEXT:
        raise UsageError(f"Keep the follow-up under {MAX_COMMITMENT_TEXT} characters.")
    account = get_or_create_account(
        session, team_id=team_id, name=account_name, user_id=user_id, now=now
    )
    due_at = end_of_day(due_on, tz)
    commitment = Commitment(
        team_id=team_id,
        account=account,
        owner_id=user_id,
        what=what,
        due_on=due_on,
        due_at=due_at,
        created_by=user_id,
        created_at=now,
        next_nudge_at=due_at,
        nudges_sent=0,
    )
    session.add(commitment)
    session.flush()
    return commitment
