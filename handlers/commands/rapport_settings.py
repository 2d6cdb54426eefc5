"""/rapport settings: working hours, time zone, time away, manager, digest opt-out."""

from __future__ import annotations

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.services import settings as rules
from bot.services.people import ensure_prefs, zone
from handlers.after_ack import later
from handlers.caller import team_of
from handlers.context import Deps, deps_of, utcnow
from handlers.events.home import refresh_home
from handlers.parsing import split_keyed
from handlers.replies import ephemeral
from messages import render
from messages.ids import View


def settings(ack: Ack, command: dict[str, str], context: BoltContext, args: str) -> None:
    """`settings` opens the form; `settings hours: 8-17` sets the working hours at once.

    Anything else is set in the form: it opens, and the reply says so rather than
    dropping the words silently."""
    parts = split_keyed(args, ("hours",), command=rules.HOURS_USAGE)
    if "hours" in parts.fields and not parts.head:
        start, end = rules.parse_hours(parts.fields["hours"])
        deps = deps_of(context)
        team_id, user_id = command["team_id"], command["user_id"]
        with deps.db.begin() as session:
            prefs = rules.set_hours(session, team_id=team_id, user_id=user_id, start=start, end=end)
            calendar = deps.calendar_of(session, team_id=team_id, user_id=user_id)
            reply = render("settings_hours_set", prefs=prefs, tz_name=str(calendar.tz))
        refresh_home(context, team_id=team_id, user_id=user_id)
        ack(**ephemeral(reply))
        return
    # The modal opens beside the ack (it needs a Slack call).
    later(context, command, lambda client: open_settings(command, context, client))
    if args.strip():
        ack(**ephemeral(render("settings_in_form", typed=args)))
    else:
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
        today = deps.calendar_of(session, team_id=team_id, user_id=user_id).today(utcnow())
        view = render(
            "settings_modal",
            callback_id=View.SETTINGS.value,
            prefs=prefs,
            tz_name=tz_name,
            away_ended=prefs.away_until is not None and prefs.away_until < today,
        )
    client.views_open(trigger_id=trigger_id, view=view)
