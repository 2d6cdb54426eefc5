"""team_uninstalls: workspaces that uninstalled Rapport, until a reinstall or the purge

One row per workspace whose `app_uninstalled` (or a `tokens_revoked` naming its bot
token) came in: nothing is planned or sent for it while the row is there, and its data
is deleted once the retention period from `since` is over.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "team_uninstalls",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("enterprise_id", sa.String(length=32), nullable=True),
        sa.Column("event", sa.String(length=40), nullable=False),
        sa.Column("since", storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("team_id"),
    )


def downgrade() -> None:
    op.drop_table("team_uninstalls")
