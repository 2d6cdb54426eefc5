"""Shapes of replies: what ack() or respond() is given."""

from __future__ import annotations

from typing import Any

from slack_bolt import Respond

from messages.payloads import ButtonValue, PayloadTooLarge


class RunCommand(ButtonValue):
    """A button that runs `command text` again, as if typed (handlers/rapport.py): the
    answers to a "Did you mean…?" (did_you_mean.yaml.j2 is given it)."""

    OUT_OF_DATE = "This button is out of date: type the command again."

    command: str
    text: str


def ephemeral(message: dict[str, Any]) -> dict[str, Any]:
    """ack() keyword arguments for a reply only the caller sees."""
    return {"text": message["text"], "blocks": message["blocks"], "response_type": "ephemeral"}


def replace_clicked(respond: Respond, message: dict[str, Any]) -> None:
    """Show `message` in place of the message a button was clicked on, to the clicker
    only (a log paged, a choice recorded, a question answered)."""
    respond(
        text=message["text"],
        blocks=message["blocks"],
        response_type="ephemeral",
        replace_original=True,
    )


def reply_below(respond: Respond, message: dict[str, Any]) -> None:
    """Answer a click with a new message to the clicker only, below the one clicked,
    which stays as it was (a card whose other buttons still count)."""
    respond(
        text=message["text"],
        blocks=message["blocks"],
        response_type="ephemeral",
        replace_original=False,
    )


def run_value(command: str, text: str) -> str | None:
    """The value of a button that runs `command text` (handlers.rapport);
    None if it would not fit in a button."""
    try:
        return RunCommand(command=command, text=text).dump()
    except PayloadTooLarge:
        return None
