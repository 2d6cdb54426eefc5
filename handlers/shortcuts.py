"""The "Log as touch" message shortcut: any Slack message becomes a logged interaction."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.services import rhythm
from bot.services.accounts import get_account
from handlers.accounts import modal_account
from handlers.caller import team_of
from handlers.context import deps_of, utcnow
from handlers.events.home import refresh_home
from messages import render
from messages.ids import View

SHORTCUT_ID = "log_as_touch"


def ack_shortcut(ack: Ack) -> None:
    ack()


def permalink(channel_id: str, ts: str) -> str:
    """Slack's archive link for a message, built from its channel and timestamp."""
    return f"https://slack.com/archives/{channel_id}/p{ts.replace('.', '')}"


def open_log_touch(body: dict[str, Any], client: WebClient) -> None:
    message = body.get("message") or {}
    link = permalink(body.get("channel", {}).get("id", ""), message.get("ts", ""))
    client.views_open(
        trigger_id=body["trigger_id"],
        view=render(
            "log_touch_modal",
            callback_id=View.LOG_TOUCH.value,
            note=str(message.get("text", ""))[:2900],
            link=link,
        ),
    )


def submit_log_touch(
    ack: Ack, view: dict[str, Any], body: dict[str, Any], context: BoltContext
) -> None:
    values = view["state"]["values"]
    name = (values.get("account", {}).get("value", {}).get("value") or "").strip()
    note = (values.get("note", {}).get("value", {}).get("value") or "").strip()
    deps, now = deps_of(context), utcnow()
    team_id, user_id = team_of(body), body["user"]["id"]
    with deps.db.begin() as session:
        reading = modal_account(session, team_id=team_id, text=name, field="account", creates=False)
        account = get_account(session, team_id=team_id, name=reading.name)
        calendar = deps.calendar_of(session, team_id=team_id, user_id=user_id)
        rhythm.log_touch(
            session,
            account,
            user_id=user_id,
            note=note[:1000],
            now=now,
            calendar=calendar,
            permalink=view.get("private_metadata") or None,
        )
    ack()
    refresh_home(context, team_id=team_id, user_id=user_id)


def register(app: App) -> None:
    app.shortcut(SHORTCUT_ID)(ack=ack_shortcut, lazy=[open_log_touch])
