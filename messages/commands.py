"""The slash-command reference (usage lines, examples, help lines), loaded once from data."""

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
    # What `/rapport help` lists for it: one line per way of using it.
    help: tuple[str, ...] = ()


@dataclass(frozen=True)
class SubcommandHelp:
    """One `/rapport` subcommand: how to write it, what it is for, one working example."""

    name: str
    usage: str
    about: str
    example: str

    @property
    def line(self) -> str:
        """The one line help and "Did you mean …?" show."""
        return f"`{self.usage}`: {self.about}"

    def as_command_help(self) -> CommandHelp:
        return CommandHelp(
            command=f"/rapport {self.name}",
            description=self.about,
            usage=self.usage,
            examples=(self.example,),
            help=(self.line,),
        )


def _load(name: str) -> dict[str, dict[str, object]]:
    loaded: dict[str, dict[str, object]] = yaml.safe_load(
        files("messages").joinpath(f"library/{name}").read_text("utf-8")
    )
    return loaded


def _texts(value: object) -> tuple[str, ...]:
    return tuple(map(str, value)) if isinstance(value, list) else ()


@cache
def command_reference() -> dict[str, CommandHelp]:
    return {
        name: CommandHelp(
            command=name,
            description=str(entry["description"]),
            usage=str(entry["usage"]),
            examples=_texts(entry.get("examples")),
            help=_texts(entry.get("help")),
        )
        for name, entry in _load("commands.yaml").items()
    }


@cache
def subcommand_reference() -> dict[str, SubcommandHelp]:
    """`/rapport` subcommands: name -> how to write it and what it is for."""
    return {
        name: SubcommandHelp(
            name=name,
            usage=str(entry["usage"]),
            about=str(entry["about"]),
            example=str(entry["example"]),
        )
        for name, entry in _load("subcommands.yaml").items()
    }
