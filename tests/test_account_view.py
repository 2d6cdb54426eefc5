"""/rapport account: one account at a glance, and setting its type, owner and expectations."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.services.account_overview import last_meso_set, relationship_type_from
from bot.services.errors import UsageError
from storage.db import SessionFactory
from storage.models import Account, Commitment, Concession, MesoOffer, MesoSet
from tests.slackkit import ALICE, BOB, OTHER_TEAM, SlackSender


def stored(db: SessionFactory, name: str = "acme", team: str | None = None) -> Account:
    with db() as session:
        query = select(Account).where(Account.key == name)
        if team:
            query = query.where(Account.team_id == team)
        return session.scalars(query).one()


def test_setting_type_owner_and_expectations_creates_the_account(
    slack_user: SlackSender, db: SessionFactory
) -> None:
    reply = slack_user.command(
        "/rapport",
        "account Acme type: strategic owner: <@U0BOB|bob> expects: straight answers, no lunches",
    )

    assert reply.status == 200 and reply.ephemeral
    assert "Updated relationship type, owner, what they expect" in reply.text
    assert "Strategic" in reply.text and f"<@{BOB}>" in reply.text
    assert "straight answers, no lunches" in reply.text
    account = stored(db)
    assert (account.relationship_type, account.owner_id, account.created_by) == (
        "strategic",
        BOB,
        ALICE,
    )
    assert account.expectations == "straight answers, no lunches"


@pytest.mark.parametrize(
    ("typed", "stored_as"),
    [
        ("Transactional", "transactional"),
        ("functional", "functional"),
        ("affiliative", "affiliative"),
        ("personal assistance", "personal"),
        ("strategc", "strategic"),
        ("partner", "strategic"),
    ],
)
def test_relationship_type_reads_names_words_and_typos(typed: str, stored_as: str) -> None:
    assert relationship_type_from(typed) == stored_as


def test_unknown_relationship_type_lists_the_five(
    slack_user: SlackSender, db: SessionFactory
) -> None:
    reply = slack_user.command("/rapport", "account acme type: best friends")
    assert reply.ephemeral
    assert "`transactional`" in reply.text and "`personal`" in reply.text
    with db() as session:
        assert session.scalar(select(func.count()).select_from(Account)) == 0


def test_owner_by_plain_name_asks_to_pick_from_autocomplete(
    slack_user: SlackSender, db: SessionFactory
) -> None:
    reply = slack_user.command("/rapport", "account acme owner: @bob")
    assert reply.ephemeral
    assert "pick the person from Slack's list" in reply.text
    with db() as session:
        assert session.scalar(select(func.count()).select_from(Account)) == 0


def test_owner_mention_without_a_name_works(slack_user: SlackSender, db: SessionFactory) -> None:
    slack_user.command("/rapport", "account acme owner: <@U0BOB>")
    assert stored(db).owner_id == BOB


def test_empty_account_prompts_to_ask_the_buyer_what_they_expect(
    slack_user: SlackSender, db: SessionFactory
) -> None:
    slack_user.command("/rapport", "account acme owner: <@U0ALICE>")
    with db() as session:
        account = session.scalars(select(Account)).one()
        session.add(
            Concession(
                team_id=account.team_id,
                account_id=account.id,
                give="free onboarding",
                logged_by=ALICE,
                logged_at=account.created_at,
            )
        )
        session.commit()
    reply = slack_user.command("/rapport", "account acme")

    assert reply.ephemeral
    assert "What do they expect from the relationship?" in reply.text
    assert "How do you like to work with the people you buy from?" in reply.text
    assert "`/rapport account acme expects: …`" in reply.text
    assert "Relationship type not set" in reply.text
    assert "0 traded gives, 1 one-way give" in reply.text
    assert "None on record yet" in reply.text  # MESO
    assert "No plan yet" in reply.text and "None open." in reply.text


def test_account_view_lists_open_commitments_only(
    slack_user: SlackSender, db: SessionFactory
) -> None:
    slack_user.command("/rapport", "account acme type: affiliative")
    with db() as session:
        account = session.scalars(select(Account)).one()
        for what, day, done in (
            ("send the security questionnaire", 10, False),
            ("share the rollout plan", 12, True),
        ):
            session.add(
                Commitment(
                    team_id=account.team_id,
                    account_id=account.id,
                    owner_id=ALICE,
                    what=what,
                    due_on=date(2026, 12, day),
                    due_at=datetime(2026, 12, day + 1, tzinfo=UTC),
                    created_by=ALICE,
                    created_at=account.created_at,
                    done_at=account.created_at if done else None,
                )
            )
        session.commit()

    reply = slack_user.command("/rapport", "account acme")
    assert "send the security questionnaire, due Thu 10 Dec 2026" in reply.text
    assert "share the rollout plan" not in reply.text
    assert "1 open commitment" in reply.body["text"]


def test_unknown_account_is_not_created_by_looking(
    slack_user: SlackSender, db: SessionFactory
) -> None:
    reply = slack_user.command("/rapport", "account nowhere")
    assert reply.ephemeral and "There is no account called “nowhere” yet" in reply.text
    with db() as session:
        assert session.scalar(select(func.count()).select_from(Account)) == 0


def test_only_the_same_teams_account_is_shown(slack_user: SlackSender, db: SessionFactory) -> None:
    slack_user.command("/rapport", "account acme expects: weekly calls")
    other = slack_user.command("/rapport", "account acme", team=OTHER_TEAM)
    assert "no account called" in other.text
    assert "weekly calls" not in other.text

    slack_user.command("/rapport", "account acme type: functional", team=OTHER_TEAM)
    assert stored(db, team=OTHER_TEAM).relationship_type == "functional"
    assert stored(db, team="T0ACME").relationship_type is None
    assert "weekly calls" in slack_user.command("/rapport", "account acme").text


def test_hostile_account_text_is_escaped(slack_user: SlackSender) -> None:
    reply = slack_user.command(
        "/rapport", "account acme expects: <!channel> @here <https://x.test|y>"
    )
    body = str(reply.body)
    assert "<!channel>" not in body and "@here" not in body and "<https://x.test" not in body


@pytest.mark.parametrize(
    "text",
    ["", "type: strategic", "acme type:", "acme owner: bob", "acme type: x type: y"],
)
def test_bad_account_commands_get_a_usage_line(
    slack_user: SlackSender, db: SessionFactory, text: str
) -> None:
    reply = slack_user.command("/rapport", f"account {text}")
    assert reply.status == 200 and reply.ephemeral
    assert reply.text
    with db() as session:
        assert session.scalar(select(func.count()).select_from(Account)) == 0


def test_account_view_shows_the_latest_meso_set(
    slack_user: SlackSender, db: SessionFactory
) -> None:
    slack_user.command("/rapport", "account acme type: strategic")
    with db() as session:
        account = session.scalars(select(Account)).one()
        assert last_meso_set(session, team_id=account.team_id, account_id=account.id) is None
        for minutes, chosen in ((0, None), (5, "B")):
            session.add(
                MesoSet(
                    team_id=account.team_id,
                    account_id=account.id,
                    created_by=BOB,
                    created_at=account.created_at + timedelta(minutes=minutes),
                    tolerance_pct=10.0,
                    chosen_label=chosen,
                    offers=[
                        MesoOffer(
                            team_id=account.team_id,
                            position=i,
                            label=label,
                            terms=f"{label} terms {minutes}",
                            cadence="quarterly reviews",
                        )
                        for i, label in enumerate("AB")
                    ],
                )
            )
        session.commit()

    reply = slack_user.command("/rapport", "account acme")
    assert f"offered by <@{BOB}>" in reply.text
    assert "*B*: B terms 5; quarterly reviews  :white_check_mark: their pick" in reply.text
    assert "terms 0" not in reply.text


def test_usage_error_from_type_is_a_usage_error() -> None:
    with pytest.raises(UsageError):
        relationship_type_from("zzz")


def test_account_channel_is_set_from_a_picked_channel(slack_user: SlackSender) -> None:
    reply = slack_user.command("/rapport", "account acme channel: <#C0ACMEDEAL|acme-deal>")
    assert "<#C0ACMEDEAL>" in reply.text
    wrong = slack_user.command("/rapport", "account acme channel: acme-deal")
    assert "pick the channel from Slack's list" in wrong.text


def test_account_view_shows_promises_kept_on_time(
    slack_user: SlackSender, db: SessionFactory
) -> None:
    slack_user.command("/rapport", "account acme type: strategic")
    with db.begin() as session:
        account = session.scalars(select(Account)).one()
        for kept in (True, False, True):
            session.add(
                Commitment(
                    team_id=account.team_id,
                    account_id=account.id,
                    owner_id=ALICE,
                    what="x",
                    due_on=date(2026, 11, 20),
                    due_at=datetime(2026, 11, 21, tzinfo=UTC),
                    created_by=ALICE,
                    created_at=datetime(2026, 11, 1, tzinfo=UTC),
                    nudges_sent=0,
                    done_at=datetime(2026, 11, 20, tzinfo=UTC),
                    kept_on_time=kept,
                )
            )
    assert "2 of 3" in slack_user.command("/rapport", "account acme").text
