"""The concession log in full through the real app: fields, the form, buttons, paging, sharing."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select

from bot.devtools.localslack import LocalSlack
from handlers.edge import after_ack
from messages.ids import Action, ConcessionBlock, View
from storage.db import SessionFactory
from storage.models import Account, Concession, ConcessionRevision
from tests.slackkit import (
    ALICE,
    BOB,
    OTHER_TEAM,
    SlackSender,
    block_action,
    blocks_text,
    view_submission,
)


def count(db: SessionFactory, model: type) -> int:
    with db() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def only_entry(db: SessionFactory) -> Concession:
    with db() as session:
        return session.scalars(select(Concession)).one()


def form_values(**fields: str) -> dict[str, dict[str, Any]]:
    """State values of the concession modal: block name (e.g. GIVE) -> typed text."""
    return {
        ConcessionBlock[name].value: {"value": {"type": "plain_text_input", "value": text}}
        for name, text in fields.items()
    }


def share_ticked() -> dict[str, dict[str, Any]]:
    option = {"text": {"type": "plain_text", "text": "Post"}, "value": "share"}
    return {
        ConcessionBlock.SHARE.value: {"value": {"type": "checkboxes", "selected_options": [option]}}
    }


def buttons(message: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """action_id -> the buttons with it, in the order they appear."""
    found: dict[str, list[dict[str, Any]]] = {}
    for block in message.get("blocks", []):
        elements = block.get("elements", []) if block.get("type") == "actions" else []
        if block.get("accessory"):
            elements = [block["accessory"]]
        for element in elements:
            if element.get("type") == "button":
                found.setdefault(element["action_id"], []).append(element)
    return found


def calls(slack: LocalSlack, method: str) -> list[Any]:
    """Slack's calls of `method`, once the work after the acks is done: a click's and a
    submission's Slack calls come after their answer."""
    after_ack.drain()
    return slack.calls(method)


def responses(slack: LocalSlack) -> list[dict[str, Any]]:
    return [call.args for call in calls(slack, "response_url")]


def test_concede_logs_item_and_values(slack_user: SlackSender, db: SessionFactory) -> None:
    reply = slack_user.command(
        "/concede",
        "acme item: price give: 5% discount get: 24-month term trigger: signed by March "
        "value: us 2% margin, them 12k saved",
    )
    assert reply.status == 200 and reply.ephemeral
    entry = only_entry(db)
    assert (entry.item, entry.value_to_us, entry.value_to_them) == (
        "price",
        "2% margin",
        "12k saved",
    )
    assert entry.trigger == "signed by March"
    assert "to us 2% margin; to them 12k saved" in reply.text


def test_value_sides_can_come_in_either_order(slack_user: SlackSender, db: SessionFactory) -> None:
    slack_user.command("/concede", "acme give: a get: b value: them faster rollout; us cash")
    entry = only_entry(db)
    assert (entry.value_to_us, entry.value_to_them) == ("cash", "faster rollout")


def test_one_way_give_suggests_the_other_side_of_its_tradeable(
    slack_user: SlackSender, db: SessionFactory
) -> None:
    reply = slack_user.command("/concede", "acme give: 5% discount")
    assert "one-way concession" in reply.text
    assert "commit to a higher volume or a minimum spend" in reply.text
    assert "5% discount" in reply.text
    assert count(db, Concession) == 1
    reply = slack_user.command("/concede", "acme give: premium SLA upgrade")
    assert "sign for a longer term" in reply.text


def test_concede_alone_opens_the_form(slack_user: SlackSender, slack: LocalSlack) -> None:
    reply = slack_user.command("/concede", "   ", trigger_id="1337.42.local")

    assert reply.status == 200 and reply.ephemeral
    assert "Opening the concession form" in reply.text
    (call,) = slack.wait_for("views.open")
    assert call.args["trigger_id"] == "1337.42.local"
    view = call.args["view"]
    assert view["callback_id"] == View.CONCESSION
    block_ids = {block.get("block_id") for block in view["blocks"]}
    assert {b.value for b in ConcessionBlock} <= block_ids
    assert json.loads(view["private_metadata"])["channel_id"] == "C0LOCAL"


def test_form_that_slack_will_not_open_gets_an_answer(
    slack_user: SlackSender, slack: LocalSlack
) -> None:
    slack.fail_next("views.open", error="trigger_expired")
    reply = slack_user.command("/concede", "")
    assert reply.status == 200 and reply.ephemeral
    # The form opens right after the ack; its failure comes as a second, private reply.
    (answer,) = slack.wait_for("response_url")
    assert answer.args["response_type"] == "ephemeral"
    assert "trigger_expired" in blocks_text(answer.args)
    assert "/concede ACCOUNT give:" in blocks_text(answer.args)


