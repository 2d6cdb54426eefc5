"""Enterprise Grid orgs and their workspaces, as Rapport knows them: the one reading
of "which org is this workspace in" and "which workspaces does this org hold", from
`team_enterprises` (noted from each workspace's requests and from Slack's
`team_access_granted`, bot/app/oauth.py).

Rows that belong to a whole org rather than to one of its workspaces (a person's
working hours: a user id is the same in every workspace of an org) carry the org's id
(E…) in their `team_id` column, the "scope" below. A workspace outside any org is its
own scope, so in one-workspace mode every scope is the team itself.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, func, literal, select
from sqlalchemy.orm import Session

from storage.models.installs import SLACK_INSTALLATIONS, TeamEnterprise


def org_of(session: Session, *, team_id: str) -> str | None:
    """The Enterprise Grid org of the workspace `team_id`, None if it is in none."""
    return session.scalar(
        select(TeamEnterprise.enterprise_id).where(TeamEnterprise.team_id == team_id)
    )


def teams_of(session: Session, *, enterprise_id: str) -> list[str]:
    """The workspaces Rapport knows in the org `enterprise_id`, in id order."""
    return list(
        session.scalars(
            select(TeamEnterprise.team_id)
            .where(TeamEnterprise.enterprise_id == enterprise_id)
            .order_by(TeamEnterprise.team_id)
        )
    )


def people_scope_sql(team_id: str) -> ColumnElement[str]:
    """The scope a person of the workspace `team_id` is stored under, as SQL (one
    statement, no second round trip): the workspace's org if it has one, else the
    workspace itself."""
    org = (
        select(TeamEnterprise.enterprise_id)
        .where(TeamEnterprise.team_id == team_id)
        .scalar_subquery()
    )
    return func.coalesce(org, literal(team_id))


def people_scope(session: Session, *, team_id: str) -> str:
    """The scope a person of the workspace `team_id` is stored under: a user id is
    unique in an Enterprise Grid org, so a person's own settings are the org's, the
    same from each of its workspaces; outside an org, the workspace's."""
    return org_of(session, team_id=team_id) or team_id


def installed_names(session: Session, *, team_ids: Sequence[str]) -> dict[str, str]:
    """The names the workspaces `team_ids` had at their own latest install (slack_sdk's
    installation store keeps them); a workspace served only by its org's org-wide
    install has none there."""
    if not team_ids:
        return {}  # App Home's default: no query at each publish
    rows = SLACK_INSTALLATIONS.c
    found = session.execute(
        select(rows.team_id, rows.team_name)
        .where(rows.team_id.in_(list(team_ids)), rows.team_name.is_not(None))
        .order_by(rows.installed_at, rows.id)
    )
    # The latest install's name wins (a workspace renamed since an older one).
    return {team_id: name for team_id, name in found if name}
