"""Buttons on the account view and the governance reply: they open the modals.

They run as lazy listeners (acked at once, then this work): views.open is a Slack
call whose retries may sleep, so it stays off the request path. Their errors are
told to the user by handlers/after_ack.py's runner, through the app's error path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import BoltContext
from slack_sdk import WebClient
from sqlalchemy.orm import Session

from bot.services import account_overview, governance
from handlers.caller import caller_of, team_of
from handlers.commands.rapport_playbook import playbook_of
from handlers.context import deps_of, utcnow
from handlers.views.account_target import AccountTarget
from handlers.views.debrief import debrief_modal
from handlers.views.governance import plan_modal
from messages import render
from messages.ids import Action
from storage.models import Account


def _open(
    body: dict[str, Any],
    context: BoltContext,
    client: WebClient,
    build: Callable[[Session, Account], dict[str, Any]],
) -> None:
    """Runs after the ack: a failure reaches the user through after_ack's error path."""
    action = (body.get("actions") or [{}])[0]
    # A button carries its value; a menu, the option chosen.
    value = action.get("value") or (action.get("selected_option") or {}).get("value", "")
    target = AccountTarget.from_button(str(value))
    with deps_of(context).db.begin() as session:
        account = governance.account_by_id(
            session, team_id=team_of(body), account_id=target.account_id
        )
        modal = build(session, account)
    client.views_open(trigger_id=body["trigger_id"], view=modal)


def edit_governance(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    def build(session: Session, account: Account) -> dict[str, Any]:
        plan = governance.plan_of(session, team_id=account.team_id, account_id=account.id)
        return plan_modal(account, plan)

    _open(body, context, client, build)


def start_debrief(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    _open(body, context, client, lambda _session, account: debrief_modal(account))


def open_account(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """A digest's "Open an account…" menu: the account at a glance, in a modal."""

    def account_modal(session: Session, account: Account) -> dict[str, Any]:
        # What holds today for the one opening it (a pause that ended is not shown).
        today = (
            deps_of(context)
            .calendar_of(session, team_id=account.team_id, user_id=caller_of(body).user_id)
            .today(utcnow())
        )
        view = account_overview.overview(
            session, team_id=account.team_id, account=account, today=today
        )
        message = render("account_view", view=view, playbook=playbook_of(context), actions=Action)
        # The view's buttons act on a message; in a modal it is for reading.
        blocks = [block for block in message["blocks"] if block["type"] != "actions"]
        return {
            "type": "modal",
            "title": {"type": "plain_text", "text": "Account"},
            "close": {"type": "plain_text", "text": "Close"},
            "blocks": blocks[:100],
        }

    _open(body, context, client, account_modal)
