"""user_prefs: a person's settings in a workspace of an Enterprise Grid org move to the org

A user id is one person in every workspace of an org, so their own settings are now
kept once, under the org's id (storage.orgs, people_scope). The rows of workspaces
already noted in an org (team_enterprises) move there; a workspace noted later is
read from the org from then on.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

# The schema as of this revision, not as the models may later say.
_PREFS = sa.table(
    "user_prefs",
    sa.column("team_id"),
    sa.column("user_id"),
    sa.column("slack_tz_fetched_at"),
)
_ORGS = sa.table("team_enterprises", sa.column("team_id"), sa.column("enterprise_id"))
# Every column of user_prefs but its key (team_id, user_id).
_SETTINGS = (
    "slack_tz",
    "slack_tz_fetched_at",
    "slack_locale",
    "tz_override",
    "work_start",
    "work_end",
    "work_days",
    "away_from",
    "away_until",
    "manager_id",
    "digest_opt_out",
)


def upgrade() -> None:
    conn = op.get_bind()
    # A person with rows in several workspaces of one org keeps one: a row already
    # under the org if there is one, else the one of the workspace where Rapport last
    # saw them (slack_tz_fetched_at, renewed at their commands and before their
    # nudges), else the first workspace by id. Nothing records when a person last
    # changed their settings; where they last used Rapport is the nearest to it, and
    # the workspace they most likely keep their hours up to date in.
    rows = conn.execute(
        sa.select(_ORGS.c.enterprise_id, _PREFS.c.team_id, _PREFS.c.user_id)
        .join(_ORGS, _ORGS.c.team_id == _PREFS.c.team_id)
        .order_by(
            _ORGS.c.enterprise_id,
            _PREFS.c.user_id,
            _PREFS.c.slack_tz_fetched_at.is_(None),
            _PREFS.c.slack_tz_fetched_at.desc(),
            _PREFS.c.team_id,
        )
    ).all()
    orgs = {enterprise for enterprise, _, _ in rows}
    already = {
        (team, user)
        for team, user in conn.execute(
            sa.select(_PREFS.c.team_id, _PREFS.c.user_id).where(_PREFS.c.team_id.in_(orgs))
        )
    }
    moved: list[dict[str, str]] = []
    dropped: list[dict[str, str]] = []
    for enterprise, team, user in rows:
        row = {"org": enterprise, "team": team, "user": user}
        if (enterprise, user) in already:
            dropped.append(row)
        else:
            already.add((enterprise, user))
            moved.append(row)
    # The losers go first, so no move meets the key of a row still there.
    if dropped:
        conn.execute(
            sa.text("DELETE FROM user_prefs WHERE team_id = :team AND user_id = :user"), dropped
        )
    if moved:
        conn.execute(
            sa.text(
                "UPDATE user_prefs SET team_id = :org WHERE team_id = :team AND user_id = :user"
            ),
            moved,
        )


def downgrade() -> None:
    # Each workspace of the org noted gets a copy of the org's rows; then they go.
    settings = ", ".join(_SETTINGS)
    copied = ", ".join(f"p.{column}" for column in _SETTINGS)
    op.execute(
        f"INSERT INTO user_prefs (team_id, user_id, {settings})"
        f" SELECT o.team_id, p.user_id, {copied}"
        " FROM user_prefs p JOIN team_enterprises o ON o.enterprise_id = p.team_id"
        " WHERE NOT EXISTS (SELECT 1 FROM user_prefs w"
        " WHERE w.team_id = o.team_id AND w.user_id = p.user_id)"
    )
    op.execute(
        "DELETE FROM user_prefs WHERE team_id IN (SELECT enterprise_id FROM team_enterprises)"
    )
