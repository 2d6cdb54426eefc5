"""App Home: each user's own dashboard, published when they open the tab."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.services.home import home_summary
from handlers.context import deps_of, utcnow
from messages import render


def ack_event(ack: Ack) -> None:
    ack()


def publish_home(event: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    if event.get("tab", "home") != "home":
        return
    user_id = event["user"]
    with deps_of(context).db() as session:
        summary = home_summary(session, team_id=str(context.team_id), user_id=user_id, now=utcnow())
        view = render("home", summary=summary)
    client.views_publish(user_id=user_id, view=view)
