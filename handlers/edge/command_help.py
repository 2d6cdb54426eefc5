"""`/concede help`, `/followup help`, `/meso help` (or `?`): the command's own lines,
never the log or the follow-ups of an account called "help". (`/rapport help` is the
whole list: handlers/rapport.py.)"""

from __future__ import annotations

from typing import Any

from messages import render
from messages.commands import command_reference

HELP_WORDS = frozenset({"help", "?"})


def asks_for_help(command: dict[str, str]) -> bool:
    return command.get("text", "").strip().casefold() in HELP_WORDS


def command_help(name: str) -> dict[str, Any]:
    """The help of the slash command `name`, with an example, as /rapport help has it."""
    reference = command_reference()[name]
    return render(
        "rapport_help",
        intro=f"{reference.description}. How to write it:",
        sections=[(name, [*reference.help, f"For example: `{reference.examples[0]}`"])],
    )
