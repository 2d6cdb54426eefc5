"""A workspace's life after Rapport is removed from it: what stops everything for it
(`app_uninstalled`, or a `tokens_revoked` that names the bot's token), what brings it
back (a reinstall, or in one-workspace mode its next request), and when its data is
deleted (the retention period after the uninstall).

Enterprise Grid: an org-wide install removed stops the org as a whole, its own rows
(kept under its id, storage/orgs.py) and every workspace Rapport knows in it, each
marked as one workspace is; an org admin taking one workspace out of the org-wide
install (`team_access_revoked`) stops that workspace alone, and letting it in again
(`team_access_granted`), like an org-wide reinstall, brings it back."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from storage import orgs, outbox, uninstalls

log = logging.getLogger("rapport.uninstalls")

APP_UNINSTALLED = "app_uninstalled"
TOKENS_REVOKED = "tokens_revoked"
# An org-wide install (Enterprise Grid) let into workspaces of the org, or taken out.
TEAM_ACCESS_GRANTED = "team_access_granted"
TEAM_ACCESS_REVOKED = "team_access_revoked"
# Events about the workspace (or org) as a whole: they name no user, and they never
# count as the workspace coming back in one-workspace mode.
WORKSPACE_EVENTS = frozenset(
    {APP_UNINSTALLED, TOKENS_REVOKED, TEAM_ACCESS_GRANTED, TEAM_ACCESS_REVOKED}
)
# Rows deleted in one statement while a workspace's data is deleted, and in one sweep.
PURGE_BATCH = 1000
PURGE_PER_SWEEP = 20_000


def stops_sending(event: Mapping[str, Any]) -> bool:
    """Whether the event leaves Rapport unable to send to the workspace: an uninstall,
    or a revocation that names the bot's token (one that names only people's own
    tokens leaves the bot working)."""
    if event.get("type") == APP_UNINSTALLED:
        return True
    tokens = event.get("tokens") or {}
    return event.get("type") == TOKENS_REVOKED and bool(tokens.get("bot"))


def stop(
    session: Session, *, team_id: str, enterprise_id: str | None, event: str, now: datetime
) -> bool:
    """Mark the workspace uninstalled: nothing is planned for it and its waiting
    messages are held from now. True if it was not marked already."""
    marked = uninstalls.mark(
        session, team_id=team_id, enterprise_id=enterprise_id, event=event, now=now
    )
    if marked:
        log.warning(
            "team %s (enterprise %s): %s; nothing more is planned or sent for it, and its "
            "data is deleted after the retention period unless it installs Rapport again",
            team_id,
            enterprise_id,
            event,
        )
    return marked


def stop_org(session: Session, *, enterprise_id: str, event: str, now: datetime) -> list[str]:
    """Mark the Enterprise Grid org uninstalled as a whole (its org-wide install went):
    the org's own rows, kept under its id, and each workspace Rapport knows in it but
    those an install of their own still serves. The ones newly marked, the org first."""
    teams = orgs.teams_of(session, enterprise_id=enterprise_id)
    own = uninstalls.with_own_install(session, team_ids=teams)
    return [
        scope
        for scope in (enterprise_id, *(team for team in teams if team not in own))
        if stop(session, team_id=scope, enterprise_id=enterprise_id, event=event, now=now)
    ]


def access_revoked(
    session: Session, *, team_ids: Sequence[str], enterprise_id: str | None, now: datetime
) -> list[str]:
    """The org-wide install taken out of the workspaces `team_ids`: each is marked as
    an uninstalled workspace is. The ones newly marked."""
    return [
        team
        for team in team_ids
        if stop(
            session,
            team_id=team,
            enterprise_id=enterprise_id,
            event=TEAM_ACCESS_REVOKED,
            now=now,
        )
    ]


def access_granted(session: Session, *, team_ids: Sequence[str]) -> list[str]:
    """The org-wide install let into the workspaces `team_ids` (again): the marks of
    those that had one are cleared. The ones that came back."""
    return [team for team in team_ids if welcome_back(session, team_id=team)]


def welcome_back_org(session: Session, *, enterprise_id: str) -> list[str]:
    """The org installed Rapport org-wide again: the marks of the org and of every
    workspace Rapport knows in it are cleared. The ones that came back."""
    teams = orgs.teams_of(session, enterprise_id=enterprise_id)
    return [scope for scope in (enterprise_id, *teams) if welcome_back(session, team_id=scope)]


def marked(session: Session) -> set[str]:
    """The workspaces marked uninstalled."""
    return uninstalls.marked_teams(session)


def welcome_back(session: Session, *, team_id: str) -> bool:
    """Clear the workspace's mark (it installed Rapport again): its held messages go
    at the next sweep, and everything else is as it was. True if it was marked."""
    returned = uninstalls.restore(session, team_id=team_id)
    if returned:
        # A token refused before the uninstall was the old one's.
        outbox.lift_hold(session, team_id=team_id)
        log.warning(
            "team %s installed Rapport again: its data is kept, and sending resumes", team_id
        )
    return returned


def purge_after(since: datetime, retention_days: int) -> datetime:
    """When the data of a workspace uninstalled at `since` is deleted."""
    return since + timedelta(days=retention_days)


def due_for_purge(
    session: Session, *, now: datetime, retention_days: int
) -> list[tuple[str, datetime]]:
    """The workspaces (and when each was uninstalled) whose data is to go at `now`."""
    marks = uninstalls.due(session, before=now - timedelta(days=retention_days))
    return [(mark.team_id, mark.since) for mark in marks]


@dataclass(frozen=True)
class Uninstalled:
    team_id: str
    enterprise_id: str | None
    since: datetime
    purge_at: datetime

    @property
    def whole_org(self) -> bool:
        """The mark of an Enterprise Grid org as a whole (its own rows), not a workspace's."""
        return self.team_id == self.enterprise_id


def uninstalled(session: Session, *, retention_days: int) -> list[Uninstalled]:
    """The workspaces marked uninstalled, oldest first, and when each one's data goes."""
    return [
        Uninstalled(
            mark.team_id, mark.enterprise_id, mark.since, purge_after(mark.since, retention_days)
        )
        for mark in uninstalls.marks(session)
    ]


def rows_kept(
    session: Session, *, team_id: str, enterprise_id: str | None = None
) -> dict[str, int]:
    """How many rows each table keeps for the workspace (a deletion would remove them)."""
    return uninstalls.counts(session, team_id=team_id, enterprise_id=enterprise_id)


@dataclass(frozen=True)
class Purged:
    team_id: str
    rows: dict[str, int]
    done: bool  # nothing of the team's is left, its mark included


def purge_some(
    session: Session,
    *,
    team_id: str,
    limit: int,
    enterprise_id: str | None = None,
    while_uninstalled: bool = False,
) -> Purged:
    """Delete up to `limit` of the workspace's rows; when none is left, its mark too.
    `while_uninstalled`: only while it is still marked (a reinstall stops the sweep's
    deletion; the mark is locked, so a reinstall waits for this batch)."""
    if while_uninstalled:
        mark = uninstalls.lock_mark(session, team_id=team_id)
        if mark is None:
            return Purged(team_id, {}, done=True)
        if mark.team_id == mark.enterprise_id:
            enterprise_id = team_id  # an org's mark: its org-wide install's rows go too
    rows = uninstalls.delete_rows(
        session, team_id=team_id, enterprise_id=enterprise_id, limit=limit
    )
    done = sum(rows.values()) < limit
    if done:
        uninstalls.restore(session, team_id=team_id)
    return Purged(team_id, rows, done)