def test_form_submission_logs_once_even_when_sent_twice(
    slack_user: SlackSender, db: SessionFactory, slack: LocalSlack
) -> None:
    payload = view_submission(
        View.CONCESSION,
        form_values(ACCOUNT="Acme", GIVE="free onboarding", VALUE_TO_THEM="two weeks faster"),
        private_metadata=json.dumps({"concession_id": None, "channel_id": "C0DEALS"}),
        view_id="V0TWICE",
    )
    first = slack_user.interact(payload)
    second = slack_user.interact(payload)

    for reply in (first, second):
        assert reply.status == 200
        assert reply.body["response_action"] == "update"
        assert "one-way concession" in blocks_text(reply.body["view"])
    assert count(db, Concession) == 1
    entry = only_entry(db)
    assert (entry.give, entry.value_to_them, entry.source_key) == (
        "free onboarding",
        "two weeks faster",
        "view:V0TWICE",
    )
    assert "Already" not in blocks_text(first.body["view"])
    assert calls(slack, "chat.postMessage") == []


def test_form_errors_show_under_the_field(slack_user: SlackSender, db: SessionFactory) -> None:
    no_give = slack_user.interact(
        view_submission(View.CONCESSION, form_values(ACCOUNT="acme", GET="a reference"))
    )
    assert no_give.body["response_action"] == "errors"
    assert ConcessionBlock.GIVE.value in no_give.body["errors"]
    no_account = slack_user.interact(
        view_submission(View.CONCESSION, form_values(ACCOUNT="  ", GIVE="free seats"))
    )
    assert ConcessionBlock.ACCOUNT.value in no_account.body["errors"]
    # `none` gives nothing: no concession, said under the give.
    gives_none = slack_user.interact(
        view_submission(View.CONCESSION, form_values(ACCOUNT="acme", GIVE="none", GET="a logo"))
    )
    assert gives_none.body["response_action"] == "errors"
    assert "gives nothing" in gives_none.body["errors"][ConcessionBlock.GIVE.value]
    assert count(db, Concession) == 0


def test_form_share_posts_to_the_channel_it_came_from(
    slack_user: SlackSender, slack: LocalSlack
) -> None:
    values = {**form_values(ACCOUNT="acme", GIVE="extra seats", GET="case study"), **share_ticked()}
    reply = slack_user.interact(
        view_submission(
            View.CONCESSION,
            values,
            private_metadata=json.dumps({"concession_id": None, "channel_id": "C0DEALS"}),
        )
    )
    (post,) = calls(slack, "chat.postMessage")
    assert post.args["channel"] == "C0DEALS"
    assert "extra seats" in blocks_text(post.args)
    assert "Posting it to <#C0DEALS>" in blocks_text(reply.body["view"])


def test_share_flag_posts_to_the_accounts_channel_first(
    slack_user: SlackSender, slack: LocalSlack, db: SessionFactory
) -> None:
    slack_user.command("/concede", "acme give: a get: b")
    with db.begin() as session:
        session.scalars(select(Account)).one().channel_id = "C0ACME"
    reply = slack_user.command("/concede", "acme give: free training get: a quote share")

    (post,) = slack.wait_for("chat.postMessage")
    assert post.args["channel"] == "C0ACME"
    assert "free training" in blocks_text(post.args)
    assert reply.ephemeral
    assert "Posting it to <#C0ACME>" in reply.text
    with db() as session:
        gets = set(session.scalars(select(Concession.get)))
    assert gets == {"b", "a quote"}, "the flag is not part of the get"


def test_share_that_fails_still_logs_and_says_so(
    slack_user: SlackSender, slack: LocalSlack, db: SessionFactory
) -> None:
    slack.fail_next("chat.postMessage", error="not_in_channel")
    reply = slack_user.command("/concede", "acme give: a get: b share")
    assert reply.status == 200 and reply.ephemeral
    (answer,) = slack.wait_for("response_url")
    assert "not_in_channel" in blocks_text(answer.args)
    assert count(db, Concession) == 1


def test_log_button_opens_the_form_with_the_account(
    slack_user: SlackSender, slack: LocalSlack
) -> None:
    log = slack_user.command("/concede", "acme give: a get: b")
    log = slack_user.command("/concede", "acme")
    (new,) = buttons(log.body)[Action.CONCESSION_NEW]

    slack_user.interact(block_action(Action.CONCESSION_NEW, new["value"]))

    (call,) = calls(slack, "views.open")
    account_block = next(
        b for b in call.args["view"]["blocks"] if b.get("block_id") == ConcessionBlock.ACCOUNT
    )
    assert account_block["element"]["initial_value"] == "acme"


