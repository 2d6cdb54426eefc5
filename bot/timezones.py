"""Learning a person's time zone from Slack (users.info), after their command is acked."""

from __future__ import annotations

import logging
from datetime import datetime

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.config import Settings
from bot.services.followups import retime_open
from bot.services.people import calendar_of, needs_timezone, prefs_of, remember_timezone
from storage.db import SessionFactory

log = logging.getLogger("rapport.timezones")


def learn_timezone(
    db: SessionFactory,
    client: WebClient,
    settings: Settings,
    *,
    team_id: str,
    user_id: str,
    now: datetime,
) -> None:
    """Fetch the user's zone if we have none or it is a day old; re-time their due days."""
    with db() as session:
        if not needs_timezone(prefs_of(session, team_id=team_id, user_id=user_id), now):
            return
    try:
        tz_name = client.users_info(user=user_id)["user"].get("tz")
    except SlackApiError as exc:
        log.info("users.info failed for %s: %s", user_id, exc.response.get("error"))
        tz_name = None
    with db.begin() as session:
        remember_timezone(session, team_id=team_id, user_id=user_id, tz_name=tz_name, now=now)
        calendar = calendar_of(
            session,
            team_id=team_id,
            user_id=user_id,
            default_tz=settings.default_tz,
            country=settings.holiday_country,
        )
        retime_open(session, team_id=team_id, owner_id=user_id, calendar=calendar, now=now)
