"""Accounts: looked up by name within a team, created on first use."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.errors import NotFound, UsageError
from storage.models import Account

MAX_ACCOUNT_NAME = 80


def account_key(name: str) -> str:
    """The lookup key: case and spacing do not make a different account."""
    return " ".join(name.split()).casefold()


def clean_account_name(name: str) -> str:
    cleaned = " ".join(name.strip().strip("\"'“”‘’").split())
    if not cleaned:
        raise UsageError("Name the account first.")
    if len(cleaned) > MAX_ACCOUNT_NAME:
        raise UsageError(f"Account names can be up to {MAX_ACCOUNT_NAME} characters.")
    return cleaned


# Built once, with bind parameters: building a statement and its cache key on every
# call cost more than running it on SQLite (bench/README.md, ack latency).
_BY_KEY = select(Account).where(
    Account.team_id == bindparam("team_id"), Account.key == bindparam("key")
)


def find_account(session: Session, *, team_id: str, name: str) -> Account | None:
    return session.scalar(_BY_KEY, {"team_id": team_id, "key": account_key(name)})


def get_account(session: Session, *, team_id: str, name: str) -> Account:
    account = find_account(session, team_id=team_id, name=name)
    if account is None:
        raise NotFound(f"There is no account called “{clean_account_name(name)}” yet.")
    return account


def get_or_create_account(
    session: Session, *, team_id: str, name: str, user_id: str, now: datetime
) -> Account:
    """The team's account of that name; a new one owned by `user_id` if there is none."""
    name = clean_account_name(name)
    existing = find_account(session, team_id=team_id, name=name)
    if existing is not None:
        return existing
    account = Account(
        team_id=team_id,
        key=account_key(name),
        name=name,
        owner_id=user_id,
        created_by=user_id,
        created_at=now,
    )
    try:
        # A savepoint, so that losing a race to create the same account costs
        # only this insert, not the caller's whole transaction.
        with session.begin_nested():
            session.add(account)
    except IntegrityError:
        return get_account(session, team_id=team_id, name=name)
    return account
