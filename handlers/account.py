"""One account: /rapport account (its card, a change to it, or its history), the
account opened from a digest's "Open an account…" menu, and Undo on a change to it.

Undo sits on the reply to the change and on the owner's DM. A lazy listener (acked at
once): the undo may restore many rows, and the message is then redrawn through its
response_url to say what was put back. A refusal (not theirs to undo, the account
moved on since) reaches the clicker through the after-ack runner's error path,
leaving the message and its button as they were.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.services import account_changes, lifecycle
from bot.services import account_overview as accounts
from bot.services.account_kpis import KpiInput, clean_note, read_renewed
from bot.services.accounts import AccountShown, find_account
from bot.services.calendar import WorkCalendar
from bot.services.dates import RENEWAL
from bot.services.errors import UsageError
from handlers.edge.account_target import open_about_account
from handlers.edge.accounts import read_account_of, with_new_account
from handlers.edge.after_ack import clicks_after_ack
from handlers.edge.caller import caller_of, team_of
from handlers.edge.context import Deps, caller_reader, deps_of, utcnow
from handlers.edge.home_tab import refresh_home
from handlers.edge.parsing import split_keyed
from handlers.edge.payloads import action_value
from handlers.edge.replies import ephemeral
from handlers.playbook import playbook_of
from messages import render
from messages.ids import Action, UndoButton

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

# The problems below spell out how to write the command; no generic usage line after them.
USAGE = "/rapport account"
ACCOUNT_KEYS = ("type", "owner", "expects", "channel", "renewal", "renewed", "repeat", "referral")
# With should_escape on, Slack sends a picked user as <@U123|name> (or <@U123>).
_MENTION = re.compile(r"<@([UW][A-Z0-9]{2,31})(?:\|[^<>]*)?>")
# … and a picked channel as <#C123|name>.
_CHANNEL = re.compile(r"<#([CG][A-Z0-9]{2,31})(?:\|[^<>]*)?>")


@dataclass(frozen=True)
class AccountInput:
    account: str
    changes: accounts.AccountChanges
    # `renewal:` as typed: read as a date by the caller's reader, inside the request.
    renewal: str | None = None

    @property
    def changing(self) -> bool:
        return bool(self.changes.names) or self.renewal is not None


def parse_owner(text: str, *, me: str) -> str:
    """`owner: @person`, or `owner: me` (the one typing), as `/rapport digest` takes
    `here` for the channel it is typed in."""
    if text.strip().casefold() in {"me", "myself", "@me"}:
        return me
    match = _MENTION.fullmatch(text.strip())
    if match:
        return match.group(1)
    raise UsageError(
        "For `owner:`, type `@` and pick the person from Slack's list (or write `me`), so "
        "I get the person and not just a name that looks like one.",
        usage=USAGE,
    )


def parse_channel(text: str, *, here: str | None) -> str:
    """`channel: #channel`, or `channel: here` (where the command is typed)."""
    if text.strip().casefold() in {"here", "this channel"}:
        # A direct message is nobody's account channel: its updates would reach one person.
        if here and not here.startswith("D"):
            return here
        raise UsageError(
            "`channel: here` names the channel you type it in, and this is a direct "
            "message. Type it in the account's channel, or type `#` and pick the channel.",
            usage=USAGE,
        )
    match = _CHANNEL.fullmatch(text.strip())
    if match:
        return match.group(1)
    raise UsageError(
        "For `channel:`, type `#` and pick the channel from Slack's list, or write `here` "
        "in the account's channel.",
        usage=USAGE,
    )


def parse_account(text: str, *, here: str | None, me: str) -> AccountInput:
    parts = split_keyed(text, ACCOUNT_KEYS, command=USAGE)
    for key, value in parts.fields.items():
        if not value:
            raise UsageError(f"Say what goes after `{key}:`.", usage=USAGE)
    kind = parts.fields.get("type")
    owner = parts.fields.get("owner")
    renewed, repeat, referral = (parts.fields.get(k) for k in ("renewed", "repeat", "referral"))
    return AccountInput(
        account=parts.head,
        changes=accounts.AccountChanges(
            relationship_type=accounts.relationship_type_from(kind) if kind else None,
            owner_id=parse_owner(owner, me=me) if owner else None,
            expectations=parts.fields.get("expects"),
            channel_id=parse_channel(parts.fields["channel"], here=here)
            if "channel" in parts.fields
            else None,
            kpis=KpiInput(
                renewed=read_renewed(renewed, usage=USAGE) if renewed else None,
                repeat=clean_note(repeat, "repeat") if repeat else None,
                referral=clean_note(referral, "referral") if referral else None,
            ),
        ),
        renewal=parts.fields.get("renewal"),
    )


_NO_ACCOUNT = (
    "Name the account first: `/rapport account ACCOUNT [type: …] [owner: @…] [expects: …] "
    "[renewal: DATE]`."
)


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


def _history(session: Session, command: dict[str, str], name: str, deps: Deps) -> dict[str, Any]:
    """What `ACCOUNT history` shows (account_history.yaml.j2), as plain values."""
    team_id = team_of(command)
    reading = read_account_of(
        session, command, name, usage=USAGE, whole=True, creates=False, missing=_NO_ACCOUNT
    )
    shown, changes = accounts.account_history(session, team_id=team_id, name=reading.name)
    # Times as the one reading them lives them.
    viewer = deps.calendar_of(session, team_id=team_id, user_id=command["user_id"])
    more = len(changes) >= account_changes.HISTORY_SHOWN
    return {"account": shown, "changes": changes, "more": more, "tz": viewer.tz}


def _changes_read(
    session: Session,
    request: AccountInput,
    calendar: WorkCalendar,
    command: dict[str, str],
    now: datetime,
) -> accounts.AccountChanges:
    """The changes, with `renewal:` read as a date by the caller's own reader."""
    if request.renewal is None:
        return request.changes
    day = caller_reader(session, calendar, command, now).read(request.renewal, RENEWAL, usage=USAGE)
    kpis = replace(request.changes.kpis, renewal_on=day)
    return replace(request.changes, kpis=kpis)


