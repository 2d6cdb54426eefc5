"""Typed SQLAlchemy 2 models. Every row carries the Slack team it belongs to."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from storage.types import CalendarDate, UTCDateTime

SlackId = String(32)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime(), date: CalendarDate()}


class Account(Base):
    """A customer relationship, owned by one Slack user."""

    __tablename__ = "accounts"
    __table_args__ = (UniqueConstraint("team_id", "key", name="uq_accounts_team_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(SlackId)
    # The name folded for lookups: "ACME  Corp" and "acme corp" are one account.
    key: Mapped[str] = mapped_column(String(80))
    name: Mapped[str] = mapped_column(String(80))
    owner_id: Mapped[str] = mapped_column(SlackId)
    created_by: Mapped[str] = mapped_column(SlackId)
    created_at: Mapped[datetime]

    concessions: Mapped[list[Concession]] = relationship(back_populates="account")
    commitments: Mapped[list[Commitment]] = relationship(back_populates="account")


class Concession(Base):
    """One give in a negotiation, with what was gotten for it (if anything)."""

    __tablename__ = "concessions"
    __table_args__ = (Index("ix_concessions_account", "team_id", "account_id", "logged_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(SlackId)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    give: Mapped[str] = mapped_column(Text)
    get: Mapped[str | None] = mapped_column(Text)
    trigger: Mapped[str | None] = mapped_column(Text)
    logged_by: Mapped[str] = mapped_column(SlackId)
    logged_at: Mapped[datetime]

    account: Mapped[Account] = relationship(back_populates="concessions")

    @property
    def is_traded(self) -> bool:
        return bool(self.get)


class Commitment(Base):
    """A follow-up someone promised, due on a calendar day."""

    __tablename__ = "commitments"
    __table_args__ = (
        Index("ix_commitments_account", "team_id", "account_id"),
        Index("ix_commitments_owner", "team_id", "owner_id", "done_at"),
        # The sweep's only way in: cost grows with what is due, not with the table.
        Index("ix_commitments_next_nudge", "next_nudge_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(SlackId)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    owner_id: Mapped[str] = mapped_column(SlackId)
    what: Mapped[str] = mapped_column(Text)
    due_on: Mapped[date]
    # The instant the due day ends where the owner is: from then on it is unkept.
    due_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(SlackId)
    created_at: Mapped[datetime]
    done_at: Mapped[datetime | None]
    done_by: Mapped[str | None] = mapped_column(SlackId)
    next_nudge_at: Mapped[datetime | None]
    nudges_sent: Mapped[int] = mapped_column(Integer, default=0)

    account: Mapped[Account] = relationship(back_populates="commitments")


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class OutboxMessage(Base):
    """A message the scheduler owes someone; the unique key makes each one single."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("team_id", "kind", "subject", "slot", name="uq_outbox_key"),
        Index("ix_outbox_pending", "status", "not_before"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(SlackId)
    kind: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(80))
    slot: Mapped[str] = mapped_column(String(40))
    # A user id (delivered as a DM) or a channel id.
    recipient: Mapped[str] = mapped_column(SlackId)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(10), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime]
    claimed_until: Mapped[datetime | None]
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    channel_id: Mapped[str | None] = mapped_column(SlackId)
    message_ts: Mapped[str | None] = mapped_column(String(32))


# Models of later features live in their own modules; importing them here keeps
# Base.metadata complete for Alembic and for anyone importing storage.models.
from storage import negotiation_models as negotiation_models  # noqa: E402
from storage import scheduling_models as scheduling_models  # noqa: E402
