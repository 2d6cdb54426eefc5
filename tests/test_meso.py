"""/meso through the real app: the grid, the check, the form, templates, choices, sharing."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select

from bot.app.tryout import run_try
from bot.config import Settings
from bot.devtools.localslack import LocalSlack
from handlers.edge import after_ack
from messages.ids import Action, MesoBlock, MesoOfferField, View, offer_block
from storage.db import SessionFactory
from storage.models import Account, MesoOffer, MesoSet, NegotiationSettings
from tests.slackkit import (
    ALICE,
    BOB,
    OTHER_TEAM,
    SlackSender,
    block_action,
    blocks_text,
    view_submission,
)

THREE = (
    "acme A: mid price, standard SLA, quarterly reviews value: 120000"
    " | B: higher price, premium SLA, monthly reviews, credits value: 121k"
    " | C: phased rollout, standard SLA now, upgrade on milestone value: $119,500"
)


def count(db: SessionFactory, model: type) -> int:
    with db() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def grid_fields(message: dict[str, Any]) -> list[str]:
    for block in message["blocks"]:
        if block.get("fields"):
            return [field["text"] for field in block["fields"]]
    raise AssertionError("no grid in the message")


def offer_values(index: int, **fields: str) -> dict[str, dict[str, Any]]:
    return {
        offer_block(index, MesoOfferField[name]): {
            "value": {"type": "plain_text_input", "value": text}
        }
        for name, text in fields.items()
    }


def modal_values(account: str, *offers: dict[str, str], **extra: str) -> dict[str, Any]:
    values: dict[str, Any] = {
        MesoBlock.ACCOUNT.value: {"value": {"type": "plain_text_input", "value": account}}
    }
    for index, fields in enumerate(offers):
        values.update(offer_values(index, **fields))
    for name, text in extra.items():
        values[MesoBlock[name].value] = {"value": {"type": "plain_text_input", "value": text}}
    return values


def test_meso_builds_a_grid_with_a_closing_question(
    slack_user: SlackSender, db: SessionFactory
) -> None:
    reply = slack_user.command("/meso", THREE)

    assert reply.status == 200 and reply.ephemeral
    fields = grid_fields(reply.body)
    assert len(fields) == 3
    assert fields[1].startswith("*B*") and "premium SLA" in fields[1]
    assert "121,000" in fields[1]
    assert "suits your quarter" in reply.text and "risk" in reply.text
    assert "Equivalent" in reply.text and "1.3% apart" in reply.text
    with db() as session:
        meso = session.scalars(select(MesoSet)).one()
        offers = [(o.label, o.value_to_us) for o in meso.offers]
    assert offers == [("A", 120000), ("B", 121000), ("C", 119500)]
    assert meso.tolerance_pct == 5


def test_meso_names_the_offer_out_of_line(slack_user: SlackSender) -> None:
    reply = slack_user.command(
        "/meso", "acme A: list price value: 100 | B: premium SLA value: 101 | C: pilot value: 130"
    )
    assert "*C* is richer for us (28.7% above the middle offer)" in reply.text
    assert "30% apart" in reply.text and "5% tolerance" in reply.text


def test_meso_names_every_offer_out_of_line_and_which_way(slack_user: SlackSender) -> None:
    reply = slack_user.command(
        "/meso", "acme A: list price value: 100k | B: premium SLA value: 130k | C: pilot value: 90k"
    )
    assert "*B* is richer for us (30% above the middle offer)" in reply.text
    assert "*C* is poorer for us (10% below the middle offer)" in reply.text
    assert "*A* is" not in reply.text


def test_meso_tolerance_can_be_widened_per_command_or_per_team(
    slack_user: SlackSender, slack: LocalSlack, db: SessionFactory
) -> None:
    slack.add_user(ALICE, is_admin=True)
    text = "acme A: list price value: 100 | B: premium SLA value: 108"
    assert "Not worth the same to us" in slack_user.command("/meso", text).text
    assert "Equivalent" in slack_user.command("/meso", text + " tolerance: 10%").text

    reply = slack_user.command("/meso", "tolerance: 9%")
    assert reply.ephemeral and "checking that with Slack" in reply.text
    (answer,) = slack.wait_for("response_url")
    assert "within 9%" in blocks_text(answer.args)
    assert answer.args["response_type"] == "ephemeral"
    assert count(db, NegotiationSettings) == 1
    assert "Equivalent" in slack_user.command("/meso", text).text
    assert "Not worth the same to us" in slack_user.command("/meso", text, team=OTHER_TEAM).text


def test_only_a_workspace_admin_or_owner_changes_the_team_tolerance(
    slack_user: SlackSender, slack: LocalSlack, db: SessionFactory
) -> None:
    slack.add_user(ALICE)  # a member: neither admin nor owner
    slack_user.command("/meso", "tolerance: 20%")

    (refused,) = slack.wait_for("response_url")
    said = blocks_text(refused.args)
    assert refused.args["response_type"] == "ephemeral"
    assert "Only a Slack workspace admin or owner" in said and "stays at 5%" in said
    assert [c.args["user"] for c in slack.calls("users.info")] == [ALICE]
    assert count(db, NegotiationSettings) == 0
    # Everyone can still see it.
    assert "within 5% of each other" in slack_user.command("/meso", "acme").text

    slack.clear()
    slack.add_user(BOB, is_owner=True)
    slack_user.command("/meso", "tolerance: 20%", user=BOB)
    (changed,) = slack.wait_for("response_url")
    assert "within 20%" in blocks_text(changed.args)
    assert "within 20% of each other" in slack_user.command("/meso", "acme").text


def test_the_team_tolerance_is_unchanged_when_slack_cannot_say_who_is_admin(
    slack_user: SlackSender, slack: LocalSlack, db: SessionFactory
) -> None:
    # Nobody added: users.info answers user_not_found.
    slack_user.command("/meso", "tolerance: 20%")

    (refused,) = slack.wait_for("response_url")
    assert "would not say whether you are a workspace admin" in blocks_text(refused.args)
    assert count(db, NegotiationSettings) == 0


def test_rapport_try_acts_as_the_sandbox_workspace_owner(
    settings: Settings, db: SessionFactory
) -> None:
    shown = run_try("/meso tolerance: 8%", settings=settings, db=db, user_id="U0LOCAL")
    assert "within 8%" in shown
    with db() as session:
        assert session.scalars(select(NegotiationSettings)).one().meso_tolerance_pct == 8


def test_meso_flags_a_single_offer_and_offers_that_do_not_differ(
    slack_user: SlackSender,
) -> None:
    assert "Only one offer" in slack_user.command("/meso", "acme A: list price").text
    reply = slack_user.command("/meso", "acme A: list price, SLA | B: SLA, list price")
    assert "differ in nothing" in reply.text


def test_offers_without_values_are_not_checked_for_worth(slack_user: SlackSender) -> None:
    reply = slack_user.command("/meso", "acme list price | premium SLA")
    assert [f.split("\n")[0] for f in grid_fields(reply.body)] == ["*A*", "*B*"]
    assert "Not checked for value" in reply.text


def test_meso_bad_input_gets_usage_and_writes_nothing(
    slack_user: SlackSender, db: SessionFactory
) -> None:
    for text in [
        "acme A: a | B: b | C: c | D: d",
        "acme A: a value: lots | B: b",
        "acme A: a | A: b",
        "acme A: a | B: ",
        "picked: B",
        "acme A: a | B: b tolerance: 80%",
        "acme A: a | B: b tolerance: 5% tolerance: 6%",
        "acme tolerance: 5%",
        "| B: b",
    ]:
        reply = slack_user.command("/meso", text)
        assert reply.status == 200 and reply.ephemeral, text
        assert "/meso ACCOUNT A:" in reply.text, text
    assert count(db, MesoSet) == 0
    assert count(db, Account) == 0


def test_meso_alone_opens_the_form(slack_user: SlackSender, slack: LocalSlack) -> None:
    reply = slack_user.command("/meso", "")
    assert reply.ephemeral and "Opening the MESO form" in reply.text
    (call,) = slack.wait_for("views.open")
    view = call.args["view"]
    assert view["callback_id"] == View.MESO
    block_ids = {block.get("block_id") for block in view["blocks"]}
    for index in range(3):
        assert {offer_block(index, field) for field in MesoOfferField} <= block_ids
    assert {MesoBlock.ACCOUNT.value, MesoBlock.SHARE.value} <= block_ids
    assert json.loads(view["private_metadata"]) == {"channel_id": "C0LOCAL"}


def test_meso_account_offers_templates_that_open_the_form_filled(
    slack_user: SlackSender, slack: LocalSlack
) -> None:
    reply = slack_user.command("/meso", '"Acme Corp"')
    assert "Standard" in reply.text and "Premium" in reply.text and "Phased" in reply.text
    template_buttons = [
        block["accessory"]
        for block in reply.body["blocks"]
        if (block.get("accessory") or {}).get("action_id") == Action.MESO_TEMPLATE
    ]
    assert len(template_buttons) == 3

    slack_user.interact(block_action(Action.MESO_TEMPLATE, template_buttons[1]["value"]))

    (call,) = slack.wait_for("views.open")  # opened after the ack
    initial = {
        block["block_id"]: block["element"].get("initial_value")
        for block in call.args["view"]["blocks"]
        if block.get("type") == "input" and block["element"]["type"] == "plain_text_input"
    }
    assert initial[MesoBlock.ACCOUNT] == "Acme Corp"
    assert "premium" in (initial[offer_block(0, MesoOfferField.SCOPE)] or "")
    assert initial[offer_block(2, MesoOfferField.VALUE)] == "100"


def test_form_submission_builds_once_even_when_sent_twice(
    slack_user: SlackSender, db: SessionFactory, slack: LocalSlack
) -> None:
    values = modal_values(
        "acme",
        {"LABEL": "Lean", "TERMS": "list price", "SCOPE": "standard SLA", "VALUE": "100"},
        {"TERMS": "higher price", "CADENCE": "monthly reviews", "VALUE": "102"},
        TOLERANCE="3%",
    )
    payload = view_submission(View.MESO, values, view_id="V0MESO")
    first = slack_user.interact(payload)
    second = slack_user.interact(payload)

    assert first.body["response_action"] == "update"
    assert "Equivalent" in blocks_text(first.body["view"])
    assert second.body == first.body  # the repeat is answered as the first was
    assert count(db, MesoSet) == 1 and count(db, MesoOffer) == 2
    with db() as session:
        meso = session.scalars(select(MesoSet)).one()
        assert [o.label for o in meso.offers] == ["Lean", "B"]
        assert meso.tolerance_pct == 3
        assert meso.offers[0].scope == "standard SLA"
    assert slack.calls("chat.postMessage") == []


def test_form_errors_show_under_the_field(slack_user: SlackSender, db: SessionFactory) -> None:
    one = slack_user.interact(
        view_submission(View.MESO, modal_values("acme", {"TERMS": "list price"}))
    )
    assert one.body["response_action"] == "errors"
    assert offer_block(1, MesoOfferField.TERMS) in one.body["errors"]
    bad_value = slack_user.interact(
        view_submission(
            View.MESO,
            modal_values("acme", {"TERMS": "a", "VALUE": "lots"}, {"TERMS": "b"}),
        )
    )
    assert offer_block(0, MesoOfferField.VALUE) in bad_value.body["errors"]
    bad_tolerance = slack_user.interact(
        view_submission(
            View.MESO, modal_values("acme", {"TERMS": "a"}, {"TERMS": "b"}, TOLERANCE="x")
        )
    )
    assert MesoBlock.TOLERANCE.value in bad_tolerance.body["errors"]
    assert count(db, MesoSet) == 0


def test_picked_records_the_choice_and_the_next_set_remembers_it(
    slack_user: SlackSender, db: SessionFactory
) -> None:
    slack_user.command("/meso", THREE)
    reply = slack_user.command("/meso", "ACME picked: b")
    assert "picked *B*" in reply.text
    with db() as session:
        assert session.scalars(select(MesoSet.chosen_label)).one() == "B"

    nxt = slack_user.command("/meso", "acme A: list price value: 1 | B: premium SLA value: 1")
    assert "Last time" in nxt.text and "they picked *B*" in nxt.text

    overview = slack_user.command("/meso", "acme")
    assert "What their choices reveal" in overview.text
    assert "premium SLA" in overview.text and "credits" in overview.text
    assert "No choice recorded yet" in overview.text  # the newest set is still open


def test_picked_must_name_an_offer_of_the_latest_set(
    slack_user: SlackSender, db: SessionFactory
) -> None:
    slack_user.command("/meso", THREE)
    reply = slack_user.command("/meso", "acme picked: Z")
    assert reply.ephemeral and "has offers A, B, C" in reply.text
    assert "no account" in slack_user.command("/meso", "acme picked: A", team=OTHER_TEAM).text
    with db() as session:
        assert session.scalars(select(MesoSet.chosen_label)).one() is None


def test_share_posts_the_offers_without_our_values(
    slack_user: SlackSender, slack: LocalSlack
) -> None:
    reply = slack_user.command("/meso", THREE + " share")
    (post,) = slack.wait_for("chat.postMessage")
    assert post.args["channel"] == "C0LOCAL"
    posted = blocks_text(post.args)
    assert "premium SLA" in posted and "suits your quarter" in posted
    assert "121,000" not in posted and "Value to us" not in posted
    assert "Posting it to <#C0LOCAL>" in reply.text


def test_form_share_box_posts_to_where_the_form_was_opened(
    slack_user: SlackSender, slack: LocalSlack
) -> None:
    values = modal_values("acme", {"TERMS": "a"}, {"TERMS": "b"})
    option = {"text": {"type": "plain_text", "text": "Post"}, "value": "share"}
    values[MesoBlock.SHARE.value] = {"value": {"type": "checkboxes", "selected_options": [option]}}
    slack_user.interact(
        view_submission(View.MESO, values, private_metadata=json.dumps({"channel_id": "C0DEAL"}))
    )
    (post,) = slack.wait_for("chat.postMessage")  # posted after the ack
    assert post.args["channel"] == "C0DEAL"


def test_user_text_in_offers_cannot_ping_or_forge_links(slack_user: SlackSender) -> None:
    reply = slack_user.command(
        "/meso", "acme A: <!channel> @here | B: <https://evil.test|invoice> <@U0BOSS>"
    )
    raw = json.dumps(reply.body)
    assert "<!channel>" not in raw and "@here" not in raw
    assert "<https://evil.test|" not in raw and "<@U0BOSS>" not in raw


def test_pick_buttons_record_the_choice_in_place(
    slack_user: SlackSender, slack: LocalSlack, db: SessionFactory
) -> None:
    reply = slack_user.command("/meso", THREE)
    picks = [
        element
        for block in reply.body["blocks"]
        if block.get("type") == "actions"
        for element in block["elements"]
        if element["action_id"] == Action.MESO_PICK
    ]
    assert [p["text"]["text"] for p in picks] == ["They picked A", "They picked B", "They picked C"]

    other = slack_user.interact(
        block_action(
            Action.MESO_PICK, picks[2]["value"], team=OTHER_TEAM, response_url=slack.response_url()
        )
    )
    assert other.status == 200
    after_ack.drain()
    with db() as session:
        assert session.scalars(select(MesoSet.chosen_label)).one() is None

    slack_user.interact(
        block_action(Action.MESO_PICK, picks[2]["value"], response_url=slack.response_url("pick"))
    )
    after_ack.drain()  # redrawn after the ack
    redrawn = slack.calls("response_url")[-1].args
    assert redrawn["replace_original"] is True
    assert "picked *C*" in blocks_text(redrawn)
    with db() as session:
        assert session.scalars(select(MesoSet.chosen_label)).one() == "C"


def test_offers_without_labels_follow_a_multi_word_account(
    slack_user: SlackSender, db: SessionFactory
) -> None:
    """`ACCOUNT x | y`: the account resolver says where the account ends, not the
    first space (issue 11: "Blue Sky Mining" is not "Blue" with offer "Sky Mining …")."""
    slack_user.command("/rapport", "account Blue Sky Mining type: transactional")
    reply = slack_user.command("/meso", "blue sky mining annual prepay | monthly billing")
    assert reply.status == 200, reply.text
    with db() as session:
        meso = session.scalars(select(MesoSet)).one()
        assert meso.account.name == "Blue Sky Mining"
        assert [(o.label, o.terms) for o in meso.offers] == [
            ("A", "annual prepay"),
            ("B", "monthly billing"),
        ]
        assert session.scalar(select(func.count()).select_from(Account)) == 1