def account(ack: Ack, command: dict[str, str], context: BoltContext, args: str) -> None:
    caller = caller_of(command)
    request = parse_account(args, here=command.get("channel_id"), me=caller.user_id)
    deps, now = deps_of(context), utcnow()
    team_id = caller.team_id
    history_of = _history_of(request.account) if not request.changing else None
    history = None
    with deps.db.begin() as session:
        # An account whose name ends in "history" is shown; any other `X history` is
        # X's history, X read as every command reads an account (typos, a start).
        if (
            history_of is not None
            and find_account(session, team_id=team_id, name=request.account) is None
        ):
            history = _history(session, command, history_of, deps)
        else:
            # The card says what holds today (a pause that has ended is not shown).
            calendar = deps.calendar_of(session, team_id=team_id, user_id=command["user_id"])
            today = calendar.today(now)
            reading = read_account_of(
                session,
                command,
                request.account,
                usage=USAGE,
                whole=True,
                creates=request.changing,
                missing=_NO_ACCOUNT,
                # Shown, not changed: a new name gets the overview's own answer.
                new_ok=True,
            )
            if request.changing:
                view = accounts.update_account(
                    session,
                    team_id=team_id,
                    name=reading.name,
                    user_id=command["user_id"],
                    changes=_changes_read(session, request, calendar, command, now),
                    now=now,
                    today=today,
                )
            else:
                view = accounts.account_overview(
                    session, team_id=team_id, name=reading.name, today=today, now=now
                )
    if history is not None:
        ack(**ephemeral(render("account_history", **history)))
        return
    if request.changing:
        # A new owner's Home gains the account, the actor's may lose it.
        for user_id in {command["user_id"], request.changes.owner_id or command["user_id"]}:
            refresh_home(context, team_id=team_id, user_id=user_id)
    message = render(
        "account_view", view=view, playbook=playbook_of(context), actions=Action, tz=calendar.tz
    )
    ack(**ephemeral(with_new_account(message, reading)))


def open_account(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """A digest's "Open an account…" menu: the account at a glance, in a modal."""

    def account_modal(session: Session, account: AccountShown) -> dict[str, Any]:
        # What holds today for the one opening it (a pause that ended is not shown).
        now = utcnow()
        calendar = deps_of(context).calendar_of(
            session, team_id=account.team_id, user_id=caller_of(body).user_id
        )
        view = accounts.overview(
            session, team_id=account.team_id, account=account, today=calendar.today(now), now=now
        )
        message = render(
            "account_view", view=view, playbook=playbook_of(context), actions=Action, tz=calendar.tz
        )
        # The view's buttons act on a message; in a modal it is for reading.
        blocks = [block for block in message["blocks"] if block["type"] != "actions"]
        return {
            "type": "modal",
            "title": {"type": "plain_text", "text": "Account"},
            "close": {"type": "plain_text", "text": "Close"},
            "blocks": blocks[:100],
        }

    open_about_account(body, context, client, account_modal)


def undo(body: dict[str, Any], context: BoltContext, respond: Respond) -> None:
    caller = caller_of(body)
    clicked = UndoButton.parse_or_none(action_value(body))
    if clicked is None:
        return
    deps, now = deps_of(context), utcnow()
    with deps.db.begin() as session:
        calendar = deps.calendar_of(session, team_id=caller.team_id, user_id=caller.user_id)
        undone = lifecycle.undo(
            session,
            team_id=caller.team_id,
            change_id=clicked.change_id,
            user_id=caller.user_id,
            calendar=calendar,
            now=now,
        )
    message = render(
        "change_undone", change=undone.change, account=undone.account, changed=undone.changed
    )
    owner = undone.account.owner_id if undone.account is not None else None
    respond(text=message["text"], blocks=message["blocks"], replace_original=True)
    for person in {caller.user_id, owner or caller.user_id}:
        refresh_home(context, team_id=caller.team_id, user_id=person)


# /rapport subcommand -> listener (handlers/rapport.py routes them).
SUBCOMMANDS = {"account": account}


def register(app: App) -> None:
    clicks_after_ack(app, {Action.DIGEST_OPEN_ACCOUNT: open_account, Action.CHANGE_UNDO: undo})
