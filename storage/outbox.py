"""Outbox queries: enqueue once per key, hold back and let go the sweep's own
messages, claim atomically, settle each row."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, delete, func, or_, select, tuple_, update
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable

from storage.models import DeliveryHold, OutboxMessage, OutboxStatus
from storage.reads import plain_rows
from storage.uninstalls import serving
from storage.upsert import among, insert_ignore_returning, update_by_id


def enqueue_many(
    session: Session,
    rows: Sequence[dict[str, Any]],
    *,
    now: datetime,
    not_before: datetime | None = None,
) -> dict[tuple[str, str, str], int]:
    """Add many messages in one statement; returns (team, subject, slot) -> new id.

    `not_before` later than `now` holds them back from every sender until then.
    """
    values = [
        {
            **row,
            "status": OutboxStatus.PENDING.value,
            "attempts": 0,
            "not_before": not_before or now,
            "created_at": now,
        }
        for row in rows
    ]
    added = insert_ignore_returning(
        session,
        OutboxMessage,
        values,
        unique=("team_id", "kind", "subject", "slot"),
        returning=("id", "team_id", "subject", "slot"),
    )
    return {(team, subject, slot): row_id for row_id, team, subject, slot in added}


# --- messages the sweep writes held back, then lets go (bot/scheduler/group.py) -----


def lock_untouched(session: Session, ids: Sequence[int]) -> set[int]:
    """Those of `ids` still pending and never tried (no sender took them), locked for
    this transaction so that no sender takes them before it ends."""
    return {
        row_id
        for (row_id,) in plain_rows(
            session,
            select(OutboxMessage.id)
            .where(
                among(session, OutboxMessage.id, ids),
                OutboxMessage.status == OutboxStatus.PENDING,
                OutboxMessage.attempts == 0,
            )
            .with_for_update(),
        )
    }


def delete_by_ids(session: Session, ids: Sequence[int]) -> None:
    session.execute(delete(OutboxMessage).where(among(session, OutboxMessage.id, ids)))


def let_go(session: Session, payloads: Mapping[int, dict[str, Any]], *, now: datetime) -> None:
    """Give each held row (id -> payload) its payload, and make it sendable from `now`."""
    update_by_id(
        session,
        OutboxMessage,
        [
            {"id": row_id, "payload": payload, "not_before": now}
            for row_id, payload in payloads.items()
        ],
    )


# --- sending ------------------------------------------------------------------------


def by_id(session: Session, row_id: int) -> OutboxMessage | None:
    return session.get(OutboxMessage, row_id)


def team_row(session: Session, *, team_id: str, row_id: int) -> OutboxMessage | None:
    """The team's row with that id (a button's message); None if another team's."""
    return session.scalar(
        select(OutboxMessage).where(OutboxMessage.team_id == team_id, OutboxMessage.id == row_id)
    )


