"""The give-get concession log: every give is logged, and a give with no get is flagged."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.services.accounts import get_account, get_or_create_account
from storage.models import Account, Concession


@dataclass(frozen=True)
class Balance:
    """How the gives on an account were paid for."""

    traded: int
    one_way: int

    @property
    def total(self) -> int:
        return self.traded + self.one_way

    @property
    def is_drifting(self) -> bool:
        """More gives went out for nothing than were traded: drip concessions."""
        return self.one_way > self.traded


@dataclass(frozen=True)
class ConcessionLog:
    account: Account
    entries: list[Concession]  # the newest `limit`, newest first
    balance: Balance

    @property
    def older(self) -> int:
        """How many entries the log has beyond those in `entries`."""
        return self.balance.total - len(self.entries)


LOG_PAGE = 15


def balance_of(session: Session, *, team_id: str, account_id: int) -> Balance:
    traded = func.count(Concession.get)  # COUNT(col) skips NULLs: the gives with a get
    total, with_get = session.execute(
        select(func.count(), traded).where(
            Concession.team_id == team_id, Concession.account_id == account_id
        )
    ).one()
    return Balance(traded=with_get, one_way=total - with_get)


def log_concession(
    session: Session,
    *,
    team_id: str,
    account_name: str,
    user_id: str,
    give: str,
    get: str | None,
    trigger: str | None,
    now: datetime,
) -> Concession:
    account = get_or_create_account(
        session, team_id=team_id, name=account_name, user_id=user_id, now=now
    )
    concession = Concession(
        team_id=team_id,
        account=account,
        give=give,
        get=get or None,
        trigger=trigger or None,
        logged_by=user_id,
        logged_at=now,
    )
    session.add(concession)
    session.flush()
    return concession


def concession_log(
    session: Session, *, team_id: str, account_name: str, limit: int = LOG_PAGE
) -> ConcessionLog:
    account = get_account(session, team_id=team_id, name=account_name)
    entries = list(
        session.scalars(
            select(Concession)
            .where(Concession.team_id == team_id, Concession.account_id == account.id)
            .order_by(Concession.logged_at.desc(), Concession.id.desc())
            .limit(limit)
        )
    )
    balance = balance_of(session, team_id=team_id, account_id=account.id)
    return ConcessionLog(account=account, entries=entries, balance=balance)
