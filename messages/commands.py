"""The slash-command reference (usage lines, examples), loaded once from data."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib.resources import files

import yaml


@dataclass(frozen=True)
class CommandHelp:
    command: str
    description: str
    usage: str
    examples: tuple[str, ...]


@cache
def command_reference() -> dict[str, CommandHelp]:
    raw = yaml.safe_load(files("messages").joinpath("library/commands.yaml").read_text("utf-8"))
    return {
        name: CommandHelp(
            command=name,
            description=entry["description"],
            usage=entry["usage"],
            examples=tuple(entry.get("examples", ())),
        )
        for name, entry in raw.items()
    }


def command_help(command: str) -> CommandHelp:
    return command_reference()[command]


@cache
def subcommand_reference() -> dict[str, str]:
    """`/rapport` subcommands: name -> one help line."""
    text = files("messages").joinpath("library/subcommands.yaml").read_text("utf-8")
    loaded: dict[str, str] = yaml.safe_load(text)
    return loaded
