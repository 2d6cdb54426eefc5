"""How far App Home and the weekly digests look in an Enterprise Grid org: each stays
within the workspace it is opened or set up in (the default), or, once an org admin
chooses it, takes in every workspace of the org that Rapport still serves.

One setting per org, kept under the org's id (storage/orgs.py: a row of a whole org
carries its id in `team_id`), so each of its workspaces reads the same choice. It lets
each workspace see what people own in the others, so only a Slack org admin or owner
may change it (bot.slackapi.roles.is_org_admin, failing closed; the caller asks and
passes the answer in); anyone may read it. A workspace outside any org has nothing to
choose: everything it shows is its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from bot.services.errors import NotAllowed, UsageError
from storage import orgs, uninstalls
from storage.models import OrgView, ViewScope

USAGE = "/rapport org"
KEYS = ("home", "digests")
# What people write for each scope (`org` as Slack's own admin pages call it).
_SCOPES = {
    "workspace": ViewScope.WORKSPACE,
    "ws": ViewScope.WORKSPACE,
    "org": ViewScope.ORG,
    "organization": ViewScope.ORG,
    "organisation": ViewScope.ORG,
}


@dataclass(frozen=True)
class OrgScopes:
    """The org's choice: how far App Home and the digests look."""

    home: ViewScope = ViewScope.WORKSPACE
    digests: ViewScope = ViewScope.WORKSPACE


@dataclass(frozen=True)
class ScopeChange:
    """`home:` and `digests:` as read from `/rapport org …`; a key left out stays."""

    fields: dict[str, ViewScope]


def read_change(fields: dict[str, str]) -> ScopeChange:
    read: dict[str, ViewScope] = {}
    for key in KEYS:
        if key not in fields:
            continue
        typed = fields[key].strip().lower()
        if typed not in _SCOPES:
            raise UsageError(
                f"`{key}:` takes `workspace` (each workspace its own) or `org` (every "
                f"workspace of the org); I read `{fields[key][:40]}`.",
                usage=USAGE,
                key=key,
            )
        read[key] = _SCOPES[typed]
    return ScopeChange(read)


def scopes_of_org(session: Session, *, enterprise_id: str) -> OrgScopes:
    row = session.get(OrgView, enterprise_id)
    if row is None:
        return OrgScopes()
    return OrgScopes(home=ViewScope(row.home), digests=ViewScope(row.digests))


def set_scopes(
    session: Session,
    change: ScopeChange,
    *,
    enterprise_id: str,
    user_id: str,
    is_org_admin: bool,
    now: datetime,
) -> OrgScopes:
    """Change the org's choice: it opens each workspace's people to the others', so org
    admins and owners only."""
    current = scopes_of_org(session, enterprise_id=enterprise_id)
    if not is_org_admin:
        raise NotAllowed(
            "Only an admin or owner of your Enterprise Grid org can choose whether App "
            "Home and the digests take in the org's other workspaces. Nothing changed: "
            f"{describe(current)}."
        )
    row = OrgView.for_change(session, team_id=enterprise_id, user_id=user_id, now=now)
    row.home = change.fields.get("home", current.home)
    row.digests = change.fields.get("digests", current.digests)
    session.flush()
    return OrgScopes(home=ViewScope(row.home), digests=ViewScope(row.digests))


def describe(scopes: OrgScopes) -> str:
    """The choice in words, for the reply that refuses a change."""
    where = {ViewScope.WORKSPACE: "its own workspace", ViewScope.ORG: "the whole org"}
    return f"App Home shows {where[scopes.home]}, digests cover {where[scopes.digests]}"


def _teams(session: Session, *, team_id: str, wide: Callable[[OrgScopes], bool]) -> list[str]:
    """The workspaces a view of `team_id` takes in: itself, and when its org chose so
    (`wide`), every other workspace of the org Rapport still serves (one that
    uninstalled is left out at once, before its data is deleted)."""
    org = orgs.org_of(session, team_id=team_id)
    if org is None or not wide(scopes_of_org(session, enterprise_id=org)):
        return [team_id]
    gone = uninstalls.marked_teams(session)
    others = orgs.teams_of(session, enterprise_id=org)
    return [team_id, *(team for team in others if team != team_id and team not in gone)]


def home_teams(session: Session, *, team_id: str) -> list[str]:
    """The workspaces whose items the App Home opened in `team_id` shows, its own first."""
    return _teams(session, team_id=team_id, wide=lambda s: s.home == ViewScope.ORG)


def digest_teams(session: Session, *, team_id: str) -> list[str]:
    """The workspaces whose accounts a digest set up in `team_id` covers, its own first."""
    return _teams(session, team_id=team_id, wide=lambda s: s.digests == ViewScope.ORG)