def claim(
    session: Session,
    *,
    now: datetime,
    owner: str,
    wall_now: datetime,
    lease: timedelta,
    limit: int,
) -> Sequence[OutboxMessage]:
    """Take up to `limit` sendable rows for `owner` until `wall_now + lease`.

    Sendable: pending, due by the sweep's `now`, of a team neither on hold nor
    uninstalled; or claimed by a run whose lease ran out by the wall clock (it died or
    stalled mid-send: that attempt may have posted, so the row is marked unsure).
    PostgreSQL skips rows another worker holds; SQLite has one writer at a time, so the
    UPDATE itself is the lock.
    """
    sendable = (
        select(OutboxMessage.id)
        .where(
            or_(
                and_(
                    OutboxMessage.status == OutboxStatus.PENDING,
                    OutboxMessage.not_before <= now,
                    OutboxMessage.team_id.not_in(select(DeliveryHold.team_id)),
                    serving(OutboxMessage.team_id),
                ),
                and_(
                    OutboxMessage.status == OutboxStatus.SENDING,
                    OutboxMessage.claimed_until < wall_now,
                ),
            )
        )
        .order_by(OutboxMessage.not_before, OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    lost_mid_send = OutboxMessage.status == OutboxStatus.SENDING
    claimed = session.scalars(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(sendable.scalar_subquery()))
        .values(
            status=OutboxStatus.SENDING,
            claimed_by=owner,
            claimed_at=wall_now,
            claimed_until=wall_now + lease,
            attempts=OutboxMessage.attempts + 1,
            unsure_since=case(
                (
                    lost_mid_send,
                    func.coalesce(
                        OutboxMessage.unsure_since,
                        OutboxMessage.claimed_at,
                        OutboxMessage.created_at,
                    ),
                ),
                else_=OutboxMessage.unsure_since,
            ),
        )
        .returning(OutboxMessage)
        .execution_options(synchronize_session=False)
    ).all()
    return sorted(claimed, key=lambda row: (row.not_before, row.id))


def renew(session: Session, *, owner: str, until: datetime) -> int:
    """Extend `owner`'s lease on every row it still holds; returns how many."""
    return _changed(
        session,
        update(OutboxMessage)
        .where(OutboxMessage.claimed_by == owner, OutboxMessage.status == OutboxStatus.SENDING)
        .values(claimed_until=until),
    )


def _changed(session: Session, statement: Executable) -> int:
    """How many rows an UPDATE or DELETE changed."""
    return int(session.connection().execute(statement).rowcount)


def _held_by(row_id: int, owner: str) -> ColumnElement[bool]:
    # A row changes state only in the hands of the run that claimed it: a run whose
    # lease was taken over finds nothing to update.
    return and_(
        OutboxMessage.id == row_id,
        OutboxMessage.claimed_by == owner,
        OutboxMessage.status == OutboxStatus.SENDING,
    )


def _settle(session: Session, row_id: int, owner: str, **values: Any) -> bool:
    statement = (
        update(OutboxMessage)
        .where(_held_by(row_id, owner))
        .values(claimed_until=None, claimed_by=None, **values)
    )
    return _changed(session, statement) == 1


def mark_sent(
    session: Session, *, row_id: int, owner: str, channel_id: str, ts: str, now: datetime
) -> bool:
    return _settle(
        session,
        row_id,
        owner,
        status=OutboxStatus.SENT,
        sent_at=now,
        channel_id=channel_id,
        message_ts=ts,
        last_error=None,
    )


def mark_failed(session: Session, *, row_id: int, owner: str, error: str) -> bool:
    return _settle(session, row_id, owner, status=OutboxStatus.FAILED, last_error=error)


def release_for_retry(
    session: Session,
    *,
    row_id: int,
    owner: str,
    error: str,
    not_before: datetime,
    unsure: bool = False,
    counted: bool = True,
) -> bool:
    """Give the row back for a later attempt. `unsure`: this attempt may have posted
    (the next one looks first). Not `counted`: the attempt never reached the point
    of sending (a rate limit, a refused token), so it does not use up a try."""
    values: dict[str, Any] = {
        "status": OutboxStatus.PENDING,
        "last_error": error,
        "not_before": not_before,
    }
    if unsure:
        values["unsure_since"] = func.coalesce(OutboxMessage.unsure_since, OutboxMessage.claimed_at)
    if not counted:
        values["attempts"] = OutboxMessage.attempts - 1
    return _settle(session, row_id, owner, **values)


def mark_skipped(session: Session, *, row_id: int, owner: str, now: datetime) -> bool:
    return _settle(session, row_id, owner, status=OutboxStatus.SKIPPED, sent_at=now)


# --- teams whose token Slack refuses -------------------------------------------------


def hold_team(session: Session, *, team_id: str, error: str, now: datetime) -> bool:
    """Put the team's delivery on hold; True if it was not on hold already."""
    added = insert_ignore_returning(
        session,
        DeliveryHold,
        [{"team_id": team_id, "error": error, "since": now, "checked_at": now}],
        unique=("team_id",),
        returning=("team_id",),
    )
    return bool(added)


def holds(session: Session) -> Sequence[DeliveryHold]:
    return session.scalars(select(DeliveryHold).order_by(DeliveryHold.since)).all()


def holds_to_check(session: Session, *, before: datetime) -> Sequence[DeliveryHold]:
    # An uninstalled team's hold is lifted by its reinstall, not by a token check.
    return session.scalars(
        select(DeliveryHold).where(DeliveryHold.checked_at < before, serving(DeliveryHold.team_id))
    ).all()


def checked_hold(session: Session, *, team_id: str, now: datetime) -> None:
    session.execute(
        update(DeliveryHold).where(DeliveryHold.team_id == team_id).values(checked_at=now)
    )


def lift_hold(session: Session, *, team_id: str) -> bool:
    return _changed(session, delete(DeliveryHold).where(DeliveryHold.team_id == team_id)) == 1


# --- for operators ------------------------------------------------------------------


def requeue_failed(
    session: Session,
    *,
    now: datetime,
    row_id: int | None = None,
    failed_since: datetime | None = None,
    team_id: str | None = None,
) -> list[int]:
    """Give failed rows a fresh set of attempts from `now`; returns their ids.

    A failed row's thread replies were skipped with it (and the replies after a failed
    reply): they come back too.
    """
    chosen = [OutboxMessage.status == OutboxStatus.FAILED]
    if row_id is not None:
        chosen.append(OutboxMessage.id == row_id)
    if failed_since is not None:
        # When its last attempt began; rows failed before that was kept: when made.
        failed_at = func.coalesce(OutboxMessage.claimed_at, OutboxMessage.created_at)
        chosen.append(failed_at >= failed_since)
    if team_id is not None:
        chosen.append(OutboxMessage.team_id == team_id)
    ids = list(session.scalars(select(OutboxMessage.id).where(*chosen).order_by(OutboxMessage.id)))
    if not ids:
        return []
    skipped = session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.status == OutboxStatus.SKIPPED,
            OutboxMessage.message_ts.is_(None),
            tuple_(OutboxMessage.team_id, OutboxMessage.subject, OutboxMessage.slot).in_(
                select(OutboxMessage.team_id, OutboxMessage.subject, OutboxMessage.slot).where(
                    OutboxMessage.id.in_(ids)
                )
            ),
        )
    ).all()
    # A reply skipped because its parent, or the reply before it, failed (and so on
    # down the thread) comes back with it.
    back = set(ids)
    replies: list[int] = []
    while added := [
        reply.id
        for reply in skipped
        if reply.id not in back
        and {(reply.payload or {}).get(key) for key in ("thread_of", "after")} & back
    ]:
        back.update(added)
        replies.extend(added)
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids + replies))
        .values(
            status=OutboxStatus.PENDING,
            attempts=0,
            not_before=now,
            sent_at=None,
            claimed_until=None,
            claimed_by=None,
        )
    )
    return ids


@dataclass(frozen=True)
class Waiting:
    count: int
    oldest: OutboxMessage | None


def waiting(session: Session) -> Waiting:
    """The messages not yet settled (pending or mid-send), and the oldest of them."""
    unsettled = OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING])
    count = session.scalar(select(func.count()).select_from(OutboxMessage).where(unsettled))
    oldest = session.scalars(
        select(OutboxMessage)
        .where(unsettled)
        .order_by(OutboxMessage.created_at, OutboxMessage.id)
        .limit(1)
    ).first()
    return Waiting(int(count or 0), oldest)


def troubled(session: Session, *, now: datetime, limit: int = 200) -> Sequence[OutboxMessage]:
    """Rows an operator should look at: failed for good, retrying, or stuck mid-send."""
    return session.scalars(
        select(OutboxMessage)
        .where(
            or_(
                OutboxMessage.status == OutboxStatus.FAILED,
                and_(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.attempts > 0),
                and_(
                    OutboxMessage.status == OutboxStatus.SENDING,
                    OutboxMessage.claimed_until < now,
                ),
            )
        )
        .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
        .limit(limit)
    ).all()
