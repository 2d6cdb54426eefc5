"""Reserving a channel's next free posting slot, agreed between every worker."""

from __future__ import annotations

from sqlalchemy import Float, bindparam, case
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage.models import ChannelPacing


def reserve_slot(
    session: Session,
    *,
    team_id: str,
    channel_id: str,
    now: float,
    interval: float,
    max_lead: float,
) -> float:
    """The instant (epoch seconds) this sender may post to the channel; the channel's
    next free slot moves `interval` past it.

    One upsert: PostgreSQL locks the row for it, SQLite has a single writer, so two
    senders never get the same slot. A slot more than `max_lead` ahead cannot come
    from senders queueing (each holds one reservation at a time): it was written by a
    clock that has since stepped back, and honouring it would stall the channel.
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    at_now = bindparam("now", now, type_=Float)
    stored = ChannelPacing.next_free_at
    start = case((stored.between(at_now, at_now + max_lead), stored), else_=at_now)
    statement = (
        insert(ChannelPacing)
        .values(team_id=team_id, channel_id=channel_id, next_free_at=at_now + interval)
        .on_conflict_do_update(
            index_elements=["team_id", "channel_id"],
            set_={"next_free_at": start + interval},
        )
        .returning(ChannelPacing.next_free_at)
    )
    next_free = float(session.execute(statement).scalar_one())
    return next_free - interval
