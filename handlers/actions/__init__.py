"""Block Kit interactions: buttons and menus, one module per surface."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import App

from handlers.ids import Action

# action_id -> listener. Listeners ack() first, then act and update the message.
ACTIONS: dict[Action, Callable[..., Any]] = {}


def register(app: App) -> None:
    for action_id, listener in ACTIONS.items():
        app.action(action_id.value)(listener)
