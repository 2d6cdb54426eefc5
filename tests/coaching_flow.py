"""Steps a rep takes through the coaching features, through the real app: write the
prep, the governance plan and a debrief in their modals, click a button in a message
or in an open modal. Shared by the tests of /meso against the prep and of debriefs."""

from __future__ import annotations

from typing import Any

from bot.devtools.localslack import LocalSlack
from handlers.edge import after_ack
from messages.ids import Action, View
from tests.slackkit import ALICE, TEAM, Reply, SlackSender, block_action, view_submission
from tests.test_governance import button, debrief_values, plan_values, wait_for
from tests.test_prep import prep_values


def opened(slack: LocalSlack, before: int) -> dict[str, Any]:
    """The modal the last click opened (views.open after the ack)."""
    view: dict[str, Any] = wait_for(slack, "views.open", before + 1)[-1]["view"]
    return view


def open_from_button(
    slack_user: SlackSender, slack: LocalSlack, reply: Reply, action: Action
) -> dict[str, Any]:
    before = len(slack.calls("views.open"))
    slack_user.interact(block_action(action, button(reply.body, action)["value"]))
    return opened(slack, before)


def write_prep(slack_user: SlackSender, slack: LocalSlack, account: str, **given: Any) -> Reply:
    """The account's prep, written in its form (tests/test_prep.py's values: anchor
    $150k/yr, target 130k, walk-away 110,000, all per year), `given` replacing fields."""
    before = len(slack.calls("views.open"))
    slack_user.command("/rapport", f"prep {account} edit")
    view = opened(slack, before)
    saved = slack_user.interact(
        view_submission(
            View.PREP,
            prep_values(**given),
            private_metadata=view["private_metadata"],
            view_id=f"V0PREP{before}",
        )
    )
    assert saved.status == 200 and saved.body.get("response_action") == "update", saved.body
    return saved


def write_plan(
    slack_user: SlackSender, slack: LocalSlack, account: str, *, cadence: str = "monthly"
) -> Reply:
    """The account's governance plan, owned by Alice, written in its form."""
    shown = slack_user.command("/rapport", f"governance {account}")
    view = open_from_button(slack_user, slack, shown, Action.GOVERNANCE_EDIT)
    saved = slack_user.interact(
        view_submission(
            View.GOVERNANCE_PLAN,
            plan_values(owners=[ALICE], cadence=cadence),
            private_metadata=view["private_metadata"],
            view_id=f"V0PLAN{len(slack.calls('views.open'))}",
        )
    )
    assert saved.status == 200 and saved.body.get("response_action") == "update", saved.body
    return saved


def write_debrief(
    slack_user: SlackSender, slack: LocalSlack, account: str, *, user: str = ALICE, **answers: str
) -> Reply:
    """A debrief of the account with `answers` (trust=, next_meso=…), from its modal."""
    start = slack_user.command("/rapport", f"debrief {account}", user=user)
    view = open_from_button(slack_user, slack, start, Action.DEBRIEF_START)
    saved = slack_user.interact(
        view_submission(
            View.DEBRIEF,
            debrief_values(**answers),
            private_metadata=view["private_metadata"],
            user=user,
            view_id=f"V0DEBRIEF{len(slack.calls('views.open'))}",
        )
    )
    assert saved.status == 200 and saved.body.get("response_action") == "update", saved.body
    return saved


def buttons(message: dict[str, Any], action: str) -> list[dict[str, Any]]:
    """Every button of `action` in a message or a view, accessories included."""
    found = []
    for block in message["blocks"]:
        for element in [*block.get("elements", []), block.get("accessory") or {}]:
            if element.get("action_id") == action:
                found.append(element)
    return found


def click_in_message(
    slack_user: SlackSender, slack: LocalSlack, element: dict[str, Any], *, user: str = ALICE
) -> dict[str, Any] | None:
    """Click a button of an ephemeral reply; what came back through its response_url."""
    before = len(slack.calls("response_url"))
    payload = block_action(
        element["action_id"],
        element["value"],
        user=user,
        response_url=slack.response_url("clicked"),
        container={"type": "message", "channel_id": "C0LOCAL", "message_ts": "1.1"},
    )
    assert slack_user.interact(payload).status == 200
    after_ack.drain()
    answers = slack.calls("response_url")[before:]
    return answers[-1].args if answers else None


def click_in_modal(
    slack_user: SlackSender,
    slack: LocalSlack,
    view: dict[str, Any],
    element: dict[str, Any],
    *,
    view_id: str,
    user: str = ALICE,
) -> dict[str, Any] | None:
    """Click a button of an open modal (no response_url: it is redrawn by views.update);
    the view it was redrawn as, if it was."""
    before = len(slack.calls("views.update"))
    payload = block_action(element["action_id"], element["value"], user=user, team=TEAM)
    del payload["response_url"]
    payload["container"] = {"type": "view", "view_id": view_id}
    payload["view"] = {
        "id": view_id,
        "type": "modal",
        "callback_id": view.get("callback_id", ""),
        "private_metadata": view.get("private_metadata", ""),
        "hash": "1.abc",
        "state": {"values": {}},
    }
    assert slack_user.interact(payload).status == 200
    after_ack.drain()
    updates = slack.calls("views.update")[before:]
    return updates[-1].args["view"] if updates else None
