"""Shapes of replies: what ack() or respond() is given."""

from __future__ import annotations

from typing import Any


def ephemeral(message: dict[str, Any]) -> dict[str, Any]:
    """ack() keyword arguments for a reply only the caller sees."""
    return {"text": message["text"], "blocks": message["blocks"], "response_type": "ephemeral"}
