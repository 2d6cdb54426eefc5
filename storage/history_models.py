"""Models of an account's history: every change, who made it, and how to undo it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, SlackId


class AccountChange(Base):
    """One change to an account (or to something a person set up, such as a digest).

    `before` and `after` are the words the history shows; `detail` is what an Undo
    needs to put things back exactly (the rows a loss closed, the values replaced).
    """

    __tablename__ = "account_changes"
    __table_args__ = (Index("ix_account_changes_account", "team_id", "account_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(SlackId)
    # None for changes that belong to no one account (stopping a channel's digest).
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    # What changed: see bot.services.lifecycle.ChangeKind.
    kind: Mapped[str] = mapped_column(String(30))
    actor_id: Mapped[str] = mapped_column(SlackId)
    # Whom it belonged to when it changed (the account's owner, the digest's author):
    # the person told when someone else makes the change.
    owner_id: Mapped[str] = mapped_column(SlackId)
    at: Mapped[datetime]
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    undone_at: Mapped[datetime | None]
    undone_by: Mapped[str | None] = mapped_column(SlackId)
