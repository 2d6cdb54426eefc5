"""/rapport SUBCOMMAND …: one entry point, dispatched through a table.

Each subcommand is a plain function `(ack, command, context, args) -> None` in its
own module; `args` is the text after the subcommand's name. The table is matched on
whole words, longest name first, so `digest off` can live beside `digest`.
"""

from __future__ import annotations

from collections.abc import Callable

from slack_bolt import Ack, BoltContext

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

Subcommand = Callable[[Ack, dict[str, str], BoltContext, str], None]


def help_reply(ack: Ack, command: dict[str, str], context: BoltContext, args: str) -> None:
    ack(**ephemeral(render("rapport_help", unknown=None, subcommands=subcommand_help())))


# name -> listener. Later issues add their subcommands here.
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


def subcommand_help() -> list[tuple[str, str]]:
    from messages.commands import subcommand_reference

    return [(name, text) for name, text in subcommand_reference().items() if name in SUBCOMMANDS]


MAX_NAME_WORDS = 3


def route(text: str) -> tuple[Subcommand | None, str, str]:
    """The listener for `text`, the text after its name, and the name matched."""
    words = text.split()
    for size in range(min(len(words), MAX_NAME_WORDS), 0, -1):
        name = " ".join(words[:size]).lower()
        if name in SUBCOMMANDS:
            rest = text.strip().split(None, size)[size:]
            return SUBCOMMANDS[name], rest[0] if rest else "", name
    return None, text.strip(), words[0] if words else ""


def rapport(ack: Ack, command: dict[str, str], context: BoltContext) -> None:
    text = command.get("text", "")
    listener, rest, name = route(text)
    if listener is None:
        unknown = name or None
        ack(**ephemeral(render("rapport_help", unknown=unknown, subcommands=subcommand_help())))
        return
    listener(ack, command, context, rest)
