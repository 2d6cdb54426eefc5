"""Team-wide views: ratings, health snapshots, the daily health watch and its alerts,
digest subscriptions, and what an Enterprise Grid org lets its workspaces see of each
other."""

from __future__ import annotations

from datetime import date, datetime, time
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models.accounts import Account
from storage.models.base import AccountRow, Base, SlackId, TeamRow, TeamSettings
from storage.models.scheduling import Commitment


class RatingKind(StrEnum):
    CSAT = "csat"  # "how satisfied are you", 0-10
    NPS = "nps"  # "how likely are you to recommend us", 0-10


class Rating(AccountRow, Base):
    """The buyer's answer to a CSAT or NPS question, as the owner recorded it."""

    __tablename__ = "ratings"
    __table_args__ = (Index("ix_ratings_account", "team_id", "account_id", "recorded_at"),)

    kind: Mapped[str] = mapped_column(String(4))
    score: Mapped[int] = mapped_column(Integer)
    # The day the owner last spoke with the buyer, when they said.
    contact_on: Mapped[date | None]
    # The check-in whose nudge asked for it, if one did.
    checkin_id: Mapped[int | None] = mapped_column(ForeignKey("checkins.id", ondelete="SET NULL"))
    recorded_by: Mapped[SlackId]
    recorded_at: Mapped[datetime]
    # The follow-up recorded from it with one click, when a low score called for one.
    followup_id: Mapped[int | None] = mapped_column(
        ForeignKey("commitments.id", ondelete="SET NULL")
    )

    account: Mapped[Account] = relationship()
    followup: Mapped[Commitment | None] = relationship()


class HealthSnapshot(Base):
    """An account's health score as it stood in one week: the base of "health movers"."""

    __tablename__ = "health_snapshots"
    __table_args__ = (Index("ix_health_snapshots_week", "team_id", "week"),)

    team_id: Mapped[SlackId] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    # The Monday of the ISO week the score was taken in.
    week: Mapped[date] = mapped_column(primary_key=True)
    score: Mapped[int] = mapped_column(Integer)
    taken_at: Mapped[datetime]


class HealthDay(Base):
    """An account's health score on one day, taken by the sweep once a day per team
    (bot.services.health_watch): a fall is measured against the week of them before."""

    __tablename__ = "health_days"

    team_id: Mapped[SlackId] = mapped_column(primary_key=True)
    # The UTC day it was taken.
    day: Mapped[date] = mapped_column(primary_key=True)
    # Not a foreign key: a day's rows go in one bulk insert, where a check per row costs
    # more than it guards (storage.models.scheduling.Nudge says the same), and a
    # deleted account's rows are pruned with the rest after a week.
    account_id: Mapped[int] = mapped_column(primary_key=True)
    score: Mapped[int] = mapped_column(Integer)
    # The points each part with data missed (its weight less what it earned), as
    # `key:points` words (`touch:12.5 kept:4`): plain text, written in bulk the way
    # storage.upsert writes every other column (bot.services.health_watch reads it).
    missed: Mapped[str] = mapped_column(Text)


class HealthFall(Base):
    """A fall of an account's health its owner was told of (once a week at most): the
    numbers the DM shows, as they were when it was found."""

    __tablename__ = "health_falls"

    team_id: Mapped[SlackId] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    # The UTC day it was found: the slot of its nudge.
    day: Mapped[date] = mapped_column(primary_key=True)
    # The highest score of the week before, and the score that day.
    before: Mapped[int] = mapped_column(Integer)
    after: Mapped[int] = mapped_column(Integer)
    # The team's line it fell under, if it did.
    below: Mapped[int | None] = mapped_column(Integer)
    # The parts that fell, most first: [[part key, points lost], ...].
    fell: Mapped[list[Any]] = mapped_column(JSON)


class HealthWatch(Base):
    """Where a team's daily pass over its accounts' health stands: each (UTC) day the
    sweep scores its accounts in id order, a batch at a time, until `done`."""

    __tablename__ = "health_watch"

    team_id: Mapped[SlackId] = mapped_column(primary_key=True)
    # The day of the pass under way, or of the last one.
    scored_on: Mapped[date]
    # The accounts up to this id are scored on `scored_on`.
    after_id: Mapped[int] = mapped_column(Integer)
    done: Mapped[bool] = mapped_column(Boolean)


class HealthAlerts(TeamSettings, Base):
    """A team's rule for telling owners that an account's health fell."""

    __tablename__ = "health_alert_settings"

    # A fall of more than this many points in a week; None: not told of drops.
    drop_points: Mapped[int | None] = mapped_column(Integer)
    # A fall under this score; None: not told of it.
    below: Mapped[int | None] = mapped_column(Integer)


class ViewScope(StrEnum):
    """How far App Home or a digest looks in an Enterprise Grid org."""

    WORKSPACE = "workspace"  # the workspace it is opened or set up in (the default)
    ORG = "org"  # every workspace of the org Rapport serves


class OrgView(TeamSettings, Base):
    """An Enterprise Grid org's choice of how far App Home and the digests look; the
    row is the org's, so `team_id` holds the org's id (E…), as storage/orgs.py says."""

    __tablename__ = "org_view_settings"

    home: Mapped[str] = mapped_column(String(9), default=ViewScope.WORKSPACE)
    digests: Mapped[str] = mapped_column(String(9), default=ViewScope.WORKSPACE)


class DigestScope(StrEnum):
    TEAM = "team"  # every account of the team
    GROUP = "group"  # accounts owned by members of one Slack user group
    USERS = "users"  # accounts owned by the listed people


class QuietWeek(StrEnum):
    SKIP = "skip"  # nothing to report: post nothing
    LINE = "line"  # nothing to report: post one line saying so


class DigestSubscription(TeamRow, Base):
    """A channel that gets the weekly relationship digest, and when."""

    __tablename__ = "digest_subscriptions"
    __table_args__ = (
        UniqueConstraint("team_id", "channel_id", name="uq_digest_channel"),
        # The sweep's way in, as for nudges: cost grows with the digests due.
        Index("ix_digest_next_run", "next_run_at"),
    )

    channel_id: Mapped[SlackId]
    # Python weekday (Monday = 0), local time, and the IANA zone they are read in.
    weekday: Mapped[int] = mapped_column(Integer, default=0)
    send_at: Mapped[time] = mapped_column(Time, default=time(9, 0))
    tz: Mapped[str] = mapped_column(String(64))
    scope: Mapped[str] = mapped_column(String(6), default=DigestScope.TEAM)
    # Space-separated Slack ids: one user group (S…) or user ids (U…), per scope.
    scope_ids: Mapped[str | None] = mapped_column(Text)
    quiet: Mapped[str] = mapped_column(String(4), default=QuietWeek.SKIP)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[SlackId]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # None when inactive; otherwise the next slot, in UTC.
    next_run_at: Mapped[datetime | None]
    last_sent_at: Mapped[datetime | None]
    # The headline numbers of the last digest sent, so the next can say what changed.
    last_counts: Mapped[dict[str, Any] | None] = mapped_column(JSON)
