"""The buyer's CSAT or NPS answer, recorded by the owner from a check-in nudge.

A rating feeds the account's health (bot.services.health) and the weekly digest.
The day of the last contact it comes with counts as a touch when it is newer than
the last touch logged, so answering a check-in also restarts the stay-in-touch clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from bot.services import buyer_scores, followups, rhythm
from bot.services.accounts import account_by_id
from bot.services.calendar import WorkCalendar
from bot.services.dates import CONTACT, DayReader
from bot.services.errors import NotFound, UsageError
from bot.services.shown import Shown, copied
from messages.phrases import recovery_followup
from storage.models import Account, CheckIn, Commitment, Rating, RatingKind


@dataclass(frozen=True)
class Recorded:
    rating: Rating
    created: bool  # False: this check-in already had its rating; nothing new was written
    touched: bool  # the last contact was logged as a touch


@dataclass(frozen=True, slots=True)
class RecoveryShown:
    """The follow-up recorded from a low score, as the reminder shows it."""

    what: str
    due_on: date
    done: bool


@dataclass(frozen=True, slots=True)
class RatingShown(Shown):
    """A recorded rating as a message shows it, with what it calls for (buyer_scores)."""

    id: int
    kind: str
    score: int
    contact_on: date | None
    followup: RecoveryShown | None = None

    @classmethod
    def of(cls, row: Rating) -> RatingShown:
        made = row.followup
        followup = (
            None
            if made is None
            else RecoveryShown(made.what, made.due_on, made.done_at is not None)
        )
        return copied(cls, row, followup=followup)

    @property
    def nps_group(self) -> str | None:
        return buyer_scores.nps_group(self.score) if self.kind == RatingKind.NPS else None

    @property
    def target(self) -> int:
        return buyer_scores.CSAT_TARGET

    @property
    def meets_target(self) -> bool:
        """A CSAT above the target (an NPS answer is read by its group instead)."""
        return buyer_scores.above_target(self.score)

    @property
    def next(self) -> str | None:
        """ "referral", "recovery" or None (buyer_scores.next_move)."""
        move = buyer_scores.next_move(self.kind, self.score)
        return None if move is None else move.value


@dataclass(frozen=True)
class ToRate:
    """The check-in a rating is asked for, as the modal and its submission need it."""

    checkin_id: int
    account_id: int
    account_name: str
    label: str


def checkin_to_rate(session: Session, *, team_id: str, checkin_id: int) -> ToRate | None:
    """The team's check-in a nudge's button names, with its account; None when gone."""
    row = session.execute(
        select(CheckIn.id, CheckIn.account_id, Account.name, CheckIn.label)
        .join(Account, Account.id == CheckIn.account_id)
        .where(CheckIn.team_id == team_id, CheckIn.id == checkin_id)
    ).first()
    return ToRate(*row) if row is not None else None


def check_rating(kind: str, score: object, contact_on: date, today: date) -> RatingKind:
    """The kind, once kind, score and day are known to be possible; else a UsageError."""
    try:
        checked = RatingKind(kind)
    except ValueError:
        raise UsageError("Pick CSAT or NPS.") from None
    if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 10:
        raise UsageError("The score is a whole number from 0 to 10.")
    # The one range rule for dates (bot.services.dates), with its wording.
    DayReader(today).check(contact_on, CONTACT)
    return checked


def first_ratings(
    session: Session, *, team_id: str, checkin_ids: Sequence[int]
) -> dict[int, RatingShown]:
    """The rating first recorded for each of the check-ins that has one, by check-in."""
    found: dict[int, RatingShown] = {}
    for rating in session.scalars(
        select(Rating)
        .where(Rating.team_id == team_id, Rating.checkin_id.in_(checkin_ids))
        .options(selectinload(Rating.followup))
        .order_by(Rating.id.desc())
    ):
        assert rating.checkin_id is not None
        found[rating.checkin_id] = RatingShown.of(rating)
    return found


def rating_for_checkin(session: Session, *, team_id: str, checkin_id: int) -> Rating | None:
    return session.scalar(
        select(Rating)
        .where(Rating.team_id == team_id, Rating.checkin_id == checkin_id)
        .order_by(Rating.id)
        .limit(1)
    )


def record_rating(
    session: Session,
    *,
    team_id: str,
    account_id: int,
    kind: str,
    score: int,
    contact_on: date,
    checkin_id: int | None,
    user_id: str,
    now: datetime,
    calendar: WorkCalendar | None = None,
) -> Recorded:
    """Write the rating once per check-in, and log the contact day as a touch if newer."""
    calendar = calendar or WorkCalendar(tz=ZoneInfo("UTC"))
    today = calendar.today(now)
    checked = check_rating(kind, score, contact_on, today)
    account = account_by_id(session, team_id=team_id, account_id=account_id)
    if checkin_id is not None:
        # Locked, so two clicks at once on PostgreSQL queue up here and the second
        # finds the first one's rating (SQLite serialises writers anyway).
        checkin = session.scalar(
            select(CheckIn)
            .where(
                CheckIn.team_id == team_id,
                CheckIn.id == checkin_id,
                CheckIn.account_id == account_id,
            )
            .with_for_update()
        )
        if checkin is None:
            raise NotFound("That check-in is not there any more.")
        existing = rating_for_checkin(session, team_id=team_id, checkin_id=checkin_id)
        if existing is not None:
            return Recorded(existing, created=False, touched=False)
    rating = Rating(
        team_id=team_id,
        account_id=account_id,
        kind=checked.value,
        score=score,
        contact_on=contact_on,
        checkin_id=checkin_id,
        recorded_by=user_id,
        recorded_at=now,
    )
    rating.account = account
    session.add(rating)
    # Today's contact is "now"; an earlier one, midday of that day where the owner is.
    contact_at = (
        now
        if contact_on >= today
        else min(now, datetime.combine(contact_on, time(12, 0), tzinfo=calendar.tz))
    )
    touched = account.last_touch_at is None or contact_at > account.last_touch_at
    if touched:
        rhythm.log_touch(
            session,
            account,
            user_id=user_id,
            note=f"{checked.value.upper()} {score}/10 recorded",
            now=contact_at,
            calendar=calendar,
        )
    session.flush()
    return Recorded(rating, created=True, touched=touched)


def record_recovery_followup(
    session: Session,
    rating_id: int,
    checkin_id: int,
    *,
    team_id: str,
    user_id: str,
    calendar: WorkCalendar,
    now: datetime,
) -> Commitment | None:
    """The follow-up a low score calls for (buyer_scores: a detractor, a CSAT of 6 or
    less), recorded once for the caller, due on their next working day: hear what went
    wrong and agree one fix. A second click finds the first one; None for a rating that
    called for no recovery, or that is not the one of `checkin_id`."""
    rating = session.scalar(
        select(Rating)
        .where(Rating.team_id == team_id, Rating.id == rating_id, Rating.checkin_id == checkin_id)
        # Two clicks at once on PostgreSQL queue here; the second finds the first's.
        .with_for_update()
    )
    if rating is None:
        raise NotFound("That rating is not there any more.")
    if rating.followup is not None:
        return rating.followup
    if buyer_scores.next_move(rating.kind, rating.score) is not buyer_scores.Next.RECOVERY:
        return None
    commitment = followups.add_commitment(
        session,
        team_id=team_id,
        account_name=rating.account.name,
        user_id=user_id,
        what=recovery_followup(rating.kind, rating.score),
        due_on=calendar.working_day_after(calendar.today(now), 1),
        calendar=calendar,
        now=now,
    )
    rating.followup = commitment
    session.flush()
    return commitment
