"""Governance plans (who meets whom, how often, on what) and debriefs after a deal."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models.accounts import Account
from storage.models.base import AccountRow, Base, SlackId, TeamRow
from storage.models.scheduling import Commitment


class ReviewCadence(StrEnum):
    WEEKLY = "weekly"
    FORTNIGHTLY = "fortnightly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    TWICE_A_YEAR = "twice-a-year"


class GovernancePlan(AccountRow, Base):
    """The one-page operating agreement attached to an account's offers: one per account."""

    __tablename__ = "governance_plans"
    __table_args__ = (UniqueConstraint("team_id", "account_id", name="uq_governance_account"),)

    cadence: Mapped[str] = mapped_column(String(20))
    # Slack user ids of the people on our side who own the plan.
    owner_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    kpis: Mapped[str] = mapped_column(Text)
    credits: Mapped[str | None] = mapped_column(Text)
    # Who gets the first call when something breaks, then the path beyond them.
    escalation_owner_id: Mapped[SlackId | None]
    escalation: Mapped[str | None] = mapped_column(Text)
    exit_ramps: Mapped[str | None] = mapped_column(Text)
    reopeners: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[SlackId]
    created_at: Mapped[datetime]
    updated_by: Mapped[SlackId]
    updated_at: Mapped[datetime]

    account: Mapped[Account] = relationship()


class Debrief(AccountRow, Base):
    """One post-negotiation debrief of an account: who answered, when, and what they said."""

    __tablename__ = "debriefs"
    __table_args__ = (
        Index("ix_debriefs_account", "team_id", "account_id", "at"),
        # Slack may deliver one modal submission twice; the view id makes it one row.
        UniqueConstraint("team_id", "view_id", name="uq_debriefs_view"),
    )

    trust: Mapped[str | None] = mapped_column(Text)
    trades: Mapped[str | None] = mapped_column(Text)
    metrics: Mapped[str | None] = mapped_column(Text)
    governance: Mapped[str | None] = mapped_column(Text)
    next_meso: Mapped[str | None] = mapped_column(Text)
    by_user: Mapped[SlackId]
    at: Mapped[datetime]
    view_id: Mapped[str] = mapped_column(String(40))

    account: Mapped[Account] = relationship()


class DebriefFollowup(TeamRow, Base):
    """An improvement step a debrief suggested (rehearse the QBR readout, red-team the
    credit rules, a role-reversal session), accepted as a follow-up: once each."""

    __tablename__ = "debrief_followups"
    __table_args__ = (
        # One click, or two at once, records a debrief's step once.
        UniqueConstraint("debrief_id", "step", name="uq_debrief_followups_step"),
    )

    debrief_id: Mapped[int] = mapped_column(ForeignKey("debriefs.id", ondelete="CASCADE"))
    # Which step: bot.services.debrief_steps.STEPS.
    step: Mapped[str] = mapped_column(String(20))
    commitment_id: Mapped[int | None] = mapped_column(
        ForeignKey("commitments.id", ondelete="SET NULL")
    )
    accepted_by: Mapped[SlackId]
    accepted_at: Mapped[datetime]

    debrief: Mapped[Debrief] = relationship()
    commitment: Mapped[Commitment | None] = relationship()
