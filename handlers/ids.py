"""Every action_id, callback_id and block_id Rapport puts in Block Kit, defined once."""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    """action_id of buttons and menus."""

    # Nudge DMs (the block_id of each item carries which message and subject).
    NUDGE_DONE = "nudge_done"
    NUDGE_SNOOZE = "nudge_snooze"
    NUDGE_REASSIGN = "nudge_reassign"
    NUDGE_QBR_HELD = "nudge_qbr_held"
    NUDGE_TOUCHED = "nudge_touched"


class View(StrEnum):
    """callback_id of modals."""

    SNOOZE_UNTIL = "snooze_until"
    SETTINGS = "user_settings"
    LOG_TOUCH = "log_touch"
