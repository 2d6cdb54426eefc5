"""/rapport settings and the settings modal (also opened from App Home's Edit button):
working hours, time zone, time away, manager, digest opt-out."""

from __future__ import annotations

from datetime import date, time
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.services import settings as rules
from bot.services.settings import SettingsInput, save_settings
from handlers.edge.after_ack import later
from handlers.edge.caller import team_of
from handlers.edge.context import Deps, deps_of, utcnow
from handlers.edge.forms import Form
from handlers.edge.home_tab import refresh_home
from handlers.edge.parsing import split_keyed
from handlers.edge.replies import ephemeral
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
        today = deps.calendar_of(session, team_id=team_id, user_id=user_id).today(utcnow())
        form = rules.settings_form(
            session,
            team_id=team_id,
            user_id=user_id,
            default_tz=deps.settings.default_tz,
            today=today,
        )
    view = render(
        "settings_modal",
        callback_id=View.SETTINGS.value,
        prefs=form.prefs,
        tz_name=form.tz_name,
        away_ended=form.away_ended,
    )
    client.views_open(trigger_id=trigger_id, view=view)


def _time(form: Form, block: str, default: time) -> time:
    raw = form.time(block)
    return time.fromisoformat(raw) if raw else default


def _day(form: Form, block: str) -> date | None:
    raw = form.date(block)
    return date.fromisoformat(raw) if raw else None


def read_settings(form: Form) -> SettingsInput:
    days = sorted(form.options("work_days"))
    return SettingsInput(
        work_start=_time(form, "work_start", time(9, 0)),
        work_end=_time(form, "work_end", time(18, 0)),
        work_days="".join(d for d in days if d.isdigit() and int(d) < 7),
        tz_override=form.text("tz_override", lines=True),
        away_from=_day(form, "away_from"),
        away_until=_day(form, "away_until"),
        manager_id=form.user("manager"),
        digest_opt_out=form.ticked("digest", "opt_out"),
    )


def submit_settings(
    ack: Ack, view: dict[str, Any], body: dict[str, Any], context: BoltContext
) -> None:
    given = read_settings(Form.of(view))
    team_id, user_id = team_of(body), body["user"]["id"]
    deps = deps_of(context)
    with deps.db.begin() as session:
        today = deps.calendar_of(session, team_id=team_id, user_id=user_id).today(utcnow())
        save_settings(session, team_id=team_id, user_id=user_id, given=given, today=today)
    ack()
    refresh_home(context, team_id=team_id, user_id=user_id)


# /rapport subcommand -> listener (handlers/rapport.py routes them).
SUBCOMMANDS = {"settings": settings}


def register(app: App) -> None:
    app.view(View.SETTINGS.value)(submit_settings)
