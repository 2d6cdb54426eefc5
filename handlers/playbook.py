"""/rapport prompt|pitfalls|checklist|templates|tradeables: the coaching library, privately."""

from __future__ import annotations

from slack_bolt import Ack, BoltContext

from bot.services import playbook_search as coach
from bot.services.tradeables import tradeables_page
from handlers.edge.context import deps_of
from handlers.edge.replies import ephemeral
from messages import render
from messages.playbook import Playbook, load_playbook


def playbook_of(context: BoltContext) -> Playbook:
    # Loaded (and checked) once per file when the settings were made; cached since.
    return load_playbook(deps_of(context).settings.playbook_file)


def prompt(ack: Ack, command: dict[str, str], context: BoltContext, args: str) -> None:
    library = playbook_of(context)
    match = coach.find_prompt(library, args)
    if match.prompt is None:
        ack(**ephemeral(render("playbook_index", query=match.query, playbook=library)))
        return
    ack(**ephemeral(render("playbook_prompt", prompt=match.prompt, related=match.related)))


def pitfalls(ack: Ack, command: dict[str, str], context: BoltContext, args: str) -> None:
    page = coach.pitfalls_page(playbook_of(context), args)
    ack(**ephemeral(render("playbook_pitfalls", page=page)))


def checklist(ack: Ack, command: dict[str, str], context: BoltContext, args: str) -> None:
    page = coach.checklist_page(playbook_of(context), args)
    ack(**ephemeral(render("playbook_checklist", page=page)))


def templates(ack: Ack, command: dict[str, str], context: BoltContext, args: str) -> None:
    page = coach.templates_page(playbook_of(context), args)
    ack(**ephemeral(render("playbook_templates", page=page)))


def tradeables(ack: Ack, command: dict[str, str], context: BoltContext, args: str) -> None:
    ack(**ephemeral(render("playbook_tradeables", page=tradeables_page(args))))


# /rapport subcommand -> listener (handlers/rapport.py routes them).
SUBCOMMANDS = {
    "prompt": prompt,
    "pitfalls": pitfalls,
    "checklist": checklist,
    "templates": templates,
    "tradeables": tradeables,
}
