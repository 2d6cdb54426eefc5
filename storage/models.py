"""Typed SQLAlchemy 2 models. Every row carries the Slack team it belongs to."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from storage.types import CalendarDate, UTCDateTime

SlackId = String(32)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime(), date: CalendarDate()}


class AccountStage(StrEnum):
    OPEN = "open"
    WON = "won"
    LOST = "lost"


# How each stage reads to a person: "open" is the stored name of a prospect.
STAGE_WORDS = {AccountStage.OPEN.value: "prospect", "won": "won", "lost": "lost"}


# The five kinds of sales relationship (seed 004), from least to most involved.
RELATIONSHIP_TYPES = ("transactional", "functional", "affiliative", "strategic", "personal")


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
    # One of RELATIONSHIP_TYPES; None until someone sets it.
    relationship_type: Mapped[str | None] = mapped_column(String(20))
    # What the buyer said they expect from the relationship, in their words.
    expectations: Mapped[str | None] = mapped_column(Text)
    # The account's own channel: shared log entries and escalations go there.
    channel_id: Mapped[str | None] = mapped_column(SlackId)
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


class Concession(Base):
    """One give in a negotiation, with what was gotten for it (if anything)."""

    __tablename__ = "concessions"
    __table_args__ = (
        Index("ix_concessions_account", "team_id", "account_id", "logged_at"),
        Index("ix_concessions_team_logged", "team_id", "logged_at"),
        # A modal submitted twice (same view) logs once.
        UniqueConstraint("team_id", "source_key", name="uq_concessions_source"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(SlackId)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    # The issue traded on (price, term, SLA…), when the rep names one.
    item: Mapped[str | None] = mapped_column(String(120))
    give: Mapped[str] = mapped_column(Text)
    get: Mapped[str | None] = mapped_column(Text)
    trigger: Mapped[str | None] = mapped_column(Text)
    value_to_us: Mapped[str | None] = mapped_column(Text)
    value_to_them: Mapped[str | None] = mapped_column(Text)
    logged_by: Mapped[str] = mapped_column(SlackId)
    logged_at: Mapped[datetime]
    edited_at: Mapped[datetime | None]
    withdrawn_at: Mapped[datetime | None]
    withdrawn_by: Mapped[str | None] = mapped_column(SlackId)
    source_key: Mapped[str | None] = mapped_column(String(80))

    account: Mapped[Account] = relationship(back_populates="concessions")

    @property
    def is_traded(self) -> bool:
        return bool(self.get)


class CommitmentDirection(StrEnum):
    OURS = "ours"
    THEIRS = "theirs"


class Commitment(Base):
    """A follow-up someone promised, due on a calendar day."""

    __tablename__ = "commitments"
    __table_args__ = (
        Index("ix_commitments_account", "team_id", "account_id"),
        Index("ix_commitments_owner", "team_id", "owner_id", "done_at"),
        # The sweep's only way in: cost grows with what is due, not with the table.
        # Partial, so done commitments stay out of it; with the id, a batch comes out
        # of it in the sweep's order without a sort (migration 0006).
        Index(
            "ix_commitments_next_nudge",
            "next_nudge_at",
            "id",
            postgresql_where=text("next_nudge_at IS NOT NULL"),
            sqlite_where=text("next_nudge_at IS NOT NULL"),
        ),
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
    # "ours": we promised it; "theirs": the buyer promised it and we track it.
    direction: Mapped[str] = mapped_column(
        String(6), default=CommitmentDirection.OURS, server_default=CommitmentDirection.OURS.value
    )
    # Where it is on the unkept ladder (see bot.services.followups.LadderStep), and
    # the day the ladder counts from: the due day, or the account's latest activity.
    ladder_step: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    ladder_anchor: Mapped[date | None]
    snoozed_until: Mapped[datetime | None]
    kept_on_time: Mapped[bool | None]
    # Set (with done_at) when it was closed because the account was lost, not kept:
    # it counts neither as kept nor as late, and an Undo of the loss reopens it.
    dropped_at: Mapped[datetime | None]

    account: Mapped[Account] = relationship(back_populates="commitments")


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"  # everything in it was settled before it could be sent


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
    # The delivery run holding the row while it is `sending`, and when (by the wall
    # clock) its attempt began: every change of state checks the holder, so a run
    # whose lease was taken over can no longer settle the row.
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None]
    # When the earliest attempt began that Slack may have posted without our hearing
    # of it (a timeout, a 5xx, a worker lost mid-send): the next attempt looks for
    # the message from then on before it posts again.
    unsure_since: Mapped[datetime | None]


class DeliveryHold(Base):
    """A team whose bot token Slack refuses: its messages wait, untouched, until a
    check of the token (auth.test) succeeds again."""

    __tablename__ = "delivery_holds"

    team_id: Mapped[str] = mapped_column(SlackId, primary_key=True)
    error: Mapped[str] = mapped_column(String(40))
    since: Mapped[datetime]
    checked_at: Mapped[datetime]


# Models of later features live in their own modules; importing them here keeps
# Base.metadata complete for Alembic and for anyone importing storage.models.
from storage import history_models as history_models  # noqa: E402
from storage import negotiation_models as negotiation_models  # noqa: E402
from storage import playbook_models as playbook_models  # noqa: E402
from storage import replays as replays  # noqa: E402
from storage import scheduling_models as scheduling_models  # noqa: E402
from storage import team_models as team_models  # noqa: E402
