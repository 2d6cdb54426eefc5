"""Reading what Slack sends back in a click: the value of the button clicked, or of the
option chosen. The payload models it is read into, and their base, are
messages/payloads.py (templates write some of them), parsed once at the top of each
listener."""

from __future__ import annotations

from typing import Any


def action_value(body: dict[str, Any]) -> str:
    """The value of the button clicked, or of the option chosen in a menu."""
    actions = body.get("actions")
    action = actions[0] if isinstance(actions, list) and actions else {}
    if not isinstance(action, dict):
        return ""
    value = action.get("value")
    if not value:
        option = action.get("selected_option")
        value = option.get("value") if isinstance(option, dict) else None
    return value if isinstance(value, str) else ""
