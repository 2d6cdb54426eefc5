"""/followup: commitments recorded from plain-word dates, and refused when unreadable."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from storage.db import SessionFactory
from storage.models import Commitment
from tests.conftest import at
from tests.slackkit import ALICE, SlackSender

# A Sunday.
NOW = "2026-11-22T10:00:00+00:00"


@pytest.mark.parametrize(
    ("written", "due"),
    [
        ("tomorrow", date(2026, 11, 23)),
        ("fri", date(2026, 11, 27)),
        ("in 3 days", date(2026, 11, 25)),
        ("2026-12-01", date(2026, 12, 1)),
        ("today", date(2026, 11, 22)),
    ],
)
def test_followup_reads_plain_dates(
    slack_user: SlackSender, db: SessionFactory, written: str, due: date
) -> None:
    with freeze_time(NOW, real_asyncio=True):
        reply = slack_user.command("/followup", f"acme send the pricing sheet due: {written}")

    assert reply.status == 200 and reply.ephemeral
    assert "send the pricing sheet" in reply.text
    with db() as session:
        commitment = session.scalars(select(Commitment)).one()
    assert commitment.due_on == due
    assert commitment.owner_id == ALICE
    # Unkept once the due day is over (UTC is the default time zone); reminded on the
    # morning of the due day, unless that morning has already begun.
    assert commitment.due_at == at(f"{due.isoformat()}T00:00:00") + timedelta(days=1)
    morning = at(f"{due.isoformat()}T09:00:00")
    expected = morning if morning > at(NOW) else commitment.due_at
    assert commitment.next_nudge_at == expected


def test_followup_quoted_account_with_spaces(slack_user: SlackSender, db: SessionFactory) -> None:
    slack_user.command("/followup", '"Acme Corp" share the rollout plan due: 2027-01-15')
    with db() as session:
        commitment = session.scalars(select(Commitment)).one()
        assert commitment.account.name == "Acme Corp"
        assert commitment.what == "share the rollout plan"


@pytest.mark.parametrize(
    "text",
    [
        "acme send pricing",
        "acme due: fri",
        "acme send pricing due: someday maybe",
        "acme send pricing due: 2020-01-01",
        "acme send pricing due: fri due: mon",
        "acme send pricing due: 9999-12-31",
    ],
)
def test_followup_bad_input_gets_usage_and_writes_nothing(
    slack_user: SlackSender, db: SessionFactory, text: str
) -> None:
    with freeze_time(NOW, real_asyncio=True):
        reply = slack_user.command("/followup", text)
    assert reply.status == 200
    assert reply.ephemeral
    assert "/followup ACCOUNT" in reply.text
    with db() as session:
        assert session.scalars(select(Commitment)).all() == []


def test_followup_alone_lists_my_open_commitments(slack_user: SlackSender) -> None:
    with freeze_time(NOW, real_asyncio=True):
        slack_user.command("/followup", "acme send the pricing sheet due: fri")
        slack_user.command("/followup", "globex they: send the signed order due: tomorrow")
        slack_user.command("/followup", "acme call the CFO due: fri", user="U0BOB")
        reply = slack_user.command("/followup", "")

    assert reply.ephemeral
    assert "send the pricing sheet" in reply.text
    assert "send the signed order" in reply.text
    assert "call the CFO" not in reply.text, "Bob's, not mine"


def test_followup_account_lists_everyones_for_it(slack_user: SlackSender) -> None:
    with freeze_time(NOW, real_asyncio=True):
        slack_user.command("/followup", "acme send the pricing sheet due: fri")
        slack_user.command("/followup", "acme call the CFO due: fri", user="U0BOB")
        slack_user.command("/followup", "globex unrelated due: fri")
        reply = slack_user.command("/followup", "acme")

    assert "send the pricing sheet" in reply.text and "call the CFO" in reply.text
    assert "unrelated" not in reply.text
    assert "<@U0BOB>" in reply.text


def test_they_records_the_buyers_promise(slack_user: SlackSender, db: SessionFactory) -> None:
    with freeze_time(NOW, real_asyncio=True):
        reply = slack_user.command("/followup", "acme they: send the signed order form due: fri")
    assert "*acme* will *send the signed order form*" in reply.text
    with db() as session:
        commitment = session.scalars(select(Commitment)).one()
    assert commitment.direction == "theirs"
    assert commitment.owner_id == ALICE
