"""Every command reads its account the same way: a signed command in, Slack's calls out.

Multi-word names, near misses answered by a button that completes the original
command, new accounts said out loud, and a channel's own account.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select

from bot.devtools.localslack import LocalSlack
from handlers.edge import after_ack
from messages.ids import ConcessionBlock, View
from storage.db import SessionFactory
from storage.models import Account, Commitment, Concession
from tests.slackkit import BOB, Reply, SlackSender, block_action, view_submission

NOW = "2026-12-03T10:00:00+00:00"  # a Thursday


@pytest.fixture(autouse=True)
def _frozen() -> Any:
    with freeze_time(NOW, real_asyncio=True):
        yield


def accounts(db: SessionFactory) -> list[str]:
    with db() as session:
        return sorted(session.scalars(select(Account.name)))


def counts(db: SessionFactory) -> tuple[int, int, int]:
    with db() as session:
        return tuple(  # type: ignore[return-value]
            session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Account, Commitment, Concession)
        )


def only_commitment(db: SessionFactory) -> tuple[str, str, date]:
    with db() as session:
        commitment = session.scalars(select(Commitment)).one()
        return commitment.account.name, commitment.what, commitment.due_on


def buttons(reply: Reply) -> list[dict[str, Any]]:
    return [
        element
        for block in reply.body.get("blocks", [])
        if block["type"] == "actions"
        for element in block["elements"]
    ]


def click(
    slack_user: SlackSender, slack: LocalSlack, button: dict[str, Any], *, user: str = "U0ALICE"
) -> dict[str, Any]:
    """Click a question's button; the reply that replaced the question."""
    slack.clear()
    payload = block_action(
        button["action_id"], button["value"], user=user, response_url=slack.response_url()
    )
    assert slack_user.interact(payload).status == 200
    after_ack.drain()
    (answer,) = [call.args for call in slack.calls("response_url")]
    assert answer["replace_original"] is True
    return answer


def text_of(message: dict[str, Any]) -> str:
    return "\n".join([message.get("text", "")] + [json.dumps(message.get("blocks", []))])


# --- Multi-word names -------------------------------------------------------------


def test_followup_reads_a_known_two_word_account(
    slack_user: SlackSender, db: SessionFactory
) -> None:
    slack_user.command("/concede", "Acme Corp give: 5% off get: 2-year term")
    reply = slack_user.command("/followup", "Acme Corp send deck due: fri")
    assert "you will *send deck* for *Acme Corp*" in reply.text
    assert only_commitment(db) == ("Acme Corp", "send deck", date(2026, 12, 4))


@pytest.mark.parametrize(
    ("command", "text"),
    [
        ("/rapport", "won acme corp"),
        ("/rapport", "touch ACME CORP. had lunch with their CFO"),
        ("/rapport", "pause Acme Corp until: 2027-01-10 reason: budget freeze"),
        ("/rapport", "qbr Acme, Inc. next: 2027-01-20"),
        ("/rapport", "health Acme Corp"),
        ("/rapport", "account acme corp"),
        ("/rapport", "governance Acme Corp"),
        ("/concede", "Acme Corp"),
        ("/followup", "Acme Corp"),
        ("/meso", "Acme Corp A: annual 10k | B: monthly 1k"),
    ],
)
def test_every_command_finds_the_whole_known_name(
    slack_user: SlackSender, db: SessionFactory, command: str, text: str
) -> None:
    slack_user.command("/rapport", "account Acme Corp type: strategic")
    reply = slack_user.command(command, text)
    assert reply.status == 200 and reply.ephemeral
    assert "Acme Corp" in reply.text
    assert "There is no account" not in reply.text
    assert "Did you mean" not in reply.text
    assert accounts(db) == ["Acme Corp"]


def test_touch_keeps_the_words_after_a_two_word_name_as_the_note(
    slack_user: SlackSender, db: SessionFactory
) -> None:
    slack_user.command("/rapport", "account Acme Corp type: strategic")
    reply = slack_user.command("/rapport", "touch Acme Corp had lunch with their CFO")
    assert "had lunch with their CFO" in reply.text
    assert "Corp had" not in reply.text


def test_quotes_make_a_new_name_of_several_words(
    slack_user: SlackSender, db: SessionFactory
) -> None:
    reply = slack_user.command("/followup", "“Blue Sky Mining” send the contract due: fri")
    assert "New account: *Blue Sky Mining*." in reply.text
    assert only_commitment(db)[:2] == ("Blue Sky Mining", "send the contract")


