"""Block Kit interactions: buttons and menus, one module per surface."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App

from handlers.actions import (
    account,
    account_choice,
    changes,
    commands,
    concede,
    home,
    meso,
    nudges,
    qbr,
    ratings,
)
from messages.ids import ACCOUNT_CHOICE_PREFIX, RATING_SCORE_PREFIX, Action

# action_id -> listener. Listeners ack() first, then act and update the message.
ACTIONS: dict[Action, Callable[..., Any]] = {
    Action.CONCESSION_NEW: concede.log_new,
    Action.CONCESSION_EDIT: concede.edit,
    Action.CONCESSION_WITHDRAW: concede.withdraw,
    Action.CONCESSION_OLDER: concede.turn_page,
    Action.CONCESSION_NEWER: concede.turn_page,
    Action.MESO_TEMPLATE: meso.start_from_template,
    Action.MESO_PICK: meso.pick,
    Action.QBR_HELD_PLANNED: qbr.held_planned,
    Action.QBR_HELD_EXTRA: qbr.held_extra,
    Action.RUN_COMMAND: commands.run_command,
}


# action_id -> work that calls Slack: acked at once, run after the ack (Bolt's lazy
# listeners), so no Slack round trip sits on the request path.
LAZY_ACTIONS: dict[Action, Callable[..., Any]] = {
    Action.NUDGE_DONE: nudges.done,
    Action.NUDGE_SNOOZE: nudges.snooze,
    Action.NUDGE_REASSIGN: nudges.reassign,
    Action.NUDGE_QBR_HELD: nudges.qbr_held,
    Action.NUDGE_QBR_MOVED: nudges.qbr_moved,
    Action.NUDGE_QBR_SKIPPED: nudges.qbr_skipped,
    Action.NUDGE_TOUCHED: nudges.touched,
    Action.NUDGE_RATE: ratings.open_rating,
    Action.GOVERNANCE_EDIT: account.edit_governance,
    Action.DEBRIEF_START: account.start_debrief,
    Action.HOME_DONE: home.done,
    Action.HOME_SNOOZE: home.snooze,
    Action.HOME_EDIT_SETTINGS: home.edit_settings,
    Action.DIGEST_OPEN_ACCOUNT: account.open_account,
    Action.CHANGE_UNDO: changes.undo,
}


def ack_only(ack: Ack) -> None:
    ack()


def register(app: App) -> None:
    for action_id, listener in ACTIONS.items():
        app.action(action_id.value)(listener)
    for action_id, work in LAZY_ACTIONS.items():
        app.action(action_id.value)(ack=ack_only, lazy=[work])
    # The 0-10 buttons in the rating modal: one action_id per score.
    # The answers to "Did you mean …?": one action_id per button.
    app.action(re.compile(rf"^{ACCOUNT_CHOICE_PREFIX}\d+$"))(account_choice.choose)
    app.action(re.compile(rf"^{RATING_SCORE_PREFIX}\d+$"))(
        ack=ack_only, lazy=[ratings.choose_score]
    )
