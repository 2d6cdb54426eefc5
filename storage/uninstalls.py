"""Workspaces that uninstalled Rapport: the mark that stops everything for one, the
filter that keeps the sweep away from marked workspaces, and the deletion of all a
workspace left behind, table by table.

The tables are read from the metadata (every one with a `team_id` column), children
before the tables their foreign keys point at, so a table added later is deleted with
the rest without being listed here.

An Enterprise Grid org as a whole is marked and deleted like a workspace, under its
own id (E…): Rapport keeps the org's rows with that id as their team (storage/orgs.py),
and slack_sdk keeps its org-wide install with the org and no team, which go with them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, Table, and_, delete, func, or_, select, tuple_
from sqlalchemy.orm import InstrumentedAttribute, Session

from storage.models import SLACK_BOTS, Base, TeamUninstall
from storage.upsert import insert_ignore_returning


def serving(team_id: ColumnElement[str] | InstrumentedAttribute[str]) -> ColumnElement[bool]:
    """Rows of workspaces where Rapport is installed (not marked uninstalled)."""
    return team_id.not_in(select(TeamUninstall.team_id))


def mark(
    session: Session, *, team_id: str, enterprise_id: str | None, event: str, now: datetime
) -> bool:
    """Mark the workspace uninstalled from `now`; True if it was not marked already
    (a second event, in either order, keeps the first one's time)."""
    added = insert_ignore_returning(
        session,
        TeamUninstall,
        [{"team_id": team_id, "enterprise_id": enterprise_id, "event": event, "since": now}],
        unique=("team_id",),
        returning=("team_id",),
    )
    return bool(added)


def restore(session: Session, *, team_id: str) -> bool:
    """Clear the workspace's mark; True if it had one."""
    deleted = session.connection().execute(
        delete(TeamUninstall).where(TeamUninstall.team_id == team_id)
    )
    return bool(deleted.rowcount)


def marks(session: Session) -> Sequence[TeamUninstall]:
    return session.scalars(select(TeamUninstall).order_by(TeamUninstall.since)).all()


def marked_teams(session: Session) -> set[str]:
    return set(session.scalars(select(TeamUninstall.team_id)))


def lock_mark(session: Session, *, team_id: str) -> TeamUninstall | None:
    """The workspace's mark, locked for this transaction; None if it has none."""
    return session.scalar(
        select(TeamUninstall).where(TeamUninstall.team_id == team_id).with_for_update()
    )


def with_own_install(session: Session, *, team_ids: Sequence[str]) -> set[str]:
    """Those of the workspaces `team_ids` that an install of their own serves (a bot
    token stored with the workspace), whatever becomes of their org's org-wide one."""
    if not team_ids:
        return set()
    bots = SLACK_BOTS.c
    own = select(bots.team_id).where(bots.team_id.in_(team_ids), bots.bot_token.is_not(None))
    return set(session.scalars(own.distinct()))


def due(session: Session, *, before: datetime) -> Sequence[TeamUninstall]:
    """The marks set at or before `before`: their workspaces' data is to be deleted."""
    return session.scalars(
        select(TeamUninstall).where(TeamUninstall.since <= before).order_by(TeamUninstall.since)
    ).all()


def team_tables() -> list[Table]:
    """Every table whose rows belong to one workspace, children first; the mark itself
    is left out: it goes last, once nothing else is left."""
    return [
        table
        for table in reversed(Base.metadata.sorted_tables)
        if "team_id" in table.c and table is not TeamUninstall.__table__
    ]


def _of(table: Table, team_id: str, enterprise_id: str | None) -> ColumnElement[bool]:
    """The rows of the workspace `team_id` (of the org `enterprise_id`, if given); with
    `team_id` the org's own id, the org's: its id as their team, or (slack_sdk's
    org-wide install) no team and the org."""
    ours = table.c.team_id == team_id
    if enterprise_id is None or "enterprise_id" not in table.c:
        return ours
    if team_id == enterprise_id:
        org_wide = and_(table.c.team_id.is_(None), table.c.enterprise_id == enterprise_id)
        return or_(ours, org_wide)
    return and_(ours, table.c.enterprise_id == enterprise_id)


def counts(session: Session, *, team_id: str, enterprise_id: str | None = None) -> dict[str, int]:
    """How many rows of the workspace each table holds (tables with none left out)."""
    found = {}
    for table in team_tables():
        count = session.scalar(
            select(func.count()).select_from(table).where(_of(table, team_id, enterprise_id))
        )
        if count:
            found[table.name] = int(count)
    return found


def delete_rows(
    session: Session, *, team_id: str, limit: int, enterprise_id: str | None = None
) -> dict[str, int]:
    """Delete up to `limit` of the workspace's rows, children before parents, one
    statement per table and batch; returns how many went from each table. Fewer than
    `limit` in all: none is left (but the mark, which `restore` clears)."""
    deleted: dict[str, int] = {}
    left = limit
    for table in team_tables():
        if left <= 0:
            break
        key = list(table.primary_key.columns)
        batch = select(*key).where(_of(table, team_id, enterprise_id)).limit(left)
        chosen = key[0].in_(batch) if len(key) == 1 else tuple_(*key).in_(batch)
        gone = int(session.connection().execute(delete(table).where(chosen)).rowcount)
        if gone:
            deleted[table.name] = gone
            left -= gone
    return deleted
