"""Delivery: the outbox of messages to Slack, teams on hold, and the replies kept
for requests Slack may deliver twice."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, SlackId, TeamRow


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"  # everything in it was settled before it could be sent


class OutboxMessage(TeamRow, Base):
    """A message the scheduler owes someone; the unique key makes each one single."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("team_id", "kind", "subject", "slot", name="uq_outbox_key"),
        Index("ix_outbox_pending", "status", "not_before"),
    )

    kind: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(80))
    slot: Mapped[str] = mapped_column(String(40))
    # A user id (delivered as a DM) or a channel id.
    recipient: Mapped[SlackId]
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(10), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime]
    claimed_until: Mapped[datetime | None]
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    channel_id: Mapped[SlackId | None]
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

    team_id: Mapped[SlackId] = mapped_column(primary_key=True)
    error: Mapped[str] = mapped_column(String(40))
    since: Mapped[datetime]
    checked_at: Mapped[datetime]


class TeamUninstall(Base):
    """A workspace that uninstalled Rapport (or revoked its bot token): nothing is
    planned or sent for it, its messages wait, and its data is deleted once the
    retention period from `since` is over, unless it installs Rapport again first."""

    __tablename__ = "team_uninstalls"

    team_id: Mapped[SlackId] = mapped_column(primary_key=True)
    enterprise_id: Mapped[SlackId | None]
    # The event that stopped it: app_uninstalled or tokens_revoked.
    event: Mapped[str] = mapped_column(String(40))
    since: Mapped[datetime]


class RequestReply(Base):
    """One request that must not be done twice; `status` is NULL until it has answered."""

    __tablename__ = "request_replies"

    # sha256 of what identifies the request (handlers/edge/replays.py), in hex.
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(index=True)
    status: Mapped[int | None]
    body: Mapped[str | None] = mapped_column(Text)
    content_type: Mapped[str | None] = mapped_column(String(100))
