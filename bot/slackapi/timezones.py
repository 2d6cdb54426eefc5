"""Learning a person's time zone and locale from Slack (users.info), after their command
is acked: the zone says when their day ends, the locale how they write dates in numbers."""

from __future__ import annotations

import logging
from datetime import datetime

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.config import Settings
from bot.services.followups import retime_open
from bot.services.people import (
    SlackProfile,
    calendar_of,
    needs_timezone,
    prefs_of,
    remember_timezone,
)
from storage.db import SessionFactory

log = logging.getLogger("rapport.timezones")


class TryLater(Exception):
    """Slack could not answer now (rate limited, down, unreachable): ask again later
    rather than settle on the team's default zone for a day."""


def slack_profile(client: WebClient, user_id: str) -> SlackProfile:
    """The person's IANA zone and locale from users.info; empty if Slack has none for
    them or refuses for good (user_not_found, account_inactive…). Raises TryLater
    otherwise."""
    try:
        user = client.users_info(user=user_id, include_locale=True)["user"]
        return SlackProfile(tz=user.get("tz") or None, locale=user.get("locale") or "")
    except SlackApiError as exc:
        error = exc.response.get("error")
        if exc.response.status_code == 429 or exc.response.status_code >= 500:
            raise TryLater(f"users.info {exc.response.status_code} {error}") from exc
        log.info("users.info failed for %s: %s", user_id, error)
        return SlackProfile(tz=None, locale="")
    except OSError as exc:  # URLError, timeouts, refused connections
        raise TryLater(f"users.info unreachable: {exc}") from exc


def learn_timezone(
    db: SessionFactory,
    client: WebClient,
    settings: Settings,
    *,
    team_id: str,
    user_id: str,
    now: datetime,
) -> None:
    """Fetch the user's zone and locale if we have none or they are a day old; re-time
    their due days."""
    with db() as session:
        if not needs_timezone(prefs_of(session, team_id=team_id, user_id=user_id), now):
            return
    try:
        profile = slack_profile(client, user_id)
    except TryLater as exc:  # the next command or sweep asks again
        log.info("time zone of %s not learned now: %s", user_id, exc)
        return
    with db.begin() as session:
        remember_timezone(session, team_id=team_id, user_id=user_id, profile=profile, now=now)
        calendar = calendar_of(
            session,
            team_id=team_id,
            user_id=user_id,
            default_tz=settings.default_tz,
            country=settings.holiday_country,
        )
        retime_open(session, team_id=team_id, owner_id=user_id, calendar=calendar, now=now)
