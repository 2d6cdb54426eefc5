"""What the relationship's KPIs are counted from, beyond ratings: the client's questions
on the team's reply clock, and the account's renewals, repeat purchases and referrals."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models.accounts import Account
from storage.models.base import AccountRow, Base, SlackId

# The rows `ix_client_questions_next_nudge` holds: only questions still on the clock.
_ON_THE_CLOCK = text("next_nudge_at IS NOT NULL")


class ClientQuestion(AccountRow, Base):
    """A question the client asked that we owe a reply to, against the team's norm."""

    __tablename__ = "client_questions"
    __table_args__ = (
        Index("ix_client_questions_account", "team_id", "account_id", "asked_at"),
        # The sweep's way in, as for commitments: cost grows with what is due.
        Index(
            "ix_client_questions_next_nudge",
            "next_nudge_at",
            "id",
            postgresql_where=_ON_THE_CLOCK,
            sqlite_where=_ON_THE_CLOCK,
        ),
    )

    question: Mapped[str] = mapped_column(Text)
    # Who owes the reply: the account's owner when it was recorded.
    owner_id: Mapped[SlackId]
    # When the client asked (the message's time, for one flagged from Slack).
    asked_at: Mapped[datetime]
    # The norm it is held to, in working minutes, and the instant that runs out at in
    # the owner's working hours: kept, so a later change of the norm rewrites nothing.
    norm_minutes: Mapped[int] = mapped_column(Integer)
    reply_by: Mapped[datetime]
    recorded_by: Mapped[SlackId]
    recorded_at: Mapped[datetime]
    # A link to the client's message, when it was flagged with the shortcut.
    permalink: Mapped[str | None] = mapped_column(Text)
    # The owner's reminder before the clock runs out; None once sent or replied.
    next_nudge_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    answered_by: Mapped[SlackId | None]
    # What the reply took, in the owner's working minutes: the KPI's own figure.
    reply_minutes: Mapped[int | None] = mapped_column(Integer)

    account: Mapped[Account] = relationship()


class KpiKind(StrEnum):
    RENEWAL = "renewal"  # a renewal date, and whether they renewed at it
    REPEAT = "repeat"  # a repeat purchase
    REFERRAL = "referral"  # a referral they gave us


class RenewalOutcome(StrEnum):
    RENEWED = "renewed"
    NOT_RENEWED = "not_renewed"


class AccountKpi(AccountRow, Base):
    """One thing an account did that its KPIs count: a renewal (its date, and once
    known whether they renewed), a repeat purchase, a referral given."""

    __tablename__ = "account_kpis"
    __table_args__ = (
        Index("ix_account_kpis_account", "team_id", "account_id", "kind"),
        # The digest's way in: a team's renewals, purchases and referrals by day.
        Index("ix_account_kpis_day", "team_id", "day"),
    )

    kind: Mapped[str] = mapped_column(String(10))
    # The renewal's date, or the day of the purchase or referral; None for counts an
    # import brought without days (they count on the card, in no week).
    day: Mapped[date | None]
    # A renewal's outcome (RenewalOutcome); None while it is still ahead or unrecorded.
    outcome: Mapped[str | None] = mapped_column(String(12))
    # What was bought, whom they referred.
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[SlackId]
    recorded_at: Mapped[datetime]