# --- New accounts -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "text"),
    [
        ("/followup", "Initech send deck due: fri"),
        ("/concede", "Initech give: free onboarding get: case study"),
        ("/rapport", "won Initech"),
        ("/rapport", "qbr Initech next: 2027-01-20"),
        ("/rapport", "account Initech type: functional"),
        ("/meso", "Initech A: annual 10k | B: monthly 1k"),
    ],
)
def test_a_new_account_is_said_in_one_line(
    slack_user: SlackSender, db: SessionFactory, command: str, text: str
) -> None:
    reply = slack_user.command(command, text)
    assert "New account: *Initech*." in reply.text
    assert accounts(db) == ["Initech"]
    # The second time it is known: no such line.
    again = slack_user.command("/rapport", "won Initech")
    assert "New account" not in again.text


# --- Near misses: asked, nothing stored, the choice completes the command ----------


def seeded(slack_user: SlackSender, *names: str) -> None:
    for name in names:
        slack_user.command("/rapport", f'account "{name}" type: functional')


@pytest.mark.parametrize(
    ("command", "text", "typed"),
    [
        ("/followup", "Globx send deck due: fri", "Globx"),
        ("/followup", "send deck to globex due: fri", None),
        ("/concede", "Glbex give: rush delivery get: 2-year term", "Glbex"),
        ("/rapport", "won Globx", "Globx"),
        ("/rapport", "touch Glbex quick call", "Glbex"),
        ("/rapport", "lost Globexx", "Globexx"),
        ("/rapport", "pause Globx until: 2027-01-10 reason: reorg", "Globx"),
        ("/rapport", "qbr Globx next: 2027-01-20", "Globx"),
        ("/rapport", "health Glbex", "Glbex"),
        ("/rapport", "account Globx type: strategic", "Globx"),
        ("/meso", "Globx A: annual 10k | B: monthly 1k", "Globx"),
        ("/concede", "Globx", "Globx"),
    ],
)
def test_a_near_miss_asks_and_stores_nothing(
    slack_user: SlackSender, db: SessionFactory, command: str, text: str, typed: str | None
) -> None:
    seeded(slack_user, "Globex")
    before = counts(db)
    reply = slack_user.command(command, text)
    assert reply.status == 200 and reply.ephemeral
    if typed is None:  # named further on
        assert "Which account is this for? Did you mean *Globex*?" in reply.text
    else:
        assert f"There is no account called *{typed}*. Did you mean *Globex*?" in reply.text
    assert buttons(reply)[0]["text"]["text"] == "Use Globex"
    assert counts(db) == before


def test_choosing_the_known_account_completes_the_followup(
    slack_user: SlackSender, slack: LocalSlack, db: SessionFactory
) -> None:
    seeded(slack_user, "Globex")
    reply = slack_user.command("/followup", "Globx send deck due: fri")
    use, new = buttons(reply)
    assert new["text"]["text"] == "New account “Globx”"
    answer = click(slack_user, slack, use)
    assert "you will *send deck* for *Globex*" in text_of(answer)
    assert only_commitment(db) == ("Globex", "send deck", date(2026, 12, 4))
    assert accounts(db) == ["Globex"]


def test_choosing_a_new_account_completes_the_concession(
    slack_user: SlackSender, slack: LocalSlack, db: SessionFactory
) -> None:
    seeded(slack_user, "Globex")
    reply = slack_user.command("/concede", "Glbex give: rush delivery get: 2-year term")
    answer = click(slack_user, slack, buttons(reply)[1])
    assert "New account: *Glbex*." in text_of(answer)
    assert accounts(db) == ["Glbex", "Globex"]
    with db() as session:
        assert session.scalars(select(Concession)).one().account.name == "Glbex"


@pytest.mark.parametrize(
    ("choice", "account", "what"),
    [(0, "Blue Harbor", "send the security pack"), (1, "Blue", "Harbor send the security pack")],
)
def test_a_new_name_of_two_capitalised_words_is_asked_about_and_either_answer_completes_it(
    slack_user: SlackSender,
    slack: LocalSlack,
    db: SessionFactory,
    choice: int,
    account: str,
    what: str,
) -> None:
    # Without quotes, "Blue" alone would have been taken, and "Harbor" made the task's.
    reply = slack_user.command("/followup", "Blue Harbor send the security pack due: fri")
    assert "There is no account called *Blue Harbor* yet, nor *Blue*." in reply.text
    assert [b["text"]["text"] for b in buttons(reply)] == [
        "New account “Blue Harbor”",
        "New account “Blue”",
    ]
    assert counts(db) == (0, 0, 0)
    answer = click(slack_user, slack, buttons(reply)[choice])
    assert f"New account: *{account}*." in text_of(answer)
    assert only_commitment(db) == (account, what, date(2026, 12, 4))


def test_an_account_named_later_leaves_the_whole_task(
    slack_user: SlackSender, slack: LocalSlack, db: SessionFactory
) -> None:
    seeded(slack_user, "Globex")
    reply = slack_user.command("/followup", "send deck to globex due: fri")
    # "send" is the start of the task: no button offers it as an account.
    assert [b["text"]["text"] for b in buttons(reply)] == ["Use Globex"]
    click(slack_user, slack, buttons(reply)[0])
    assert only_commitment(db) == ("Globex", "send deck to globex", date(2026, 12, 4))


