"""/rapport settings: working hours, time zone, time away, manager, digest opt-out."""

from __future__ import annotations

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.services.people import ensure_prefs, zone
from handlers.after_ack import later
from handlers.caller import team_of
from handlers.context import Deps, deps_of
from handlers.ids import View
from messages import render


def settings(ack: Ack, command: dict[str, str], context: BoltContext, args: str) -> None:
    # The modal opens beside the ack (it needs a Slack call); nothing to say here.
    later(context, command, lambda client: open_settings(command, context, client))
    ack()


def open_settings(command: dict[str, str], context: BoltContext, client: WebClient) -> None:
    open_settings_modal(
        client,
        deps_of(context),
        team_id=team_of(command),
        user_id=command["user_id"],
        trigger_id=command["trigger_id"],
    )


def open_settings_modal(
    client: WebClient, deps: Deps, *, team_id: str, user_id: str, trigger_id: str
) -> None:
    """The settings modal, from the command or from App Home's Edit button."""
    with deps.db.begin() as session:
        prefs = ensure_prefs(session, team_id=team_id, user_id=user_id)
        tz_name = str(zone(prefs.tz_override or prefs.slack_tz, deps.settings.default_tz))
        view = render(
            "settings_modal", callback_id=View.SETTINGS.value, prefs=prefs, tz_name=tz_name
        )
    client.views_open(trigger_id=trigger_id, view=view)
