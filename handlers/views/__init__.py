"""Modal submissions, one module per modal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import App

from handlers import shortcuts
from handlers.actions import home, nudges, ratings
from handlers.views import concede, debrief, governance, meso, settings
from messages.ids import View

# callback_id -> listener for view_submission.
VIEWS: dict[View, Callable[..., Any]] = {
    View.GOVERNANCE_PLAN: governance.save_plan,
    View.DEBRIEF: debrief.save_debrief,
    View.SETTINGS: settings.submit_settings,
    View.LOG_TOUCH: shortcuts.submit_log_touch,
    View.CONCESSION: concede.submit_concession,
    View.MESO: meso.submit_meso,
}


# callback_id -> (validating ack, work after the ack that calls Slack).
LAZY_VIEWS: dict[View, tuple[Callable[..., Any], Callable[..., Any]]] = {
    View.SNOOZE_UNTIL: (nudges.ack_snooze_until, nudges.submit_snooze_until),
    View.BUYER_RATING: (ratings.ack_rating, ratings.submit_rating),
    View.HOME_SNOOZE_UNTIL: (nudges.ack_snooze_until, home.submit_snooze_until),
}


def register(app: App) -> None:
    for callback_id, listener in VIEWS.items():
        app.view(callback_id.value)(listener)
    for callback_id, (ack, work) in LAZY_VIEWS.items():
        app.view(callback_id.value)(ack=ack, lazy=[work])