def test_edit_keeps_what_the_entry_said_before(
    slack_user: SlackSender, slack: LocalSlack, db: SessionFactory
) -> None:
    slack_user.command("/concede", "acme give: 5% discount get: 12-month term")
    log = slack_user.command("/concede", "acme")
    (edit,) = buttons(log.body)[Action.CONCESSION_EDIT]

    slack_user.interact(block_action(Action.CONCESSION_EDIT, edit["value"]))
    (call,) = calls(slack, "views.open")
    view = call.args["view"]
    entry_id = only_entry(db).id
    assert json.loads(view["private_metadata"])["concession_id"] == entry_id
    give_block = next(b for b in view["blocks"] if b.get("block_id") == ConcessionBlock.GIVE)
    assert give_block["element"]["initial_value"] == "5% discount"

    values = form_values(GIVE="4% discount", GET="24-month term")
    for _ in range(2):  # a repeat changes nothing more
        reply = slack_user.interact(
            view_submission(View.CONCESSION, values, private_metadata=view["private_metadata"])
        )
        assert reply.body["response_action"] == "update"

    entry = only_entry(db)
    assert (entry.give, entry.get) == ("4% discount", "24-month term")
    assert entry.edited_at is not None
    with db() as session:
        (revision,) = session.scalars(select(ConcessionRevision)).all()
    assert (revision.give, revision.get, revision.change) == (
        "5% discount",
        "12-month term",
        "edited",
    )
    assert revision.changed_by == ALICE


def edit_from(
    slack_user: SlackSender, slack: LocalSlack, container: dict[str, Any], response_url: str
) -> str:
    """Click Edit on the log's only entry; the opened modal's private_metadata."""
    log = slack_user.command("/concede", "acme")
    (edit,) = buttons(log.body)[Action.CONCESSION_EDIT]
    slack_user.interact(
        block_action(
            Action.CONCESSION_EDIT, edit["value"], container=container, response_url=response_url
        )
    )
    (opened,) = calls(slack, "views.open")
    return str(opened.args["view"]["private_metadata"])


def test_editing_from_the_ephemeral_log_redraws_it_through_its_response_url(
    slack_user: SlackSender, slack: LocalSlack, db: SessionFactory
) -> None:
    slack_user.command("/concede", "acme give: 5% discount")
    ephemeral_log = {
        "type": "message",
        "channel_id": "C0SALES",
        "message_ts": "1700000000.000100",
        "is_ephemeral": True,
    }
    metadata = edit_from(slack_user, slack, ephemeral_log, slack.response_url("log"))

    reply = slack_user.interact(
        view_submission(
            View.CONCESSION,
            form_values(GIVE="4% discount", GET="24-month term"),
            private_metadata=metadata,
        )
    )

    assert reply.body["response_action"] == "update"
    (redrawn,) = responses(slack)
    assert redrawn["replace_original"] is True
    assert redrawn["response_type"] == "ephemeral"
    text = blocks_text(redrawn)
    assert "4% discount" in text and "24-month term" in text
    assert "5% discount" not in text
    assert "1 traded give, 0 one-way gives" in text
    assert buttons(redrawn)[Action.CONCESSION_EDIT], "the redrawn log can be edited again"
    assert calls(slack, "chat.update") == []


def test_editing_from_a_log_in_a_channel_updates_that_message(
    slack_user: SlackSender, slack: LocalSlack, db: SessionFactory
) -> None:
    slack_user.command("/concede", "acme give: 5% discount")
    in_channel = {"type": "message", "channel_id": "C0SALES", "message_ts": "1700000000.000200"}
    metadata = edit_from(slack_user, slack, in_channel, slack.response_url("log"))

    slack_user.interact(
        view_submission(
            View.CONCESSION, form_values(GIVE="free onboarding"), private_metadata=metadata
        )
    )

    (update,) = calls(slack, "chat.update")
    assert (update.args["channel"], update.args["ts"]) == ("C0SALES", "1700000000.000200")
    text = blocks_text(update.args)
    assert "free onboarding" in text and "5% discount" not in text
    assert "0 traded gives, 1 one-way give" in text
    assert responses(slack) == []


def test_an_edit_is_saved_when_the_log_can_no_longer_be_redrawn(
    slack_user: SlackSender, slack: LocalSlack, db: SessionFactory
) -> None:
    slack_user.command("/concede", "acme give: 5% discount")
    in_channel = {"type": "message", "channel_id": "C0SALES", "message_ts": "1700000000.000300"}
    metadata = edit_from(slack_user, slack, in_channel, slack.response_url("log"))
    slack.fail_next("chat.update", error="message_not_found")

    reply = slack_user.interact(
        view_submission(View.CONCESSION, form_values(GIVE="4% discount"), private_metadata=metadata)
    )

    assert reply.body["response_action"] == "update"
    assert only_entry(db).give == "4% discount"


