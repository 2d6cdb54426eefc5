"""Learning people's time zones and locales from Slack (users.info): the zone says when
their day ends, the locale how they write dates in numbers.

Two callers, one lookup (`slack_profile`): a person's own command, after its ack
(`learn_timezone`), and the sweep, for the people it is about to nudge, between
planning and grouping (`refresh_timezones`), so grouping knows their working hours.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.config import Settings
from bot.services.followups import retime_open
from bot.services.people import (
    SlackProfile,
    calendar_of,
    needs_timezone,
    prefs_of,
    prefs_of_many,
    remember_timezone,
)
from bot.slackapi.client import without_rate_limit_waits
from storage.db import SessionFactory
from storage.models import UserPrefs
from storage.orgs import org_of, people_scope, teams_of

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

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
        for team in _sharing_people(session, team_id):
            calendar = calendar_of(
                session,
                team_id=team,
                user_id=user_id,
                default_tz=settings.default_tz,
                country=settings.holiday_country,
            )
            retime_open(session, team_id=team, owner_id=user_id, calendar=calendar, now=now)


def _sharing_people(session: Session, team_id: str) -> list[str]:
    """The workspaces whose people are those of `team_id`: each of its Enterprise Grid
    org's, where a zone learned in one is the person's in all (their follow-ups there
    were timed before it was known), else the workspace alone."""
    org = org_of(session, team_id=team_id)
    return teams_of(session, enterprise_id=org) if org else [team_id]


TZ_LOOKUPS_PER_SWEEP = 200
# Lookups run while other workers wait for the plan-and-group lock: past this many
# seconds the rest wait for the next sweep (their nudges follow the team's zone).
TZ_LOOKUP_SECONDS = 10.0


def refresh_timezones(
    db: SessionFactory,
    client_for: Callable[[str], WebClient],
    people: Sequence[tuple[str, str]],
    *,
    now: datetime,
) -> None:
    """Ask Slack for the time zone of `people` (team, user) whose entry is stale: the
    sweep's, for those it is about to nudge (`bot/scheduler/group.py`, `due_recipients`).

    Bounded per sweep (users.info is Tier 4, about 100 a minute; and TZ_LOOKUP_SECONDS),
    and never waiting out a rate limit: the rest are looked up on later sweeps and
    meanwhile follow the team's default zone.
    """
    by_team: dict[str, list[str]] = defaultdict(list)
    for team_id, user_id in people:
        by_team[team_id].append(user_id)
    with db() as session:
        # A person of two workspaces of one org is one person (one zone, one row):
        # asked about once. One scope lookup per team, not per person.
        scopes = {team_id: people_scope(session, team_id=team_id) for team_id in by_team}
        asked: set[tuple[str, str]] = set()
        stale = []
        for team_id, users in by_team.items():
            for user_id, prefs in _with_prefs(session, team_id, users):
                person = (scopes[team_id], user_id)
                if person not in asked and needs_timezone(prefs, now):
                    asked.add(person)
                    stale.append((team_id, user_id))
        stale = stale[:TZ_LOOKUPS_PER_SWEEP]
    deadline = time.monotonic() + TZ_LOOKUP_SECONDS
    for team_id, user_id in stale:
        try:
            profile = slack_profile(without_rate_limit_waits(client_for(team_id)), user_id)
        except TryLater as exc:
            log.info("time zone lookups stop until the next sweep: %s", exc)
            return
        with db.begin() as session:
            remember_timezone(session, team_id=team_id, user_id=user_id, profile=profile, now=now)
        if time.monotonic() > deadline:
            return


def _with_prefs(
    session: Session, team_id: str, users: list[str]
) -> list[tuple[str, UserPrefs | None]]:
    found = prefs_of_many(session, team_id=team_id, user_ids=users)
    return [(user_id, found.get(user_id)) for user_id in users]
