"""The DM that tells someone their account (or digest) was changed by someone else,
and the one that tells a new owner someone gave them an account.

Queued in the outbox by bot.services.lifecycle.record_change, in the transaction of
the change; rendered here when sent, so it reads as things stand then (an Undo made
in between shows as such, and loses its button).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.services import account_changes, lifecycle
from bot.services.account_changes import ChangeShown
from bot.services.accounts import AccountShown
from messages import render
from messages.ids import Action
from storage.models import OutboxMessage

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


def is_notice(row: OutboxMessage) -> bool:
    return "change_id" in row.payload


def compose_notice(session: Session, row: OutboxMessage, now: datetime) -> dict[str, Any] | None:
    change = account_changes.get_change(
        session, team_id=row.team_id, change_id=row.payload["change_id"]
    )
    if change is None:
        return None
    account = account_changes.account_of(session, change)
    if row.payload.get("to") == "new_owner":
        if change.undone_at is not None or account is None:
            return None  # given back before they heard of it: nothing to say
        return render(
            "owner_notice",
            change=ChangeShown.of(change),
            account=AccountShown.of(account),
            actions=Action,
            new_owner=True,
            open_items=lifecycle.open_items(session, account).count,
        )
    if change.undone_at is not None and change.undone_by == change.owner_id:
        return None  # undone by the very person it would tell: nothing to say
    shown = AccountShown.of(account) if account is not None else None
    return render(
        "owner_notice",
        change=ChangeShown.of(change),
        account=shown,
        actions=Action,
        new_owner=False,
    )
