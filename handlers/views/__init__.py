"""Modal submissions, one module per modal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import App

from handlers.ids import View

# callback_id -> listener for view_submission.
VIEWS: dict[View, Callable[..., Any]] = {}


def register(app: App) -> None:
    for callback_id, listener in VIEWS.items():
        app.view(callback_id.value)(listener)
