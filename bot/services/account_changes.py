"""An account's history of changes (who, what, when, before and after), and the DM
that tells the owner when someone else made one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.services.accounts import account_by_id
from bot.services.errors import NotFound
from bot.services.shown import Shown
from storage.models import (
    Account,
    AccountChange,
    OutboxMessage,
    OutboxStatus,
)


class ChangeKind(StrEnum):
    WON = "won"
    LOST = "lost"
    REOPENED = "reopened"
    PAUSED = "paused"
    RESUMED = "resumed"
    TYPE = "type"
    OWNER = "owner"
    EXPECTS = "expects"
    CHANNEL = "channel"
    CONCESSION_WITHDRAWN = "concession_withdrawn"
    DIGEST_STOPPED = "digest_stopped"
    # An Undo of one of the above: itself a change, with who undid what.
    UNDONE = "undone"


# Changes that undo one another's ground: only the latest of a group can be undone.
UNDO_GROUPS = {
    ChangeKind.WON: "stage",
    ChangeKind.LOST: "stage",
    ChangeKind.REOPENED: "stage",
    ChangeKind.PAUSED: "pause",
    ChangeKind.RESUMED: "pause",
}
NOTICE_KIND = "owner_notice"


@dataclass(frozen=True, slots=True)
class ChangeShown(Shown):
    """A recorded change as a message shows it (its Undo button names its id)."""

    id: int
    kind: str
    actor_id: str
    owner_id: str
    at: datetime
    before: str | None
    after: str | None
    detail: dict[str, Any] | None
    undone_at: datetime | None
    undone_by: str | None


HISTORY_SHOWN = 25


def record_change(
    session: Session,
    *,
    team_id: str,
    account_id: int | None,
    kind: ChangeKind,
    actor_id: str,
    owner_id: str,
    now: datetime,
    before: str | None = None,
    after: str | None = None,
    detail: dict[str, Any] | None = None,
    notify: bool = True,
) -> AccountChange:
    """Write the change into the history; someone else's change is told to the owner
    (unless `notify` is off: an Undo, whose change the owner was told of already)."""
    change = AccountChange(
        team_id=team_id,
        account_id=account_id,
        kind=kind.value,
        actor_id=actor_id,
        owner_id=owner_id,
        at=now,
        before=before,
        after=after,
        detail=detail,
    )
    session.add(change)
    session.flush()
    if notify and actor_id != owner_id:
        queue_notice(session, change, recipient=owner_id, slot="owner")
    return change


def queue_notice(session: Session, change: AccountChange, *, recipient: str, slot: str) -> None:
    """A DM about `change` to `recipient`, through the outbox: written with the change
    (nothing told of a change that rolled back), and rendered when sent, so a change
    undone by then is not news. `slot` says whom it is for ("owner", "new_owner")."""
    session.add(
        OutboxMessage(
            team_id=change.team_id,
            kind=NOTICE_KIND,
            subject=f"change:{change.id}",
            slot=slot,
            recipient=recipient,
            payload={"change_id": change.id, "to": slot},
            status=OutboxStatus.PENDING,
            attempts=0,
            not_before=change.at,
            created_at=change.at,
        )
    )


def history(
    session: Session, *, account: Account, limit: int = HISTORY_SHOWN
) -> list[AccountChange]:
    """The account's changes, newest first."""
    return list(
        session.scalars(
            select(AccountChange)
            .where(AccountChange.team_id == account.team_id, AccountChange.account_id == account.id)
            .order_by(AccountChange.at.desc(), AccountChange.id.desc())
            .limit(limit)
        )
    )


def get_change(session: Session, *, team_id: str, change_id: int) -> AccountChange | None:
    return session.scalar(
        select(AccountChange).where(AccountChange.team_id == team_id, AccountChange.id == change_id)
    )


def account_of(session: Session, change: AccountChange) -> Account | None:
    """The account a change was made to; None when it names none or it is gone."""
    if change.account_id is None:
        return None
    try:
        return account_by_id(session, team_id=change.team_id, account_id=change.account_id)
    except NotFound:
        return None
