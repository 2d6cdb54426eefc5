"""The "Log as touch" message shortcut: its modal carries the link of the message it
was opened on, and saving it logs a touch on the account with that link. A modal
whose link does not read (forged, or a shape this code never wrote) saves nothing
and says, in the open modal, that it is out of date."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.devtools.localslack import LocalSlack
from handlers.edge import after_ack
from messages.ids import View
from storage.db import SessionFactory
from storage.models import Touch
from tests.slackkit import ALICE, TEAM, SlackSender, view_submission

LINK = "https://slack.com/archives/C0DEALS/p1700000000000100"


def open_modal(slack_user: SlackSender, slack: LocalSlack) -> dict[str, Any]:
    shortcut = {
        "type": "message_action",
        "callback_id": "log_as_touch",
        "team": {"id": TEAM, "domain": "acme"},
        "user": {"id": ALICE, "team_id": TEAM},
        "channel": {"id": "C0DEALS"},
        "message": {"ts": "1700000000.000100", "text": "Their CFO signed off"},
        "trigger_id": "1337.42.trigger",
        "response_url": "http://127.0.0.1:9/response/none",
    }
    assert slack_user.interact(shortcut).status == 200
    after_ack.drain()
    (opened,) = slack.wait_for("views.open")
    view: dict[str, Any] = opened.args["view"]
    return view


def submit(slack_user: SlackSender, metadata: str) -> dict[str, Any]:
    values = {
        "account": {"value": {"type": "plain_text_input", "value": "Acme"}},
        "note": {"value": {"type": "plain_text_input", "value": "Their CFO signed off"}},
    }
    form = view_submission(View.LOG_TOUCH, values, private_metadata=metadata)
    return slack_user.interact(form).body


def touches(db: SessionFactory) -> list[str | None]:
    with db() as session:
        return [touch.permalink for touch in session.scalars(select(Touch))]


def test_the_touch_keeps_the_link_of_its_message(
    slack_user: SlackSender, slack: LocalSlack, db: SessionFactory
) -> None:
    slack_user.command("/followup", "acme send the deck due: fri")
    view = open_modal(slack_user, slack)
    assert view["private_metadata"] == LINK  # the shape modals already open carry

    assert submit(slack_user, view["private_metadata"]) == {}
    assert touches(db) == [LINK]


def test_a_link_this_code_did_not_write_saves_nothing(
    slack_user: SlackSender, db: SessionFactory
) -> None:
    slack_user.command("/followup", "acme send the deck due: fri")
    for forged in ("", "javascript:alert(1)|<!channel>"):
        answer = submit(slack_user, forged)
        assert answer["response_action"] == "errors"
        assert "out of date" in answer["errors"]["account"]
    assert touches(db) == []
