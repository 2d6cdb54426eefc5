"""App Home, each user's own dashboard: published when they open the tab (publishing,
and publishing again after a change, is handlers/edge/home_tab.py), and its buttons:
Done and Snooze on an open follow-up (with the pick-a-day snooze modal), Edit settings.

The event and the buttons are acked at once; their work runs after the ack (Bolt lazy
listeners), through the same follow-up services as the nudge DMs, then Home is
published again. A click on a follow-up that is no longer the clicker's (done,
reassigned) changes nothing and just redraws Home as it now stands.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from bot.services import followups
from bot.services.errors import UsageError
from bot.services.followups import snooze_until, snooze_until_day
from bot.slackapi.timezones import learn_timezone
from handlers.edge.after_ack import ack_only, clicks_after_ack, submissions_after_ack
from handlers.edge.caller import team_of
from handlers.edge.context import Deps, deps_of, utcnow
from handlers.edge.home_tab import VIEWERS, publish, republish
from handlers.edge.payloads import action_value
from handlers.nudges import ack_snooze_until, picked_snooze_day
from handlers.settings import open_settings_modal
from messages import render
from messages.ids import Action, DoneButton, SnoozeOption, View
from messages.payloads import Metadata, RowId

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from storage.models import Commitment


def publish_home(
    event: dict[str, Any], body: dict[str, Any], context: BoltContext, client: WebClient
) -> None:
    if event.get("tab", "home") != "home":
        return
    team_id, user_id = team_of(body), event["user"]
    deps = deps_of(context)
    VIEWERS.add(team_id, user_id)
    # Dates on Home are the viewer's: know their zone even if they never ran a command
    # (users.info at most once a day a person).
    learn_timezone(deps.db, client, deps.settings, team_id=team_id, user_id=user_id, now=utcnow())
    publish(client, deps, team_id=team_id, user_id=user_id)


class SnoozeForm(Metadata):
    """The pick-a-day snooze modal's private_metadata: the commitment id."""

    SEPARATOR = ":"

    commitment_id: RowId


def _mine(
    session: Session,
    *,
    team_id: str,
    user_id: str,
    clicked: DoneButton | SnoozeForm | SnoozeOption | None,
) -> Commitment | None:
    """The open commitment the click names, if it is still the clicker's to act on (a
    stale or foreign click changes nothing: Home is just drawn again)."""
    if clicked is None:
        return None
    return followups.open_commitment_of(
        session, team_id=team_id, user_id=user_id, commitment_id=clicked.commitment_id
    )


def _snooze(deps: Deps, *, team_id: str, user_id: str, clicked: SnoozeOption | None) -> None:
    now = utcnow()
    with deps.db.begin() as session:
        commitment = _mine(session, team_id=team_id, user_id=user_id, clicked=clicked)
        calendar = deps.calendar_of(session, team_id=team_id, user_id=user_id)
        until = snooze_until(clicked.choice, calendar, now) if clicked else None
        if commitment is not None and until is not None:
            followups.snooze(session, commitment, until=until)


def _who(body: dict[str, Any], context: BoltContext) -> tuple[str, str]:
    return team_of(body), str(body["user"]["id"])


def done(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    deps, now = deps_of(context), utcnow()
    team_id, user_id = _who(body, context)
    clicked = DoneButton.parse_or_none(action_value(body))
    with deps.db.begin() as session:
        commitment = _mine(session, team_id=team_id, user_id=user_id, clicked=clicked)
        if commitment is not None:
            calendar = deps.calendar_of(session, team_id=team_id, user_id=user_id)
            followups.mark_done(
                session, commitment, user_id=user_id, today=calendar.today(now), now=now
            )
    VIEWERS.add(team_id, user_id)
    republish(client, deps, team_id=team_id, user_id=user_id)


def snooze(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    deps = deps_of(context)
    team_id, user_id = _who(body, context)
    clicked = SnoozeOption.parse_or_none(action_value(body))
    if clicked is not None and clicked.choice == "pick":
        form = SnoozeForm(commitment_id=clicked.commitment_id)
        client.views_open(
            trigger_id=body["trigger_id"],
            view=render(
                "snooze_modal", callback_id=View.HOME_SNOOZE_UNTIL.value, metadata=form.dump()
            ),
        )
        return
    _snooze(deps, team_id=team_id, user_id=user_id, clicked=clicked)
    VIEWERS.add(team_id, user_id)
    republish(client, deps, team_id=team_id, user_id=user_id)


def submit_snooze_until(
    view: dict[str, Any], body: dict[str, Any], context: BoltContext, client: WebClient
) -> None:
    """The day picked in the snooze modal opened from Home; a day its ack refused
    changes nothing (the modal said why)."""
    try:
        picked = picked_snooze_day(body, view, context)
    except UsageError:
        return
    deps, now = deps_of(context), utcnow()
    team_id, user_id = _who(body, context)
    with deps.db.begin() as session:
        form = SnoozeForm.parse_or_none(view.get("private_metadata", ""))
        commitment = _mine(session, team_id=team_id, user_id=user_id, clicked=form)
        calendar = deps.calendar_of(session, team_id=team_id, user_id=user_id)
        if commitment is not None:
            until = snooze_until_day(picked, calendar, now)
            followups.snooze(session, commitment, until=until)
    republish(client, deps, team_id=team_id, user_id=user_id)


def edit_settings(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    team_id, user_id = _who(body, context)
    open_settings_modal(
        client, deps_of(context), team_id=team_id, user_id=user_id, trigger_id=body["trigger_id"]
    )


def register(app: App) -> None:
    # Ack at once; publishing the Home tab calls Slack, so it runs after the ack.
    app.event("app_home_opened")(ack=ack_only, lazy=[publish_home])
    clicks_after_ack(
        app,
        {
            Action.HOME_DONE: done,
            Action.HOME_SNOOZE: snooze,
            Action.HOME_EDIT_SETTINGS: edit_settings,
        },
    )
    submissions_after_ack(app, {View.HOME_SNOOZE_UNTIL: (ack_snooze_until, submit_snooze_until)})
