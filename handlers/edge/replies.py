"""Shapes of replies: what ack() or respond() is given."""

from __future__ import annotations

import json
from typing import Any

# A button's value holds at most 2000 characters (Block Kit).
MAX_BUTTON_VALUE = 2000


def ephemeral(message: dict[str, Any]) -> dict[str, Any]:
    """ack() keyword arguments for a reply only the caller sees."""
    return {"text": message["text"], "blocks": message["blocks"], "response_type": "ephemeral"}


def run_value(command: str, text: str) -> str | None:
    """The value of a button that runs `command text` (handlers.rapport);
    None if it would not fit in a button."""
    value = json.dumps({"command": command, "text": text}, ensure_ascii=False)
    return value if len(value) <= MAX_BUTTON_VALUE else None
