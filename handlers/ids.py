"""Every action_id, callback_id and block_id Rapport puts in Block Kit, defined once."""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    """action_id of buttons and menus."""


class View(StrEnum):
    """callback_id of modals."""
