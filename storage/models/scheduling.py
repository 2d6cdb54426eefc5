"""The relationship scheduler: commitments (follow-ups), user preferences and working
hours, team days off, nudges, QBRs, check-ins and touches."""

from __future__ import annotations

from datetime import date, datetime, time
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    Float,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
    literal_column,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models.accounts import Account
from storage.models.base import AccountRow, Base, SlackId, TeamRow, TeamSettings


class CommitmentDirection(StrEnum):
    OURS = "ours"
    THEIRS = "theirs"


class Commitment(AccountRow, Base):
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

    owner_id: Mapped[SlackId]
    what: Mapped[str] = mapped_column(Text)
    due_on: Mapped[date]
    # The instant the due day ends where the owner is: from then on it is unkept.
    due_at: Mapped[datetime]
    created_by: Mapped[SlackId]
    created_at: Mapped[datetime]
    done_at: Mapped[datetime | None]
    done_by: Mapped[SlackId | None]
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


DEFAULT_WORK_START = time(9, 0)


DEFAULT_WORK_END = time(18, 0)


# Python's weekday numbers, Monday = 0.
DEFAULT_WORK_DAYS = "01234"


class UserPrefs(Base):
    """One person's working hours, time zone and absences, as nudges must respect them."""

    __tablename__ = "user_prefs"

    team_id: Mapped[SlackId] = mapped_column(primary_key=True)
    user_id: Mapped[SlackId] = mapped_column(primary_key=True)
    # From Slack's users.info (an IANA name), refreshed when older than a day.
    slack_tz: Mapped[str | None] = mapped_column(String(64))
    slack_tz_fetched_at: Mapped[datetime | None]
    # Also from users.info (include_locale), fetched with the zone: how this person
    # writes dates in numbers. NULL: never asked; "": Slack had none.
    slack_locale: Mapped[str | None] = mapped_column(String(16))
    # Set by the user; wins over Slack's.
    tz_override: Mapped[str | None] = mapped_column(String(64))
    work_start: Mapped[time] = mapped_column(Time, default=DEFAULT_WORK_START)
    work_end: Mapped[time] = mapped_column(Time, default=DEFAULT_WORK_END)
    work_days: Mapped[str] = mapped_column(String(7), default=DEFAULT_WORK_DAYS)
    away_from: Mapped[date | None]
    away_until: Mapped[date | None]
    manager_id: Mapped[SlackId | None]
    digest_opt_out: Mapped[bool] = mapped_column(Boolean, default=False)


class TeamHoliday(Base):
    """A day the whole team is off, added on top of the country's public holidays."""

    __tablename__ = "team_holidays"

    team_id: Mapped[SlackId] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))


class TeamCalendar(TeamSettings, Base):
    """A team's calendar settings: whose public holidays hold its reminders, and how
    long, in working time, a client's question may wait for a reply."""

    __tablename__ = "team_calendars"

    # An ISO code the `holidays` package knows (DE, US…); None: the deployment's
    # HOLIDAY_COUNTRY applies.
    holiday_country: Mapped[str | None] = mapped_column(String(8))
    # How many working minutes a client's question may wait for our reply; None: the
    # default (bot.services.questions.DEFAULT_NORM_MINUTES).
    reply_norm_minutes: Mapped[int | None] = mapped_column(Integer)


class ChannelPacing(Base):
    """When a shared channel may next take a bot post, agreed between all workers.

    Slack drops a bot's posts to one channel faster than about one a second; a
    sender reserves the next free slot here in one short upsert and sleeps until it.
    """

    __tablename__ = "channel_pacing"

    team_id: Mapped[SlackId] = mapped_column(primary_key=True)
    channel_id: Mapped[SlackId] = mapped_column(primary_key=True)
    # Seconds since the epoch (wall clock, shared by the workers): plain arithmetic in
    # the upsert on SQLite and PostgreSQL alike.
    next_free_at: Mapped[float] = mapped_column(Float)


