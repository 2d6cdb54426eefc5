"""Requests Slack may deliver twice, by key, with the reply the first one got.

A slash command or a form sent again (a client retrying after a time-out, a replayed
signed request) or an event Slack retries must be answered, not done again. Each such
request's key is claimed by inserting its row, which a second delivery cannot do
while the first holds it; once the first has its reply, the row holds that too and
every later delivery is given the same (handlers/edge/replays.py decides when to claim).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage.models.delivery import RequestReply

# A signed request is accepted for 5 minutes either side of its timestamp, and Slack
# retries an event after about 1 and then 5 more minutes: past this, no delivery of
# the same request can still come, and its row may go.
REPLAY_WINDOW = timedelta(minutes=15)


@dataclass(frozen=True)
class Reply:
    """The HTTP answer a request got the first time."""

    status: int
    body: str
    content_type: str | None


class StillRunning:
    """The first delivery has the claim and has not answered yet."""


STILL_RUNNING = StillRunning()


def try_claim(conn: Connection, *, key: str, now: datetime) -> bool:
    """Claims `key` for this delivery, in the connection's transaction: False if some
    delivery has it already (on PostgreSQL, once that one's transaction has ended)."""
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    claimed = conn.execute(
        insert(RequestReply)
        .values(key=key, received_at=now)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(RequestReply.key)
    ).first()
    return claimed is not None


def first_reply(session: Session, *, key: str) -> Reply | StillRunning:
    """What the delivery holding `key` answered; STILL_RUNNING until it has (or if it
    failed and let the key go, so that the caller may claim it)."""
    row = session.execute(
        select(RequestReply.status, RequestReply.body, RequestReply.content_type).where(
            RequestReply.key == key
        )
    ).first()
    if row is None or row.status is None:
        return STILL_RUNNING
    return Reply(status=row.status, body=row.body or "", content_type=row.content_type)


def remember(session: Session, *, key: str, reply: Reply) -> None:
    session.execute(
        update(RequestReply)
        .where(RequestReply.key == key)
        .values(status=reply.status, body=reply.body, content_type=reply.content_type)
    )


def release(session: Session, *, key: str) -> None:
    """The request failed and saved nothing: a later delivery runs it again."""
    session.execute(delete(RequestReply).where(RequestReply.key == key))


def forget_expired(session: Session, *, now: datetime) -> int:
    result = session.execute(
        delete(RequestReply).where(RequestReply.received_at < now - REPLAY_WINDOW)
    )
    return int(getattr(result, "rowcount", 0) or 0)
