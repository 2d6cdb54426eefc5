"""Negotiation preps: the one-page plan written before a negotiation with an account."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models.accounts import Account
from storage.models.base import AccountRow, Base, SlackId


class NegotiationPrep(AccountRow, Base):
    """One negotiation's plan with an account. An account has one per negotiation over
    time; the latest one not closed is "the prep". Starting the next negotiation
    closes it, and it stays, read-only in spirit, as the record of that one."""

    __tablename__ = "negotiation_preps"
    __table_args__ = (
        Index("ix_negotiation_preps_account", "team_id", "account_id", "opened_at"),
        # Slack may deliver one modal submission twice; the view id makes it one prep.
        UniqueConstraint("team_id", "view_id", name="uq_negotiation_preps_view"),
    )

    # The one sentence this negotiation should settle.
    question: Mapped[str] = mapped_column(Text)
    our_batna: Mapped[str | None] = mapped_column(Text)
    their_batna: Mapped[str | None] = mapped_column(Text)
    # Values to us, as /meso's offers count them; `value_period` is what all three are
    # counted per ("month", "year", "quarter", or "" for a total).
    target_value: Mapped[float | None] = mapped_column(Float)
    reservation_value: Mapped[float | None] = mapped_column(Float)
    anchor_value: Mapped[float | None] = mapped_column(Float)
    value_period: Mapped[str] = mapped_column(String(10), default="")
    value_notes: Mapped[str | None] = mapped_column(Text)
    # Their side: [{"role": …, "cares": … or null, "decides": bool}, …].
    people: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # Issues, most important first: ours as we rank them, theirs as we guess them.
    our_issues: Mapped[list[str]] = mapped_column(JSON, default=list)
    their_issues: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Tradeables: what we can give cheaply, and what we want back.
    we_can_give: Mapped[list[str]] = mapped_column(JSON, default=list)
    we_want: Mapped[list[str]] = mapped_column(JSON, default=list)
    opened_by: Mapped[SlackId]
    opened_at: Mapped[datetime]
    updated_by: Mapped[SlackId]
    updated_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    view_id: Mapped[str | None] = mapped_column(String(40))

    account: Mapped[Account] = relationship()
