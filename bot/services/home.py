"""What a user's App Home shows: their accounts, open commitments and recent gives."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from bot.services.rhythm import days_since_touch, touch_intervals
from storage.models import Account, AccountStage, Commitment, Concession

HOME_LIST_LIMIT = 10
# How many owned accounts the Home tab looks through for ones going quiet.
MAX_OWNED_ACCOUNTS = 500


@dataclass(frozen=True)
class Cooling:
    """An account past the ideal gap between touches for its relationship type."""

    account: Account
    days_quiet: int
    ideal_days: int


@dataclass(frozen=True)
class HomeSummary:
    accounts: list[Account]
    open_commitments: list[Commitment]
    recent_concessions: list[Concession]
    more_commitments: bool
    cooling: list[Cooling]


def cooling_accounts(accounts: list[Account], now: datetime) -> list[Cooling]:
    """Accounts quiet for longer than their type's ideal gap, quietest first."""
    cooling = []
    for account in accounts:
        if account.stage == AccountStage.LOST:
            continue
        ideal, _ = touch_intervals(account)
        quiet = days_since_touch(account, now)
        if quiet > ideal:
            cooling.append(Cooling(account=account, days_quiet=quiet, ideal_days=ideal))
    return sorted(cooling, key=lambda c: -c.days_quiet)


def home_summary(session: Session, *, team_id: str, user_id: str, now: datetime) -> HomeSummary:
    owned = list(
        session.scalars(
            select(Account)
            .where(Account.team_id == team_id, Account.owner_id == user_id)
            .order_by(Account.name)
            .limit(MAX_OWNED_ACCOUNTS)
        )
    )
    accounts = owned[:HOME_LIST_LIMIT]
    commitments = list(
        session.scalars(
            select(Commitment)
            .where(
                Commitment.team_id == team_id,
                Commitment.owner_id == user_id,
                Commitment.done_at.is_(None),
            )
            .order_by(Commitment.due_on, Commitment.id)
            .options(joinedload(Commitment.account))
            .limit(HOME_LIST_LIMIT + 1)
        )
    )
    concessions = list(
        session.scalars(
            select(Concession)
            .where(Concession.team_id == team_id, Concession.logged_by == user_id)
            .order_by(Concession.logged_at.desc(), Concession.id.desc())
            .options(joinedload(Concession.account))
            .limit(5)
        )
    )
    return HomeSummary(
        accounts=accounts,
        open_commitments=commitments[:HOME_LIST_LIMIT],
        recent_concessions=concessions,
        more_commitments=len(commitments) > HOME_LIST_LIMIT,
        cooling=cooling_accounts(owned, now)[:HOME_LIST_LIMIT],
    )
