"""What the sweep's stages share to work in batches: the batch size, one batch's
working calendars, and telling a person from a channel.

Every stage (`plan`, `group`) works in batches with a handful of statements per
batch, so a sweep's cost follows what is due, not the size of the tables
(bench/sweep.py). `compose` reads one message's subjects the same way.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from bot.config import Settings
from bot.services.calendar import WorkCalendar
from bot.services.people import HolidayCountries, calendar_from, prefs_of_many, team_days_off
from storage.models import UserPrefs

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

# Rows per transaction. Larger batches cost fewer round trips (2,000 -> 5,000 took a
# 10,000-due sweep from about 1.7 s to 1.1 s on SQLite), but on SQLite a batch holds
# the one writer's lock: at 5,000 that is about a third of a second, well inside
# Slack's 3-second window for a command that has to wait behind it.
# Read as `batches.BATCH` at run time, so a test can make batches small.
BATCH = 5000


def is_user(recipient: str) -> bool:
    """A person (a DM), not a channel."""
    return recipient.startswith(("U", "W"))


def subject_ids(named: Iterable[tuple[str, str]], kind: str) -> dict[str, list[int]]:
    """The ids of the `kind` subjects ("commitment:12" -> 12) among (team, subject)
    pairs, by team."""
    by_team: dict[str, list[int]] = defaultdict(list)
    for team_id, subject in named:
        prefix, _, raw = subject.partition(":")
        if prefix == kind and raw.isdigit():
            by_team[team_id].append(int(raw))
    return by_team


@dataclass
class Calendars:
    """Working calendars for one batch, with everyone's preferences read in one query."""

    session: Session
    settings: Settings
    # (workspace, person) -> their settings, read one statement per workspace with the
    # person's scope in it (bot.services.people): a person of two workspaces of an
    # Enterprise Grid org finds the one row of the org from each.
    prefs: dict[tuple[str, str], UserPrefs | None] = field(default_factory=dict)
    days_off: dict[str, frozenset[date]] = field(default_factory=dict)
    cache: dict[tuple[str, str | None], WorkCalendar] = field(default_factory=dict)
    # Shared by the sweep's batches, so the teams' holiday countries are read once.
    countries: HolidayCountries | None = None

    def __post_init__(self) -> None:
        if self.countries is None:
            self.countries = HolidayCountries(self.settings.holiday_country)

    def preload(self, pairs: Iterable[tuple[str, str]]) -> None:
        by_team: dict[str, set[str]] = defaultdict(set)
        for team_id, user_id in set(pairs):
            if is_user(user_id) and (team_id, user_id) not in self.prefs:
                by_team[team_id].add(user_id)
        for team_id, users in by_team.items():
            found = prefs_of_many(self.session, team_id=team_id, user_ids=users)
            for user_id in users:
                self.prefs[(team_id, user_id)] = found.get(user_id)

    def prefs_of(self, team_id: str, user_id: str) -> UserPrefs | None:
        if (team_id, user_id) not in self.prefs:
            self.preload([(team_id, user_id)])
        return self.prefs.get((team_id, user_id))

    def of(self, team_id: str, user_id: str | None) -> WorkCalendar:
        person = user_id if user_id and is_user(user_id) else None
        key = (team_id, person)
        if key not in self.cache:
            if team_id not in self.days_off:
                self.days_off[team_id] = team_days_off(self.session, team_id=team_id)
            self.cache[key] = calendar_from(
                self.prefs_of(team_id, person) if person else None,
                default_tz=self.settings.default_tz,
                country=self.countries.of(self.session, team_id) if self.countries else None,
                days_off=self.days_off[team_id],
            )
        return self.cache[key]
