"""/rapport account|governance|debrief ACCOUNT: one account, its plan and its debriefs."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from slack_bolt import Ack, BoltContext
from sqlalchemy.orm import Session

from bot.services import account_changes, governance
from bot.services import account_overview as accounts
from bot.services.accounts import find_account, get_account
from bot.services.errors import UsageError
from handlers.accounts import read_account_of, with_new_account
from handlers.caller import team_of
from handlers.commands.rapport_playbook import playbook_of
from handlers.context import deps_of, utcnow
from handlers.events.home import refresh_home
from handlers.parsing import split_keyed
from handlers.replies import ephemeral
from handlers.views.account_target import without_nul
from messages import render
from messages.ids import Action
from storage.models import Account

# The problems below spell out how to write the command; no generic usage line after them.
USAGE = "/rapport account"
ACCOUNT_KEYS = ("type", "owner", "expects", "channel")
# With should_escape on, Slack sends a picked user as <@U123|name> (or <@U123>).
_MENTION = re.compile(r"<@([UW][A-Z0-9]{2,31})(?:\|[^<>]*)?>")
# … and a picked channel as <#C123|name>.
_CHANNEL = re.compile(r"<#([CG][A-Z0-9]{2,31})(?:\|[^<>]*)?>")


@dataclass(frozen=True)
class AccountInput:
    account: str
    changes: accounts.AccountChanges


def parse_owner(text: str) -> str:
    match = _MENTION.fullmatch(text.strip())
    if match:
        return match.group(1)
    raise UsageError(
        "For `owner:`, type `@` and pick the person from Slack's list, so I get the person "
        "and not just a name that looks like one.",
        usage=USAGE,
    )


def parse_channel(text: str) -> str:
    match = _CHANNEL.fullmatch(text.strip())
    if match:
        return match.group(1)
    raise UsageError(
        "For `channel:`, type `#` and pick the channel from Slack's list.", usage=USAGE
    )


def parse_account(text: str) -> AccountInput:
    parts = split_keyed(without_nul(text), ACCOUNT_KEYS, command=USAGE)
    for key, value in parts.fields.items():
        if not value:
            raise UsageError(f"Say what goes after `{key}:`.", usage=USAGE)
    kind = parts.fields.get("type")
    owner = parts.fields.get("owner")
    return AccountInput(
        account=parts.head,
        changes=accounts.AccountChanges(
            relationship_type=accounts.relationship_type_from(kind) if kind else None,
            owner_id=parse_owner(owner) if owner else None,
            expectations=parts.fields.get("expects"),
            channel_id=parse_channel(parts.fields["channel"])
            if "channel" in parts.fields
            else None,
        ),
    )


_NO_ACCOUNT = (
    "Name the account first: `/rapport account ACCOUNT [type: …] [owner: @…] [expects: …]`."
)


def _named(session: Session, command: dict[str, str], text: str, subcommand: str) -> Account:
    """The known account `/rapport SUBCOMMAND ACCOUNT` names (or this channel's)."""
    reading = read_account_of(
        session,
        command,
        without_nul(text),
        usage=f"/rapport {subcommand}",
        whole=True,
        creates=False,
        missing=f"Name the account: `/rapport {subcommand} ACCOUNT`.",
    )
    return get_account(session, team_id=team_of(command), name=reading.name)


# `ACCOUNT history`; the last word as a hurried rep types it ("histroy", "hist").
HISTORY = re.compile(r"(?P<name>.+?)\s+(?P<word>[a-z]{3,9})", re.IGNORECASE | re.DOTALL)


def _history_of(text: str) -> str | None:
    """The account part of `ACCOUNT history`, or None when that is not what `text` asks."""
    wanted = HISTORY.fullmatch(text.strip())
    if wanted is None:
        return None
    word = wanted.group("word").casefold()
    if word != "hist" and not difflib.get_close_matches(word, ["history"], n=1, cutoff=0.75):
        return None
    return wanted.group("name")


def account(ack: Ack, command: dict[str, str], context: BoltContext, args: str) -> None:
    request = parse_account(args)
    deps, now = deps_of(context), utcnow()
    team_id = team_of(command)
    history_of = _history_of(request.account) if not request.changes.names else None
    with deps.db.begin() as session:
        # An account whose name ends in "history" is shown; any other `X history` is
        # X's history, X read as every command reads an account (typos, a start).
        if (
            history_of is not None
            and find_account(session, team_id=team_id, name=request.account) is None
        ):
            reading = read_account_of(
                session,
                command,
                history_of,
                usage=USAGE,
                whole=True,
                creates=False,
                missing=_NO_ACCOUNT,
            )
            shown, changes = accounts.account_history(session, team_id=team_id, name=reading.name)
            # Times as the one reading them lives them.
            viewer = deps.calendar_of(session, team_id=team_id, user_id=command["user_id"])
            message = render(
                "account_history",
                account=shown,
                changes=changes,
                more=len(changes) >= account_changes.HISTORY_SHOWN,
                tz=viewer.tz,
            )
            ack(**ephemeral(message))
            return
        # The card says what holds today (a pause that has ended is not shown).
        today = deps.calendar_of(session, team_id=team_id, user_id=command["user_id"]).today(now)
        reading = read_account_of(
            session,
            command,
            request.account,
            usage=USAGE,
            whole=True,
            creates=bool(request.changes.names),
            missing=_NO_ACCOUNT,
            # Shown, not changed: a new name gets the overview's own answer.
            new_ok=True,
        )
        if request.changes.names:
            view = accounts.update_account(
                session,
                team_id=team_id,
                name=reading.name,
                user_id=command["user_id"],
                changes=request.changes,
                now=now,
                today=today,
            )
        else:
            view = accounts.account_overview(
                session, team_id=team_id, name=reading.name, today=today
            )
    if request.changes.names:
        # A new owner's Home gains the account, the actor's may lose it.
        for user_id in {command["user_id"], request.changes.owner_id or command["user_id"]}:
            refresh_home(context, team_id=team_id, user_id=user_id)
    message = render("account_view", view=view, playbook=playbook_of(context), actions=Action)
    ack(**ephemeral(with_new_account(message, reading)))


def governance_plan(ack: Ack, command: dict[str, str], context: BoltContext, args: str) -> None:
    team_id = team_of(command)
    with deps_of(context).db.begin() as session:
        found = _named(session, command, args, "governance")
        view = governance.governance_view(session, team_id=team_id, account=found)
    ack(**ephemeral(render("governance_plan", view=view, edit_action=Action.GOVERNANCE_EDIT)))


def debrief(ack: Ack, command: dict[str, str], context: BoltContext, args: str) -> None:
    with deps_of(context).db.begin() as session:
        found = _named(session, command, args, "debrief")
    ack(**ephemeral(render("debrief_start", account=found, start_action=Action.DEBRIEF_START)))
