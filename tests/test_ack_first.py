"""A modal submission (the concession form, the MESO form) is acked before any Slack
call: the done view comes back in the HTTP response, and the log's redraw, the post to
the channel and App Home follow it, through the after-ack runner. Checked with the
runner held: the answer arrives while the fake Slack has recorded nothing, and the
calls come once it is let go."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bot.devtools.localslack import LocalSlack
from handlers.edge import after_ack
from handlers.edge.pool import AFTER_ACK
from messages.ids import Action, ConcessionBlock, MesoBlock, MesoOfferField, View, offer_block
from tests.slackkit import SlackSender, block_action, blocks_text, view_submission


@contextmanager
def after_ack_held() -> Iterator[None]:
    """Every after-ack worker busy until the block ends: what is handed to `later`
    (or a lazy listener) waits, what runs on the request path does not."""
    after_ack.drain()
    release = threading.Event()
    for _ in range(AFTER_ACK._max_workers):
        AFTER_ACK.submit(release.wait, 10)
    try:
        yield
    finally:
        release.set()
        after_ack.drain()


def button(message: dict[str, Any], action: str) -> dict[str, Any]:
    """The first button of `message` with that action_id."""
    return next(
        element
        for block in message["blocks"]
        if block.get("type") == "actions"
        for element in block["elements"]
        if element["action_id"] == action
    )


def typed(**fields: str) -> dict[str, dict[str, Any]]:
    return {
        ConcessionBlock[name].value: {"value": {"type": "plain_text_input", "value": text}}
        for name, text in fields.items()
    }


SHARE = {
    ConcessionBlock.SHARE.value: {
        "value": {
            "type": "checkboxes",
            "selected_options": [
                {"text": {"type": "plain_text", "text": "Post"}, "value": "share"}
            ],
        }
    }
}


def test_a_new_concession_is_acked_before_it_is_posted(
    slack_user: SlackSender, slack: LocalSlack
) -> None:
    metadata = json.dumps({"channel_id": "C0DEALS"})
    values = {**typed(ACCOUNT="acme", GIVE="extra seats", GET="a case study"), **SHARE}
    with after_ack_held():
        reply = slack_user.interact(
            view_submission(View.CONCESSION, values, private_metadata=metadata)
        )
        assert reply.body["response_action"] == "update"
        assert "Posting it to <#C0DEALS>" in blocks_text(reply.body["view"])
        assert slack.calls() == [], "no Slack call before the ack"
    (post,) = slack.calls("chat.postMessage")
    assert post.args["channel"] == "C0DEALS" and "extra seats" in blocks_text(post.args)
    assert slack.calls("views.update") == [], "the done view said it right"


def test_a_post_that_fails_after_the_ack_is_told_in_the_done_view(
    slack_user: SlackSender, slack: LocalSlack
) -> None:
    values = {**typed(ACCOUNT="acme", GIVE="extra seats"), **SHARE}
    failed_post_is_told(slack_user, slack, view_submission(View.CONCESSION, values))


def failed_post_is_told(slack_user: SlackSender, slack: LocalSlack, form: dict[str, Any]) -> None:
    """Submit `form` (share ticked) with the post bound to fail: the done view the ack
    shows says it is on its way, then the same view says it could not go."""
    slack.fail_next("chat.postMessage", error="not_in_channel")
    form["view"].update(id="V0DONE", private_metadata=json.dumps({"channel_id": "C0DEALS"}))
    with after_ack_held():
        reply = slack_user.interact(form)
        assert slack.calls() == []
    (update,) = slack.calls("views.update")
    assert update.args["view_id"] == "V0DONE"
    shown = blocks_text(update.args["view"])
    assert "Could not post it to the channel (not_in_channel)" in shown
    # Otherwise the view the user ends with is the one the ack showed.
    assert without_line(shown, "Could not post") == without_line(
        blocks_text(reply.body["view"]), "Posting it to"
    )


def without_line(text: str, holding: str) -> str:
    return "\n".join(line for line in text.splitlines() if holding not in line)


def test_an_edit_is_acked_before_the_log_is_redrawn(
    slack_user: SlackSender, slack: LocalSlack
) -> None:
    slack_user.command("/concede", "acme give: 5% discount")
    log = slack_user.command("/concede", "acme")
    edit = button(log.body, Action.CONCESSION_EDIT)
    in_channel = {"type": "message", "channel_id": "C0SALES", "message_ts": "1700000000.000200"}
    slack_user.interact(block_action(Action.CONCESSION_EDIT, edit["value"], container=in_channel))
    (opened,) = slack.wait_for("views.open")
    after_ack.drain()
    slack.clear()
    with after_ack_held():
        reply = slack_user.interact(
            view_submission(
                View.CONCESSION,
                typed(GIVE="free onboarding"),
                private_metadata=opened.args["view"]["private_metadata"],
            )
        )
        assert "Concession saved" in json.dumps(reply.body["view"])
        assert slack.calls() == []
    (update,) = slack.calls("chat.update")
    assert "free onboarding" in blocks_text(update.args)


def meso_values(share: bool) -> dict[str, dict[str, Any]]:
    def text(block: str, value: str) -> dict[str, dict[str, Any]]:
        return {block: {"value": {"type": "plain_text_input", "value": value}}}

    values = {
        **text(MesoBlock.ACCOUNT, "acme"),
        **text(offer_block(0, MesoOfferField.TERMS), "3 years, 5% off"),
        **text(offer_block(1, MesoOfferField.TERMS), "1 year, list price"),
    }
    if share:
        option = {"text": {"type": "plain_text", "text": "Post"}, "value": "share"}
        values[MesoBlock.SHARE] = {"value": {"type": "checkboxes", "selected_options": [option]}}
    return values


def test_a_meso_set_is_acked_before_it_is_posted(
    slack_user: SlackSender, slack: LocalSlack
) -> None:
    metadata = json.dumps({"channel_id": "C0DEALS"})
    with after_ack_held():
        reply = slack_user.interact(
            view_submission(View.MESO, meso_values(share=True), private_metadata=metadata)
        )
        assert reply.body["response_action"] == "update"
        assert "Posting it to <#C0DEALS>" in blocks_text(reply.body["view"])
        assert slack.calls() == [], "no Slack call before the ack"
    (post,) = slack.calls("chat.postMessage")
    assert post.args["channel"] == "C0DEALS" and "1 year, list price" in blocks_text(post.args)
    assert slack.calls("views.update") == []


def test_a_meso_post_that_fails_after_the_ack_is_told_in_the_done_view(
    slack_user: SlackSender, slack: LocalSlack
) -> None:
    failed_post_is_told(slack_user, slack, view_submission(View.MESO, meso_values(share=True)))


def test_the_log_and_offer_buttons_answer_before_they_call_slack(
    slack_user: SlackSender, slack: LocalSlack
) -> None:
    slack_user.command("/concede", "acme give: 5% discount")
    log = slack_user.command("/concede", "acme")
    built = slack_user.command("/meso", "acme A: 3 years | B: 1 year")
    after_ack.drain()
    slack.clear()
    clicks = [
        (Action.CONCESSION_EDIT, button(log.body, Action.CONCESSION_EDIT)["value"]),
        (Action.CONCESSION_NEW, button(log.body, Action.CONCESSION_NEW)["value"]),
        (Action.CONCESSION_WITHDRAW, button(log.body, Action.CONCESSION_WITHDRAW)["value"]),
        (Action.MESO_PICK, button(built.body, Action.MESO_PICK)["value"]),
    ]
    with after_ack_held():
        for action, value in clicks:
            click = block_action(action, value, response_url=slack.response_url("click"))
            assert slack_user.interact(click).status == 200
        assert slack.calls() == [], "no Slack call before the ack"
    assert len(slack.calls("views.open")) == 2
    assert len(slack.calls("response_url")) == 2
