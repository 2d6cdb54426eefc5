"""Block Kit interactions: buttons and menus, one module per surface."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App

from handlers.actions import nudges
from handlers.ids import Action

# action_id -> listener. Listeners ack() first, then act and update the message.
ACTIONS: dict[Action, Callable[..., Any]] = {}


# action_id -> work that calls Slack: acked at once, run after the ack (Bolt's lazy
# listeners), so no Slack round trip sits on the request path.
LAZY_ACTIONS: dict[Action, Callable[..., Any]] = {
    Action.NUDGE_DONE: nudges.done,
    Action.NUDGE_SNOOZE: nudges.snooze,
    Action.NUDGE_REASSIGN: nudges.reassign,
    Action.NUDGE_QBR_HELD: nudges.qbr_held,
    Action.NUDGE_TOUCHED: nudges.touched,
}


def ack_only(ack: Ack) -> None:
    ack()


def register(app: App) -> None:
    for action_id, listener in ACTIONS.items():
        app.action(action_id.value)(listener)
    for action_id, work in LAZY_ACTIONS.items():
        app.action(action_id.value)(ack=ack_only, lazy=[work])