def test_withdraw_marks_it_and_redraws_the_log_in_place(
    slack_user: SlackSender, slack: LocalSlack, db: SessionFactory
) -> None:
    slack_user.command("/concede", "acme give: free onboarding")
    slack_user.command("/concede", "acme give: 5% discount get: 24-month term")
    log = slack_user.command("/concede", "acme")
    assert "1 traded give, 1 one-way give" in log.text
    withdraw_first = buttons(log.body)[Action.CONCESSION_WITHDRAW][1]  # oldest: the one-way give

    reply = slack_user.interact(
        block_action(
            Action.CONCESSION_WITHDRAW,
            withdraw_first["value"],
            user=BOB,
            response_url=slack.response_url("log"),
        )
    )

    assert reply.status == 200
    (redrawn,) = responses(slack)
    assert redrawn["replace_original"] is True
    text = blocks_text(redrawn)
    assert "1 traded give, 0 one-way gives" in text
    assert "1 withdrawn" in text
    assert "free onboarding" in text, "withdrawn entries stay visible"
    assert f"withdrawn by <@{BOB}>" in text
    with db() as session:
        withdrawn = session.scalars(select(Concession).where(Concession.get.is_(None))).one()
        assert withdrawn.withdrawn_by == BOB and withdrawn.withdrawn_at is not None
        revision = session.scalars(select(ConcessionRevision)).one()
        assert revision.change == "withdrawn" and revision.give == "free onboarding"


def test_another_team_cannot_touch_an_entry(
    slack_user: SlackSender, slack: LocalSlack, db: SessionFactory
) -> None:
    slack_user.command("/concede", "acme give: secret discount")
    entry_id = only_entry(db).id
    for action in (Action.CONCESSION_WITHDRAW, Action.CONCESSION_EDIT):
        reply = slack_user.interact(
            block_action(
                action, f"{entry_id}:1", team=OTHER_TEAM, response_url=slack.response_url("x")
            )
        )
        assert reply.status == 200
    assert calls(slack, "views.open") == []
    said = [blocks_text(r) for r in responses(slack)]
    assert len(said) == 2 and all("not there" in text for text in said)
    assert all("secret discount" not in text for text in said)
    edit = slack_user.interact(
        view_submission(
            View.CONCESSION,
            form_values(GIVE="stolen"),
            team=OTHER_TEAM,
            private_metadata=json.dumps({"concession_id": entry_id, "channel_id": None}),
        )
    )
    assert edit.body["response_action"] == "errors"
    entry = only_entry(db)
    assert entry.withdrawn_at is None and entry.give == "secret discount"
    assert count(db, ConcessionRevision) == 0


def test_a_long_log_pages_within_block_kit_limits(
    slack_user: SlackSender, slack: LocalSlack
) -> None:
    for number in range(23):
        slack_user.command("/concede", f"acme give: give number {number:02d} " + "x" * 400)

    first = slack_user.command("/concede", "acme")
    assert len(first.body["blocks"]) <= 50
    assert "give number 22" in first.text and "give number 12" not in first.text
    assert Action.CONCESSION_NEWER not in buttons(first.body)
    (older,) = buttons(first.body)[Action.CONCESSION_OLDER]

    slack_user.interact(
        block_action(Action.CONCESSION_OLDER, older["value"], response_url=slack.response_url("p"))
    )
    (second,) = responses(slack)
    assert second["replace_original"] is True
    assert len(second["blocks"]) <= 50
    text = blocks_text(second)
    assert "give number 12" in text and "give number 22" not in text
    assert "Page 2 of 3" in text
    assert Action.CONCESSION_NEWER in buttons(second)

    # A page number past the end (the log shrank since) shows the last page.
    account_id = older["value"].split(":")[0]
    slack_user.interact(
        block_action(Action.CONCESSION_OLDER, f"{account_id}:99", response_url=slack.response_url())
    )
    last = responses(slack)[-1]
    assert "give number 00" in blocks_text(last) and "Page 3 of 3" in blocks_text(last)


def test_stale_buttons_get_an_answer(slack_user: SlackSender, slack: LocalSlack) -> None:
    for action, value in [
        (Action.CONCESSION_OLDER, "nonsense"),
        (Action.CONCESSION_NEW, "12345"),
        (Action.CONCESSION_WITHDRAW, "1:"),
    ]:
        reply = slack_user.interact(
            block_action(action, value, response_url=slack.response_url("s"))
        )
        assert reply.status == 200
    assert len(responses(slack)) == 3
