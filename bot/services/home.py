"""What a user's App Home shows: their accounts, open commitments and recent gives."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from storage.models import Account, Commitment, Concession

HOME_LIST_LIMIT = 10


@dataclass(frozen=True)
class HomeSummary:
    accounts: list[Account]
    open_commitments: list[Commitment]
    recent_concessions: list[Concession]
    more_commitments: bool


def home_summary(session: Session, *, team_id: str, user_id: str) -> HomeSummary:
    accounts = list(
        session.scalars(
            select(Account)
            .where(Account.team_id == team_id, Account.owner_id == user_id)
            .order_by(Account.name)
            .limit(HOME_LIST_LIMIT)
        )
    )
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
    )
