"""/concede through the real app: signed requests in, replies and rows out."""

from __future__ import annotations

from sqlalchemy import func, select

from storage.db import SessionFactory
from storage.models import Account, Concession
from tests.slackkit import ALICE, BOB, OTHER_TEAM, SlackSender


def count(db: SessionFactory, model: type) -> int:
    with db() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_concede_with_get_logs_a_traded_concession(
    slack_user: SlackSender, db: SessionFactory
) -> None:
    reply = slack_user.command("/concede", "acme give: 5% discount get: 24-month term")

    assert reply.status == 200
    assert reply.ephemeral
    assert "traded concession" in reply.text
    assert "24-month term" in reply.text
    with db() as session:
        entry = session.scalars(select(Concession)).one()
        assert (entry.give, entry.get, entry.logged_by) == ("5% discount", "24-month term", ALICE)
        assert entry.account.owner_id == ALICE


def test_concede_without_get_warns_of_drip_concessions(
    slack_user: SlackSender, db: SessionFactory
) -> None:
    reply = slack_user.command("/concede", "Acme give: free onboarding")

    assert "one-way concession" in reply.text
    assert "can you commit to something in return" in reply.text
    assert "free onboarding" in reply.text
    assert count(db, Concession) == 1


def test_concede_trigger_is_kept(slack_user: SlackSender, db: SessionFactory) -> None:
    slack_user.command(
        "/concede", "acme give: extra seats get: case study trigger: if live by March"
    )
    with db() as session:
        assert session.scalars(select(Concession.trigger)).one() == "if live by March"


def test_concede_account_shows_log_with_balance(slack_user: SlackSender) -> None:
    slack_user.command("/concede", "acme give: 5% discount get: 24-month term")
    slack_user.command("/concede", "ACME give: free onboarding", user=BOB)

    reply = slack_user.command("/concede", "acme")

    assert reply.ephemeral
    assert "1 traded give, 1 one-way give" in reply.text
    text = reply.text
    # rindex: "5% discount" is also named earlier, among the tradeables that fit.
    assert text.index("free onboarding") < text.rindex("5% discount"), "newest first"
    assert f"<@{BOB}>" in text


def test_account_names_ignore_case_and_spacing(slack_user: SlackSender, db: SessionFactory) -> None:
    slack_user.command("/concede", '"Acme  Corp" give: a get: b')
    slack_user.command("/concede", "acme corp give: c get: d")
    assert count(db, Account) == 1


def test_concede_unknown_account_says_so(slack_user: SlackSender, db: SessionFactory) -> None:
    reply = slack_user.command("/concede", "initech")
    assert reply.status == 200 and reply.ephemeral
    assert "no account called “initech”" in reply.text
    assert count(db, Account) == 0


def test_concede_bad_input_gets_usage_and_writes_nothing(
    slack_user: SlackSender, db: SessionFactory
) -> None:
    for text in [
        "give: discount",
        "acme get: a longer term",
        "acme give: a give: b",
        "acme give: a value: lots",
        "acme share",
    ]:
        reply = slack_user.command("/concede", text)
        assert reply.status == 200, text
        assert reply.ephemeral, text
        assert "/concede ACCOUNT give:" in reply.text, text
    assert count(db, Account) == 0
    assert count(db, Concession) == 0


def test_user_text_cannot_ping_channel_or_forge_links(slack_user: SlackSender) -> None:
    reply = slack_user.command(
        "/concede", "acme give: <!channel> @here <https://evil.test|your invoice> get: <@U0BOSS>"
    )
    raw = str(reply.body)
    assert "<!channel>" not in raw
    assert "<https://evil.test|" not in raw
    assert "<@U0BOSS>" not in raw
    assert "@here" not in raw
    assert "&lt;!channel&gt;" in raw


def test_one_team_never_sees_another_teams_log(slack_user: SlackSender, db: SessionFactory) -> None:
    slack_user.command("/concede", "acme give: secret discount get: nothing much")

    reply = slack_user.command("/concede", "acme", team=OTHER_TEAM)

    assert "no account called" in reply.text
    assert "secret discount" not in reply.text
    slack_user.command("/concede", "acme give: their own give", team=OTHER_TEAM)
    with db() as session:
        teams = set(session.scalars(select(Account.team_id)))
    assert len(teams) == 2
    assert "their own give" not in slack_user.command("/concede", "acme").text


def test_slack_escaped_text_is_read_as_typed(slack_user: SlackSender, db: SessionFactory) -> None:
    # Slack sends "R&D <2 weeks>" as "R&amp;D &lt;2 weeks&gt;"; NUL never, but a forger might.
    slack_user.command("/concede", "acme give: R&amp;D hours\x00 get: pilot &lt;2 weeks&gt;")
    with db() as session:
        entry = session.scalars(select(Concession)).one()
    assert (entry.give, entry.get) == ("R&D hours", "pilot <2 weeks>")
