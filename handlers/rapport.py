"""/rapport SUBCOMMAND …: one entry point, dispatched through a table; the table of
every slash command; and the buttons that run a command again.

Each subcommand is a plain function `(ack, command, context, args) -> None` in the
module of its feature, which lists it in its `SUBCOMMANDS`; `args` is the text after
the subcommand's name. The table here is made from those, in the order help lists
them, and matched on whole words, longest name first, so `digest off` can live beside
`digest`. The slash commands are made the same way from each feature's `COMMANDS`.

The same tables make the help: every name routed here has its lines in
messages/library/subcommands.yaml (tests/test_rapport_command.py fails otherwise), and
`/rapport help` lists exactly the routed names, with the other slash commands.

Two kinds of button run a command again, as if typed: the answers to a "Did you
mean…?" (a command that reads two ways, `12/10` from someone whose date order is
unknown, or nearly right, `give 10% get 2 years` without colons), and the answers to
*Did you mean Globex?* (the button carries the command and its text,
handlers/edge/accounts.AccountChoice, and the account chosen). Either way the same
command listener runs, and its reply replaces the question.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond

from bot.services.errors import UsageError, UserFacingError
from bot.services.suggestions import closest
from handlers import (
    account,
    concede,
    digest,
    due,
    followups,
    governance,
    health,
    holidays,
    meso,
    org,
    playbook,
    prep,
    qbr,
    rhythm,
    settings,
)
from handlers.edge.accounts import CHOICE_KEY, AccountChoice
from handlers.edge.caller import caller_of, team_of
from handlers.edge.errors import error_message
from handlers.edge.payloads import action_value
from handlers.edge.replies import RunCommand, ephemeral, replace_clicked
from messages import render
from messages.commands import command_reference, subcommand_reference
from messages.ids import ACCOUNT_CHOICE_PREFIX, Action
from messages.payloads import OutOfDate

COMMAND = "/rapport"

Subcommand = Callable[[Ack, dict[str, str], BoltContext, str], None]


def help_reply(ack: Ack, command: dict[str, str], context: BoltContext, args: str) -> None:
    ack(**ephemeral(render("rapport_help", sections=help_sections())))


# name -> listener, in the order help lists them.
SUBCOMMANDS: dict[str, Subcommand] = {
    "help": help_reply,
    **playbook.SUBCOMMANDS,
    **account.SUBCOMMANDS,
    **governance.SUBCOMMANDS,
    **prep.SUBCOMMANDS,
    **qbr.SUBCOMMANDS,
    **rhythm.SUBCOMMANDS,
    **holidays.SUBCOMMANDS,
    **settings.SUBCOMMANDS,
    **digest.SUBCOMMANDS,
    **due.SUBCOMMANDS,
    **health.SUBCOMMANDS,
    **org.SUBCOMMANDS,
}


def slash_commands() -> list[str]:
    """Every slash command the app registers, in the order help lists them."""
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


# Every slash command -> its listener, in the order help lists them; each feature
# registers its own.
COMMANDS: dict[str, Callable[[Ack, dict[str, str], BoltContext], None]] = {
    **concede.COMMANDS,
    **followups.COMMANDS,
    **meso.COMMANDS,
    COMMAND: rapport,
}


def run_command(ack: Ack, body: dict[str, Any], context: BoltContext, respond: Respond) -> None:
    ack()
    clicked = RunCommand.parse(action_value(body))
    name, text = clicked.command, clicked.text
    listener = COMMANDS.get(name)
    if listener is None:
        raise OutOfDate(RunCommand.OUT_OF_DATE)
    caller = caller_of(body)
    command = {
        "command": name,
        "text": text,
        "team_id": caller.team_id,
        "user_id": caller.user_id,
        "enterprise_id": caller.enterprise_id or "",
        "channel_id": str((body.get("channel") or {}).get("id", "")),
        "trigger_id": str(body.get("trigger_id", "")),
        "response_url": str(body.get("response_url", "")),
    }
    # The listener answers through its own ack, as it does a typed command: kept, then
    # sent in place of the question.
    answer = Ack()
    listener(answer, command, context)
    reply = json.loads(answer.response.body) if answer.response and answer.response.body else {}
    if reply.get("text") or reply.get("blocks"):
        replace_clicked(
            respond, {"text": reply.get("text", ""), "blocks": reply.get("blocks") or []}
        )


def choose_account(ack: Ack, body: dict[str, Any], context: BoltContext, respond: Respond) -> None:
    ack()
    choice = AccountChoice.parse(action_value(body))
    channel = (body.get("container") or {}).get("channel_id") or (body.get("channel") or {}).get(
        "id"
    )
    command: dict[str, Any] = {
        "command": choice.command,
        "text": choice.text,
        "team_id": team_of(body),
        "user_id": body["user"]["id"],
        "channel_id": channel or "",
        "trigger_id": body.get("trigger_id", ""),
        "response_url": body.get("response_url", ""),
        CHOICE_KEY: choice.account_id,
    }
    # The command's own ack, kept: its reply goes out through response_url instead.
    answer = Ack()
    try:
        COMMANDS[choice.command](answer, command, context)
        reply: dict[str, Any] = json.loads(answer.response.body) if answer.response else {}
    except UserFacingError as error:
        # Another question, or a problem with the command: it replaces this question.
        reply = error_message(error, command)
    replace_clicked(respond, {"text": reply.get("text", ""), "blocks": reply.get("blocks", [])})


def register(app: App) -> None:
    app.command(COMMAND)(rapport)
    app.action(Action.RUN_COMMAND.value)(run_command)
    # The answers to *Did you mean Globex?*: one action_id per button.
    app.action(re.compile(rf"^{ACCOUNT_CHOICE_PREFIX}\d+$"))(choose_account)
