"""Buttons on the concession log: page it, log a new give, edit or withdraw an entry.

Each acks first, then works, then redraws the log in place through response_url
(or opens the form with the click's trigger_id).
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient

from bot.services import concessions
from bot.services.errors import UserFacingError
from handlers.caller import team_of
from handlers.context import deps_of, utcnow
from handlers.events.home import refresh_home
from handlers.views.concede import Origin, open_concession_form
from messages import render
from messages.ids import Action

_STALE = "This button is out of date. Run `/concede ACCOUNT` again."


def _value(body: dict[str, Any]) -> str:
    action = (body.get("actions") or [{}])[0]
    return str(action.get("value", ""))


def _pair(value: str) -> tuple[int, int]:
    """`<id>:<page>` as the log template writes it."""
    first, _, second = value.partition(":")
    if not (first.isdigit() and second.isdigit()) or len(first) > 18 or len(second) > 6:
        raise UserFacingError(_STALE)
    return int(first), int(second)


def _channel(body: dict[str, Any]) -> str | None:
    channel = (body.get("container") or {}).get("channel_id") or (body.get("channel") or {}).get(
        "id"
    )
    return str(channel) if channel else None


def _redraw(respond: Respond, log: concessions.ConcessionLog) -> None:
    message = render("concession_log", log=log, actions=Action)
    respond(
        text=message["text"],
        blocks=message["blocks"],
        response_type="ephemeral",
        replace_original=True,
    )


def turn_page(ack: Ack, body: dict[str, Any], context: BoltContext, respond: Respond) -> None:
    ack()
    account_id, page = _pair(_value(body))
    with deps_of(context).db.begin() as session:
        log = concessions.concession_log_by_id(
            session, team_id=team_of(body), account_id=account_id, page=page
        )
    _redraw(respond, log)


def withdraw(ack: Ack, body: dict[str, Any], context: BoltContext, respond: Respond) -> None:
    ack()
    concession_id, page = _pair(_value(body))
    with deps_of(context).db.begin() as session:
        entry = concessions.withdraw_concession(
            session,
            team_id=team_of(body),
            concession_id=concession_id,
            user_id=body["user"]["id"],
            now=utcnow(),
        )
        log = concessions.log_of_account(session, account=entry.account, page=page)
    _redraw(respond, log)
    refresh_home(context, team_id=team_of(body), user_id=body["user"]["id"])


def edit(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    ack()
    concession_id, page = _pair(_value(body))
    with deps_of(context).db.begin() as session:
        entry = concessions.get_concession(
            session, team_id=team_of(body), concession_id=concession_id
        )
    open_concession_form(
        client,
        trigger_id=body["trigger_id"],
        channel_id=_channel(body),
        entry=entry,
        # Saving redraws this log message with the edited entry and balance.
        origin=Origin.of_click(body, page),
    )


def log_new(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    ack()
    account_id = _value(body)
    if not account_id.isdigit() or len(account_id) > 18:
        raise UserFacingError(_STALE)
    with deps_of(context).db.begin() as session:
        account = concessions.account_of(session, team_id=team_of(body), account_id=int(account_id))
    open_concession_form(
        client, trigger_id=body["trigger_id"], channel_id=_channel(body), account_name=account.name
    )
