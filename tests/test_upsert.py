"""storage.upsert's bulk writes store exactly what they are given, on both databases.

On PostgreSQL each column travels as an array literal that storage/upsert.py writes
itself; these values are the ones its escaping must get right.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from storage.db import SessionFactory
from storage.models import Nudge
from storage.upsert import insert_ignore_many, insert_ignore_returning, update_by_id

HOSTILE = [
    'a"b', "back\\slash", '\\"', '"', "\\", "{brace}", "}", "NULL", "null", "", " spaced ",
    "com,ma", "line\nbreak", "tab\there", "quote'single", '{"a": [1, 2]}', "ünï©ødé 😀",
]  # fmt: skip
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
KEY = ("team_id", "kind", "subject", "slot")


def nudge(i: int, subject: str, slot: str) -> dict[str, object]:
    return {
        "team_id": "T1",
        "kind": "followup",
        "subject": subject,
        "slot": slot,
        "recipient": "U1",
        "account_id": None if i % 3 == 0 else i,
        "deliver_at": NOW + timedelta(minutes=i),
        "status": "pending",
        "created_at": NOW,
        "outbox_id": None,
    }


def stored(db: SessionFactory) -> dict[str, tuple[object, ...]]:
    with db() as session:
        rows = session.execute(
            select(Nudge.slot, Nudge.subject, Nudge.account_id, Nudge.deliver_at, Nudge.outbox_id)
        ).all()
    return {slot: tuple(rest) for slot, *rest in rows}


def test_hostile_text_nulls_and_instants_round_trip(db: SessionFactory) -> None:
    rows = [nudge(i, text, f"s{i}") for i, text in enumerate(HOSTILE)]
    returned_rows = [nudge(i, text, f"r{i}") for i, text in enumerate(HOSTILE)]
    with db.begin() as session:
        assert insert_ignore_many(session, Nudge, rows, unique=KEY) == len(HOSTILE)
        assert insert_ignore_many(session, Nudge, rows, unique=KEY) == 0  # all conflict
        returned = insert_ignore_returning(session, Nudge, returned_rows, unique=KEY)
        assert len(returned) == len(HOSTILE)
    expected = {
        row["slot"]: (row["subject"], row["account_id"], row["deliver_at"], None)
        for row in rows + returned_rows
    }
    assert stored(db) == expected

    with db.begin() as session:
        ids = session.scalars(select(Nudge.id).order_by(Nudge.slot)).all()
        changes = [
            {"id": id_, "subject": HOSTILE[k % len(HOSTILE)][::-1], "outbox_id": k or None}
            for k, id_ in enumerate(ids)
        ]
        update_by_id(session, Nudge, changes)
    with db() as session:
        after = dict(session.execute(select(Nudge.id, Nudge.subject)).all())
        outbox = dict(session.execute(select(Nudge.id, Nudge.outbox_id)).all())
    assert after == {change["id"]: change["subject"] for change in changes}
    assert outbox == {change["id"]: change["outbox_id"] for change in changes}