class NudgeStatus(StrEnum):
    PENDING = "pending"  # waiting for its time and the recipient's working hours
    GROUPED = "grouped"  # written into an outbox message
    CANCELLED = "cancelled"  # no longer true (done, lost, reassigned)
    SUPERSEDED = "superseded"  # a later nudge about the same thing replaced it


# The rows `ix_nudges_pending` holds (migration 0007).
_PENDING_ONLY = text("status = 'pending'")


class Nudge(TeamRow, Base):
    """One thing someone should be reminded of. Unique per (kind, subject, slot).

    The sweep writes nudges as their sources fall due; a second pass groups a
    recipient's due nudges into one outbox message, in their working hours.
    """

    __tablename__ = "nudges"
    __table_args__ = (
        UniqueConstraint("team_id", "kind", "subject", "slot", name="uq_nudges_key"),
        # Only what is waiting: most nudges are written already grouped (migration 0007).
        Index(
            "ix_nudges_pending",
            "deliver_at",
            postgresql_where=_PENDING_ONLY,
            sqlite_where=_PENDING_ONLY,
        ),
    )

    kind: Mapped[str] = mapped_column(String(30))
    subject: Mapped[str] = mapped_column(String(80))
    slot: Mapped[str] = mapped_column(String(60))
    recipient: Mapped[SlackId]
    # Not foreign keys: the sweep writes both from rows it has just read or written,
    # and PostgreSQL's per-row checks were a sixth of a big sweep (migration 0007).
    account_id: Mapped[int | None]
    deliver_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(12), default=NudgeStatus.PENDING)
    created_at: Mapped[datetime]
    outbox_id: Mapped[int | None]


# Written into the SQL itself, not bound: only then can either database tell that a
# query for pending nudges may use the partial index `ix_nudges_pending`.
NUDGE_IS_PENDING = Nudge.status == literal_column(f"'{NudgeStatus.PENDING.value}'")


class QbrCadence(StrEnum):
    QUARTER = "quarter"
    MONTH = "month"


class Qbr(AccountRow, Base):
    """The business-review rhythm of one account: when the next one is, how often."""

    __tablename__ = "qbrs"
    __table_args__ = (
        UniqueConstraint("team_id", "account_id", name="uq_qbrs_account"),
        Index("ix_qbrs_next_nudge", "next_nudge_at"),
    )

    next_on: Mapped[date]
    cadence: Mapped[str] = mapped_column(String(10), default=QbrCadence.QUARTER)
    lead_days: Mapped[int] = mapped_column(Integer, default=7)
    last_held_on: Mapped[date | None]
    held_count: Mapped[int] = mapped_column(Integer, default=0)
    on_time_count: Mapped[int] = mapped_column(Integer, default=0)
    # Reviews that did not take place: skipped, or never answered within their window.
    missed_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_by: Mapped[SlackId]
    next_nudge_at: Mapped[datetime | None]
    # Set when the account was lost: no review is planned until it is scheduled again.
    dropped_at: Mapped[datetime | None]

    account: Mapped[Account] = relationship()


class CheckIn(AccountRow, Base):
    """A post-sale check-in on a won account."""

    __tablename__ = "checkins"
    __table_args__ = (
        UniqueConstraint("team_id", "account_id", "due_on", name="uq_checkins_day"),
        Index("ix_checkins_next_nudge", "next_nudge_at"),
    )

    due_on: Mapped[date]
    label: Mapped[str] = mapped_column(String(30))
    done_at: Mapped[datetime | None]
    done_by: Mapped[SlackId | None]
    next_nudge_at: Mapped[datetime | None]
    # Set (with done_at) when it was closed because the account was lost, not held.
    dropped_at: Mapped[datetime | None]

    account: Mapped[Account] = relationship()


class Touch(AccountRow, Base):
    """An interaction with the customer: it resets the account's stay-in-touch clock."""

    __tablename__ = "touches"
    __table_args__ = (Index("ix_touches_account", "team_id", "account_id", "at"),)

    user_id: Mapped[SlackId]
    note: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime]
    # A link to the Slack message it was logged from, when it came from the shortcut.
    permalink: Mapped[str | None] = mapped_column(Text)
