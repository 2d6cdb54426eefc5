"""Accounts: the customer relationship, its stage and type, and its history of changes."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models.base import Base, SlackId, TeamRow

if TYPE_CHECKING:
    from storage.models.negotiation import Concession
    from storage.models.scheduling import Commitment


class AccountStage(StrEnum):
    OPEN = "open"
    WON = "won"
    LOST = "lost"


# How each stage reads to a person: "open" is the stored name of a prospect.
STAGE_WORDS = {AccountStage.OPEN.value: "prospect", "won": "won", "lost": "lost"}


# The five kinds of sales relationship, from least to most involved.
RELATIONSHIP_TYPES = ("transactional", "functional", "affiliative", "strategic", "personal")


class Account(TeamRow, Base):
    """A customer relationship, owned by one Slack user."""

    __tablename__ = "accounts"
    __table_args__ = (UniqueConstraint("team_id", "key", name="uq_accounts_team_key"),)

    # The name folded for lookups: "ACME  Corp" and "acme corp" are one account.
    key: Mapped[str] = mapped_column(String(80))
    name: Mapped[str] = mapped_column(String(80))
    owner_id: Mapped[SlackId]
    created_by: Mapped[SlackId]
    created_at: Mapped[datetime]
    # One of RELATIONSHIP_TYPES; None until someone sets it.
    relationship_type: Mapped[str | None] = mapped_column(String(20))
    # What the buyer said they expect from the relationship, in their words.
    expectations: Mapped[str | None] = mapped_column(Text)
    # The account's own channel: shared log entries and escalations go there.
    channel_id: Mapped[SlackId | None]
    stage: Mapped[str] = mapped_column(
        String(10), default=AccountStage.OPEN, server_default=AccountStage.OPEN.value
    )
    won_at: Mapped[datetime | None]
    lost_at: Mapped[datetime | None]
    paused_until: Mapped[date | None]
    pause_reason: Mapped[str | None] = mapped_column(Text)
    last_touch_at: Mapped[datetime | None]
    # When the stay-in-touch clock runs out (last touch + the type's maximum gap).
    touch_nudge_at: Mapped[datetime | None] = mapped_column(index=True)

    concessions: Mapped[list[Concession]] = relationship(back_populates="account")
    commitments: Mapped[list[Commitment]] = relationship(back_populates="account")


class AccountChange(TeamRow, Base):
    """One change to an account (or to something a person set up, such as a digest).

    `before` and `after` are the words the history shows; `detail` is what an Undo
    needs to put things back exactly (the rows a loss closed, the values replaced).
    """

    __tablename__ = "account_changes"
    __table_args__ = (Index("ix_account_changes_account", "team_id", "account_id", "at"),)

    # None for changes that belong to no one account (stopping a channel's digest).
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    # What changed: see bot.services.lifecycle.ChangeKind.
    kind: Mapped[str] = mapped_column(String(30))
    actor_id: Mapped[SlackId]
    # Whom it belonged to when it changed (the account's owner, the digest's author):
    # the person told when someone else makes the change.
    owner_id: Mapped[SlackId]
    at: Mapped[datetime]
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    undone_at: Mapped[datetime | None]
    undone_by: Mapped[SlackId | None]
