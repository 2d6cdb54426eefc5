"""/rapport SUBCOMMAND …: one entry point, dispatched through a table.

Each subcommand is a plain function `(ack, command, context, args) -> None` in its
own module; `args` is the text after the subcommand's name. The table is matched on
whole words, longest name first, so `digest off` can live beside `digest`.

The same table makes the help: every name routed here has its lines in
messages/library/subcommands.yaml (tests/test_help.py fails otherwise), and
`/rapport help` lists exactly the routed names, with the other slash commands that
handlers/commands registers.
"""

from __future__ import annotations

from collections.abc import Callable

from slack_bolt import Ack, BoltContext

from bot.services.errors import UsageError
from bot.services.suggestions import closest
from handlers.commands import (
    rapport_account,
    rapport_digest,
    rapport_due,
    rapport_health,
    rapport_playbook,
    rapport_rhythm,
    rapport_settings,
)
from handlers.replies import ephemeral
from messages import render
from messages.commands import command_reference, subcommand_reference

COMMAND = "/rapport"

Subcommand = Callable[[Ack, dict[str, str], BoltContext, str], None]


def help_reply(ack: Ack, command: dict[str, str], context: BoltContext, args: str) -> None:
    ack(**ephemeral(render("rapport_help", sections=help_sections())))


# name -> listener.
SUBCOMMANDS: dict[str, Subcommand] = {
    "help": help_reply,
    "prompt": rapport_playbook.prompt,
    "pitfalls": rapport_playbook.pitfalls,
    "checklist": rapport_playbook.checklist,
    "templates": rapport_playbook.templates,
    "account": rapport_account.account,
    "governance": rapport_account.governance_plan,
    "debrief": rapport_account.debrief,
    "qbr": rapport_rhythm.qbr,
    "won": rapport_rhythm.won,
    "lost": rapport_rhythm.lost,
    "reopen": rapport_rhythm.reopen,
    "touch": rapport_rhythm.touch,
    "pause": rapport_rhythm.pause,
    "resume": rapport_rhythm.resume,
    "holidays": rapport_rhythm.holidays,
    "settings": rapport_settings.settings,
    "digest": rapport_digest.digest,
    "overdue": rapport_digest.overdue,
    "due": rapport_due.due_now,
    "health": rapport_health.health,
}


def slash_commands() -> list[str]:
    """Every slash command the app registers, in the order help lists them."""
    # Imported here: handlers.commands imports this module to register it.
    from handlers.commands import COMMANDS

    return list(COMMANDS)


def help_sections() -> list[tuple[str, list[str]]]:
    """`/rapport help`: (command, its lines) for every registered slash command, and
    for /rapport one line per routed subcommand."""
    sections: list[tuple[str, list[str]]] = []
    for name in slash_commands():
        if name == COMMAND:
            lines = [subcommand_reference()[sub].line for sub in SUBCOMMANDS]
        else:
            lines = list(command_reference()[name].help)
        sections.append((name, lines))
    return sections


def suggestions(word: str) -> list[tuple[str, list[str]]]:
    """What a mistyped subcommand most likely meant: (how to type it, its lines).

    Another slash command typed after /rapport (`/rapport meso`) counts too."""
    others = {name.lstrip("/"): name for name in slash_commands() if name != COMMAND}
    found: list[tuple[str, list[str]]] = []
    for name in closest(word, [*SUBCOMMANDS, *others]):
        if name in SUBCOMMANDS:
            found.append((f"{COMMAND} {name}", [subcommand_reference()[name].line]))
        else:
            found.append((others[name], list(command_reference()[others[name]].help)))
    return found


MAX_NAME_WORDS = 3


def route(text: str) -> tuple[Subcommand | None, str, str]:
    """The listener for `text`, the text after its name, and the name matched."""
    words = text.split()
    for size in range(min(len(words), MAX_NAME_WORDS), 0, -1):
        name = " ".join(words[:size]).lower()
        if name in SUBCOMMANDS:
            rest = text.strip().split(None, size)[size:]
            return SUBCOMMANDS[name], rest[0] if rest else "", name
    rest = text.strip().split(None, 1)[1:]
    return None, rest[0] if rest else "", words[0] if words else ""


def rapport(ack: Ack, command: dict[str, str], context: BoltContext) -> None:
    text = command.get("text", "")
    listener, rest, name = route(text)
    if listener is None and not name:
        help_reply(ack, command, context, rest)
        return
    if listener is None:
        ack(
            **ephemeral(
                render("rapport_unknown", word=name, rest=rest, suggestions=suggestions(name))
            )
        )
        return
    try:
        listener(ack, command, context, rest)
    except UsageError as error:
        # A problem found anywhere below (a service, the date reader) is about this
        # subcommand: its usage and example, not /rapport's in general.
        if error.usage in (None, COMMAND):
            error.usage = f"{COMMAND} {name.split()[0]}"
        raise
