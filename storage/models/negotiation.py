"""Negotiation: the give/get concession log (with its edits), MESO sets and their
offers, and each team's negotiation settings."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models.accounts import Account
from storage.models.base import AccountRow, Base, SlackId, TeamRow, TeamSettings


class ConcessionTerms:
    """What was given for what: a concession's terms, which each revision keeps as they
    were before the edit."""

    # The issue traded on (price, term, SLA…), when the rep names one.
    item: Mapped[str | None] = mapped_column(String(120))
    give: Mapped[str] = mapped_column(Text)
    get: Mapped[str | None] = mapped_column(Text)
    trigger: Mapped[str | None] = mapped_column(Text)
    value_to_us: Mapped[str | None] = mapped_column(Text)
    value_to_them: Mapped[str | None] = mapped_column(Text)


class Concession(AccountRow, ConcessionTerms, Base):
    """One give in a negotiation, with what was gotten for it (if anything)."""

    __tablename__ = "concessions"
    __table_args__ = (
        Index("ix_concessions_account", "team_id", "account_id", "logged_at"),
        Index("ix_concessions_team_logged", "team_id", "logged_at"),
        # A modal submitted twice (same view) logs once.
        UniqueConstraint("team_id", "source_key", name="uq_concessions_source"),
    )

    logged_by: Mapped[SlackId]
    logged_at: Mapped[datetime]
    edited_at: Mapped[datetime | None]
    withdrawn_at: Mapped[datetime | None]
    withdrawn_by: Mapped[SlackId | None]
    source_key: Mapped[str | None] = mapped_column(String(80))

    account: Mapped[Account] = relationship(back_populates="concessions")


class ConcessionRevision(TeamRow, ConcessionTerms, Base):
    """A concession as it was before someone edited or withdrew it: nothing is lost."""

    __tablename__ = "concession_revisions"
    __table_args__ = (Index("ix_concession_revisions_entry", "team_id", "concession_id"),)

    concession_id: Mapped[int] = mapped_column(ForeignKey("concessions.id", ondelete="CASCADE"))
    # "edited" or "withdrawn": what the change was.
    change: Mapped[str] = mapped_column(String(10))
    changed_by: Mapped[SlackId]
    changed_at: Mapped[datetime]

    concession: Mapped[Concession] = relationship()


class MesoSet(AccountRow, Base):
    """Two or three offers put to a buyer at once, and which one they chose."""

    __tablename__ = "meso_sets"
    __table_args__ = (
        Index("ix_meso_sets_account", "team_id", "account_id", "created_at"),
        # A modal submitted twice (same view) builds one set.
        UniqueConstraint("team_id", "source_key", name="uq_meso_sets_source"),
    )

    created_by: Mapped[SlackId]
    created_at: Mapped[datetime]
    # The equivalence tolerance the set was checked with, in percent.
    tolerance_pct: Mapped[float] = mapped_column(Float)
    chosen_label: Mapped[str | None] = mapped_column(String(20))
    chosen_by: Mapped[SlackId | None]
    chosen_at: Mapped[datetime | None]
    source_key: Mapped[str | None] = mapped_column(String(80))
    # What the offers' values are counted per ("month", "quarter", "year", or "" when
    # not said), so they can be held against a negotiation prep's points (migration 0017).
    value_period: Mapped[str] = mapped_column(String(10), default="", server_default="")
    # When the set was posted to the team's channel from its Share button: once.
    shared_at: Mapped[datetime | None]

    account: Mapped[Account] = relationship()
    offers: Mapped[list[MesoOffer]] = relationship(
        back_populates="meso_set", order_by="MesoOffer.position", cascade="all, delete-orphan"
    )


class MesoOffer(TeamRow, Base):
    """One offer of a MESO set: its terms, and what it is worth to us."""

    __tablename__ = "meso_offers"
    __table_args__ = (UniqueConstraint("meso_set_id", "position", name="uq_meso_offers_position"),)

    meso_set_id: Mapped[int] = mapped_column(ForeignKey("meso_sets.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(20))
    # Price or commercial terms.
    terms: Mapped[str | None] = mapped_column(Text)
    # SLA tier or scope.
    scope: Mapped[str | None] = mapped_column(Text)
    cadence: Mapped[str | None] = mapped_column(Text)
    extras: Mapped[str | None] = mapped_column(Text)
    # A money amount or a score: only compared with the other offers of the same set.
    value_to_us: Mapped[float | None] = mapped_column(Float)

    meso_set: Mapped[MesoSet] = relationship(back_populates="offers")


class NegotiationSettings(TeamSettings, Base):
    """A team's negotiation defaults."""

    __tablename__ = "negotiation_settings"

    meso_tolerance_pct: Mapped[float] = mapped_column(Float)
