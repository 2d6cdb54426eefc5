"""What state an account is in: its stage in words, lost or paused, whether it is
scheduled, and the SQL conditions for the accounts and QBRs on working lists.

Asked by every command, list and sweep; changed only by bot.services.lifecycle.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import ColumnElement

from bot.services.errors import UserFacingError
from storage.models import (
    STAGE_WORDS,
    Account,
    AccountStage,
    Qbr,
)

# SQL: the accounts that belong on working lists (anything not lost).
WORKING: ColumnElement[bool] = Account.stage != AccountStage.LOST.value
# SQL: QBR rhythms still running (a loss drops an account's reviews).
QBR_LIVE: ColumnElement[bool] = Qbr.dropped_at.is_(None)


def stage_word(stage: str | None) -> str:
    return STAGE_WORDS.get(stage or AccountStage.OPEN.value, stage or "prospect")


def is_lost(stage: str | None) -> bool:
    return stage == AccountStage.LOST


def schedules(stage: str | None) -> bool:
    """May anything (reminders, check-ins, reviews, touch nudges) be planned for it?"""
    return not is_lost(stage)


def paused_on(paused_until: date | None, today: date) -> bool:
    """Whether a pause until `paused_until` still holds on `today`: it ends as that day
    begins."""
    return paused_until is not None and today < paused_until


def is_paused(account: Account, today: date) -> bool:
    return paused_on(account.paused_until, today)


class AccountIsLost(UserFacingError):
    """Something was asked of a lost account that only a live one can take.

    Not a UsageError: the command was written right, so no usage line follows.
    """


def require_live(account: Account, doing: str) -> None:
    """Refuse `doing` on a lost account, saying how to bring it back."""
    if is_lost(account.stage):
        name = account.name
        raise AccountIsLost(
            f"{name} is marked lost, so I won't {doing}. If it is back in play, "
            f"`/rapport won {name}` reopens it as a customer or `/rapport reopen {name}` "
            "as a prospect; right after the loss, its Undo button puts back everything "
            "it closed."
        )


# --- the history --------------------------------------------------------------------
