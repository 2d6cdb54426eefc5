"""/rapport prep: the one-page negotiation plan, through the real app (a signed command
in, the fake Slack's recorded views.open out, the modal submitted back)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from bot.devtools.localslack import LocalSlack
from bot.services import prep as prep_service
from messages.ids import Action, PrepBlock, View, person_block
from storage.db import SessionFactory
from storage.models import Account, NegotiationPrep
from tests.slackkit import ALICE, BOB, OTHER_TEAM, TEAM, SlackSender, block_action, view_submission
from tests.test_governance import button, text_value, wait_for

ACME = "Acme Corp"


def prep_values(**given: Any) -> dict[str, dict[str, Any]]:
    """A filled-in prep form as Slack sends it; `given` replaces fields by block name
    (`question=`, `anchor=`, `person_0=`, `deciders=[0]`…)."""
    typed = {
        "question": "Will they commit to two years if we add the premium SLA?",
        "our_batna": "Renew them on the current plan for one more year",
        "their_batna": "Stay on their in-house tool, which their ops team dislikes",
        "anchor": "$150k/yr",
        "target": "130k",
        "reservation": "110,000",
        "value_notes": "List price 160k; cost to serve 70k",
        "person_0": "CFO: cash flow this year",
        "person_1": "Head of ops - uptime and fewer tickets",
        "our_issues": "1. term\n2. price\n3. SLA",
        "their_issues": "price, SLA, onboarding",
        "we_can_give": "- premium SLA\n- quarterly reviews",
        "we_want": "24-month term\ncase study",
        **{k: v for k, v in given.items() if k != "deciders"},
    }
    values: dict[str, dict[str, Any]] = {}
    for key, text in typed.items():
        block = person_block(int(key[-1])) if key.startswith("person_") else PrepBlock[key.upper()]
        values[str(block)] = text_value(text)
    deciders = given.get("deciders", [0])
    values[str(PrepBlock.DECIDES)] = {
        "value": {
            "type": "checkboxes",
            "selected_options": [{"value": str(index)} for index in deciders],
        }
    }
    return values


def preps(db: SessionFactory) -> list[NegotiationPrep]:
    with db() as session:
        rows = session.scalars(select(NegotiationPrep).order_by(NegotiationPrep.id)).all()
        session.expunge_all()
        return list(rows)


@pytest.fixture
def acme(slack_user: SlackSender, db: SessionFactory) -> int:
    slack_user.command("/rapport", f"account {ACME} type: strategic")
    with db() as session:
        return session.scalars(select(Account.id).where(Account.name == ACME)).one()


def opened_view(slack: LocalSlack, count: int = 1) -> dict[str, Any]:
    view: dict[str, Any] = wait_for(slack, "views.open", count)[-1]["view"]
    return view


def submit(
    slack_user: SlackSender,
    view: dict[str, Any],
    *,
    user: str = ALICE,
    view_id: str = "V0PREP1",
    **given: Any,
) -> Any:
    return slack_user.interact(
        view_submission(
            View.PREP,
            prep_values(**given),
            private_metadata=view["private_metadata"],
            user=user,
            view_id=view_id,
        )
    )


def written(slack_user: SlackSender, slack: LocalSlack) -> dict[str, Any]:
    """The first prep of Acme Corp, written through the form."""
    slack_user.command("/rapport", f"prep {ACME}")
    saved = submit(slack_user, opened_view(slack))
    assert saved.status == 200 and saved.body["response_action"] == "update", saved.body
    return saved.body


def test_prep_with_none_yet_opens_the_form(
    slack_user: SlackSender, slack: LocalSlack, acme: int
) -> None:
    reply = slack_user.command("/rapport", f"prep {ACME}")

    assert reply.status == 200 and reply.ephemeral
    assert f"Opening the prep for *{ACME}*" in reply.text
    view = opened_view(slack)
    assert view["callback_id"] == View.PREP
    assert f'"account_id":{acme}' in view["private_metadata"]
    assert "prep_id" not in view["private_metadata"]
    ids = {block.get("block_id") for block in view["blocks"]}
    assert {str(block) for block in PrepBlock} <= ids
    assert {person_block(i) for i in range(prep_service.MAX_PEOPLE)} <= ids
    assert "wrong tool" in str(view["blocks"][-1])


def test_the_saved_prep_is_what_prep_alone_then_shows(
    slack_user: SlackSender, slack: LocalSlack, db: SessionFactory, acme: int
) -> None:
    saved = written(slack_user, slack)
    assert f"Saved the prep for *{ACME}*, negotiation 1" in str(saved)
    [row] = preps(db)
    assert (row.anchor_value, row.target_value, row.reservation_value) == (150000, 130000, 110000)
    assert row.value_period == "year"
    assert row.people == [
        {"role": "CFO", "cares": "cash flow this year", "decides": True},
        {"role": "Head of ops", "cares": "uptime and fewer tickets", "decides": False},
    ]
    assert row.our_issues == ["term", "price", "SLA"]
    assert row.their_issues == ["price", "SLA", "onboarding"]
    assert row.we_can_give == ["premium SLA", "quarterly reviews"]

    shown = slack_user.command("/rapport", f"prep {ACME}")

    assert len(slack.calls("views.open")) == 1, "shown, not opened again"
    for part in (
        "Will they commit to two years if we add the premium SLA?",
        "*Opening anchor*\n150,000 a year",
        "*Walk-away point*\n110,000 a year",
        "*CFO*: cash flow this year  _(decides)_",
        "1. term\n2. price\n3. SLA",
        "• premium SLA",
        "Negotiation 1 with Acme Corp",
        "wrong tool",
    ):
        assert part in shown.text, part
    assert button(shown.body, Action.PREP_EDIT)["value"] == str(acme)
    assert button(shown.body, Action.PREP_NEW)["text"]["text"] == "Start a new negotiation"


def test_edit_opens_the_current_prep_and_a_second_person_saves_over_it(
    slack_user: SlackSender, slack: LocalSlack, db: SessionFactory, acme: int
) -> None:
    written(slack_user, slack)
    edit = button(slack_user.command("/rapport", f"prep {ACME}").body, Action.PREP_EDIT)

    slack_user.interact(block_action(Action.PREP_EDIT, edit["value"], user=BOB))

    view = opened_view(slack, 2)
    [row] = preps(db)
    assert f'"prep_id":{row.id}' in view["private_metadata"]
    initial = {
        block["block_id"]: block["element"].get("initial_value")
        for block in view["blocks"]
        if block["type"] == "input"
    }
    assert initial[PrepBlock.ANCHOR] == "150,000/year"
    assert initial[person_block(0)] == "CFO: cash flow this year"
    assert initial[PrepBlock.OUR_ISSUES] == "term\nprice\nSLA"
    decides = next(b for b in view["blocks"] if b.get("block_id") == PrepBlock.DECIDES)
    assert [o["value"] for o in decides["element"]["initial_options"]] == ["0"]

    saved = submit(slack_user, view, user=BOB, view_id="V0PREP2", reservation="115k")

    assert saved.status == 200 and "negotiation 1" in str(saved.body)
    [row] = preps(db)
    assert row.reservation_value == 115000 and row.updated_by == BOB and row.opened_by == ALICE


def test_a_new_negotiation_closes_the_last_prep_and_keeps_it(
    slack_user: SlackSender, slack: LocalSlack, db: SessionFactory, acme: int
) -> None:
    written(slack_user, slack)
    slack_user.command("/rapport", f"prep {ACME} new")
    view = opened_view(slack, 2)
    assert "prep_id" not in view["private_metadata"]
    assert "Saving this closes the prep of the last one" in str(view["blocks"][0])

    saved = submit(slack_user, view, view_id="V0PREP3", question="Can we expand to the EU team?")

    assert "negotiation 2" in str(saved.body)
    assert "The prep of negotiation 1" in str(saved.body)
    first, second = preps(db)
    assert first.closed_at is not None and second.closed_at is None
    with db() as session:
        current = prep_service.current_prep(session, team_id=TEAM, account_id=acme)
    assert current is not None and current.question == "Can we expand to the EU team?"
    assert current.number == 2
    shown = slack_user.command("/rapport", f"prep {ACME}")
    assert "Negotiation 2 with Acme Corp" in shown.text


def test_the_same_form_sent_twice_saves_one_prep(
    slack_user: SlackSender, slack: LocalSlack, db: SessionFactory, acme: int
) -> None:
    slack_user.command("/rapport", f"prep {ACME}")
    view = opened_view(slack)
    submit(slack_user, view)
    again = submit(slack_user, view)
    assert again.status == 200 and "negotiation 1" in str(again.body)
    assert len(preps(db)) == 1


@pytest.mark.parametrize(
    ("given", "block", "says"),
    [
        ({"anchor": "a lot"}, PrepBlock.ANCHOR, "“a lot” is not a number; write e.g. `120000`"),
        ({"target": "-5k"}, PrepBlock.TARGET, "reads as -5,000"),
        (
            {"reservation": "140k"},
            PrepBlock.RESERVATION,
            "I read the walk-away point as 140,000 and the target as 130,000",
        ),
        (
            {"anchor": "120k"},
            PrepBlock.ANCHOR,
            "I read the opening anchor as 120,000 and the target as 130,000",
        ),
        (
            {"target": "$11k/mo"},
            PrepBlock.TARGET,
            "I read the opening anchor per year and the target per month",
        ),
        ({"question": ""}, PrepBlock.QUESTION, "Write the one question"),
        ({"question": "none"}, PrepBlock.QUESTION, "Write the one question"),
        ({"person_0": "", "person_1": "", "deciders": [0]}, person_block(0), "ticked person 1"),
        ({"person_1": ": uptime"}, person_block(1), "no role before the colon"),
        (
            {"our_issues": "\n".join(f"issue {n}" for n in range(12))},
            PrepBlock.OUR_ISSUES,
            "I read 12",
        ),
    ],
)
def test_a_bad_field_is_answered_under_it_and_nothing_is_saved(
    slack_user: SlackSender,
    slack: LocalSlack,
    db: SessionFactory,
    acme: int,
    given: dict[str, Any],
    block: str,
    says: str,
) -> None:
    slack_user.command("/rapport", f"prep {ACME}")

    refused = submit(slack_user, opened_view(slack), **given)

    assert refused.status == 200
    assert refused.body["response_action"] == "errors"
    assert says in refused.body["errors"][str(block)], refused.body
    assert preps(db) == []


def test_none_or_empty_values_are_left_unset_and_said_to_be_missing(
    slack_user: SlackSender, slack: LocalSlack, db: SessionFactory, acme: int
) -> None:
    slack_user.command("/rapport", f"prep {ACME}")
    saved = submit(
        slack_user,
        opened_view(slack),
        anchor="none",
        target="",
        reservation="n/a",
        our_batna="",
        person_0="none",
        person_1="",
        deciders=[],
        our_issues="none",
    )
    assert saved.body["response_action"] == "update", saved.body
    [row] = preps(db)
    assert (row.anchor_value, row.target_value, row.reservation_value) == (None, None, None)
    assert row.people == [] and row.our_issues == []
    assert "Still to write: our BATNA, the walk-away point, the opening anchor" in str(saved.body)
    shown = slack_user.command("/rapport", f"prep {ACME}").text
    assert "*Walk-away point*\n_not set_" in shown
    assert "Nobody mapped yet" in shown


@pytest.mark.parametrize("word", ["show", "SHOW", "shwo"])
def test_show_with_no_prep_explains_it_and_offers_to_write_one(
    slack_user: SlackSender, slack: LocalSlack, acme: int, word: str
) -> None:
    reply = slack_user.command("/rapport", f"prep {ACME} {word}")
    assert reply.ephemeral and "has no prep for its next negotiation yet" in reply.text
    assert button(reply.body, Action.PREP_EDIT)["text"]["text"] == "Write the prep"
    assert "wrong tool" in reply.text
    assert not slack.calls("views.open")


def test_the_account_card_says_whether_there_is_a_prep_and_opens_it(
    slack_user: SlackSender, slack: LocalSlack, acme: int
) -> None:
    card = slack_user.command("/rapport", f"account {ACME}")
    assert "*Negotiation prep*\nNone yet" in card.text
    assert f"`/rapport prep {ACME}`" in card.text
    assert button(card.body, Action.PREP_EDIT)["text"]["text"] == "Write prep"

    written(slack_user, slack)
    card = slack_user.command("/rapport", f"account {ACME}")
    assert "Will they commit to two years" in card.text
    assert "walk away below 110,000 a year" in card.text
    assert button(card.body, Action.PREP_EDIT)["text"]["text"] == "Edit prep"


def test_the_prep_shows_what_the_last_debrief_said(
    slack_user: SlackSender, slack: LocalSlack, acme: int
) -> None:
    from messages.ids import DebriefBlock

    slack_user.interact(
        view_submission(
            View.DEBRIEF,
            {str(DebriefBlock.NEXT_MESO): text_value("A phased rollout option")},
            private_metadata=f'{{"account_id":{acme}}}',
            view_id="V0DEBRIEF",
        )
    )
    empty = slack_user.command("/rapport", f"prep {ACME} show").text
    assert "What the last debrief said" in empty
    assert "*Next set should include:* A phased rollout option" in empty

    slack_user.command("/rapport", f"prep {ACME}")
    view = opened_view(slack)
    assert "next set should include: A phased rollout option" in str(view["blocks"])


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("prep", "Name the account: `/rapport prep ACCOUNT`"),
        ("prep Nowhere Ltd", "no account called “Nowhere Ltd”"),
    ],
)
def test_a_prep_of_no_known_account_says_so(
    slack_user: SlackSender, slack: LocalSlack, acme: int, text: str, says: str
) -> None:
    reply = slack_user.command("/rapport", text)
    assert reply.status == 200 and says in reply.text
    assert not slack.calls("views.open")


@pytest.mark.parametrize("typed", ["acme crop", "ACME CORP", "acme", "acme crop eidt"])
def test_a_hurried_account_name_still_finds_the_account(
    slack_user: SlackSender, slack: LocalSlack, acme: int, typed: str
) -> None:
    reply = slack_user.command("/rapport", f"prep {typed}")
    assert f"Opening the prep for *{ACME}*" in reply.text


def test_an_account_named_like_a_word_is_still_the_account(
    slack_user: SlackSender, slack: LocalSlack, db: SessionFactory
) -> None:
    slack_user.command("/rapport", "account Brand New type: strategic")
    reply = slack_user.command("/rapport", "prep Brand New")
    assert "Opening the prep for *Brand New*" in reply.text


def test_a_lost_account_is_said_to_be_lost(
    slack_user: SlackSender, slack: LocalSlack, acme: int
) -> None:
    slack_user.command("/rapport", f"lost {ACME}")
    shown = slack_user.command("/rapport", f"prep {ACME} show")
    assert "is marked lost" in shown.text and f"/rapport reopen {ACME}" in shown.text
    opening = slack_user.command("/rapport", f"prep {ACME}")
    assert "Opening the prep" in opening.text and "is marked lost" in opening.text


def test_current_prep_is_plain_values_for_other_features(
    slack_user: SlackSender, slack: LocalSlack, db: SessionFactory, acme: int
) -> None:
    with db() as session:
        assert prep_service.current_prep(session, team_id=TEAM, account_id=acme) is None
    written(slack_user, slack)
    with db() as session:
        current = prep_service.current_prep(session, team_id=TEAM, account_id=acme)
    assert current is not None
    assert (current.reservation, current.anchor, current.points.period) == (110000, 150000, "year")
    with pytest.raises(AttributeError):
        current.question = "changed"  # type: ignore[misc]


def test_a_form_sent_from_another_team_saves_nothing(
    slack_user: SlackSender, slack: LocalSlack, db: SessionFactory, acme: int
) -> None:
    slack_user.command("/rapport", f"prep {ACME}")
    view = opened_view(slack)

    refused = slack_user.interact(
        view_submission(
            View.PREP,
            prep_values(),
            private_metadata=view["private_metadata"],
            team=OTHER_TEAM,
        )
    )

    assert refused.body["response_action"] == "errors"
    assert "no longer there" in refused.body["errors"][str(PrepBlock.QUESTION)]
    assert preps(db) == []
