"""The slash-command reference (usage lines, examples, help lines), loaded once from data."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import TypeVar

import yaml
from pydantic import TypeAdapter

T = TypeVar("T")


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


def _load(name: str, entry: type[T], named: str) -> dict[str, T]:
    """A library file of entries by name, each read as `entry`, which holds its own
    name in the field `named`."""
    loaded: dict[str, dict[str, object]] = yaml.safe_load(
        files("messages").joinpath(f"library/{name}").read_text("utf-8")
    )
    reader = TypeAdapter(entry)
    return {key: reader.validate_python({named: key, **fields}) for key, fields in loaded.items()}


@cache
def command_reference() -> dict[str, CommandHelp]:
    return _load("commands.yaml", CommandHelp, "command")


@cache
def subcommand_reference() -> dict[str, SubcommandHelp]:
    """`/rapport` subcommands: name -> how to write it and what it is for."""
    return _load("subcommands.yaml", SubcommandHelp, "name")