def test_the_click_runs_as_the_person_who_clicked(
    slack_user: SlackSender, slack: LocalSlack, db: SessionFactory
) -> None:
    seeded(slack_user, "Globex")
    reply = slack_user.command("/followup", "Globx send deck due: fri", user=BOB)
    click(slack_user, slack, buttons(reply)[0], user=BOB)
    with db() as session:
        assert session.scalars(select(Commitment.owner_id)).one() == BOB


def test_a_choice_for_a_command_that_makes_no_accounts_offers_no_new_one(
    slack_user: SlackSender, slack: LocalSlack, db: SessionFactory
) -> None:
    seeded(slack_user, "Globex")
    reply = slack_user.command("/rapport", "touch Glbex quick call")
    assert [b["text"]["text"] for b in buttons(reply)] == ["Use Globex"]
    answer = click(slack_user, slack, buttons(reply)[0])
    assert "Globex" in text_of(answer)
    with db() as session:
        assert session.scalars(select(Account)).one().last_touch_at is not None


@pytest.mark.parametrize(
    "value",
    [
        "not json",
        json.dumps({"c": "/evil", "t": "Globx", "a": 1}),
        json.dumps({"c": "/concede", "t": ["x"], "a": 1}),
        json.dumps({"c": "/concede", "t": "Globx", "a": True}),
        json.dumps({"c": "/concede", "t": "Globx", "a": -1}),
    ],
)
def test_a_forged_or_broken_button_is_refused(
    slack_user: SlackSender, slack: LocalSlack, db: SessionFactory, value: str
) -> None:
    slack.clear()
    payload = block_action("account_choice_0", value, response_url=slack.response_url())
    assert slack_user.interact(payload).status == 200
    after_ack.drain()
    said = " ".join(text_of(call.args) for call in slack.calls("response_url"))
    assert "out of date" in said
    assert counts(db) == (0, 0, 0)


def test_a_button_naming_an_account_the_question_did_not_offer_is_refused(
    slack_user: SlackSender, slack: LocalSlack, db: SessionFactory
) -> None:
    seeded(slack_user, "Globex", "Initech")
    with db() as session:
        initech = session.scalars(select(Account.id).where(Account.name == "Initech")).one()
    value = json.dumps({"c": "/followup", "t": "Globx send deck due: fri", "a": initech})
    answer = click(slack_user, slack, {"action_id": "account_choice_0", "value": value})
    assert "changed since I asked" in text_of(answer)
    assert counts(db)[1] == 0


def test_another_teams_account_is_never_a_near_miss(
    slack_user: SlackSender, db: SessionFactory
) -> None:
    slack_user.command("/rapport", "account Globex type: functional", team="T0OTHER")
    reply = slack_user.command("/followup", "Globx send deck due: fri")
    assert "New account: *Globx*." in reply.text


# --- A channel's own account ----------------------------------------------------------


def test_in_an_accounts_channel_commands_may_leave_it_out(
    slack_user: SlackSender, db: SessionFactory
) -> None:
    slack_user.command("/rapport", "account Globex channel: <#C0GLOBEX|globex-deal>")
    followup = slack_user.command("/followup", "send deck due: fri", channel="C0GLOBEX")
    assert "you will *send deck* for *Globex*" in followup.text
    conceded = slack_user.command(
        "/concede", "give: rush delivery get: 2-year term", channel="C0GLOBEX"
    )
    assert "Globex" in conceded.text
    touched = slack_user.command("/rapport", "touch had a call", channel="C0GLOBEX")
    assert "had a call" in touched.text
    # Elsewhere the account is still needed.
    elsewhere = slack_user.command("/followup", "send deck due: fri", channel="C0OTHER")
    assert "start of what to do" in elsewhere.text
    assert accounts(db) == ["Globex"]


# --- Modals -------------------------------------------------------------------------


def concession_form(account: str) -> dict[str, Any]:
    def field(value: str) -> dict[str, Any]:
        return {"value": {"type": "plain_text_input", "value": value}}

    return view_submission(
        View.CONCESSION,
        {ConcessionBlock.ACCOUNT: field(account), ConcessionBlock.GIVE: field("rush delivery")},
        private_metadata=json.dumps({}),
    )


def test_the_concession_form_asks_under_the_account_field(
    slack_user: SlackSender, db: SessionFactory
) -> None:
    seeded(slack_user, "Globex")
    reply = slack_user.interact(concession_form("Glbex"))
    problem = reply.body["errors"][ConcessionBlock.ACCOUNT]
    assert "Did you mean “Globex”?" in problem and "quotes" in problem
    assert counts(db)[2] == 0
    slack_user.interact(concession_form('"Glbex"'))
    assert accounts(db) == ["Glbex", "Globex"]
