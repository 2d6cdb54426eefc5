"""org_view_settings: how far an Enterprise Grid org's App Home and digests look

One row per org (its id, E…, in team_id), added when an org admin or owner first
chooses: App Home and the digests each take in their own workspace ("workspace", the
default) or every workspace of the org Rapport serves ("org").

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "org_view_settings",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("updated_by", sa.String(length=32), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("home", sa.String(length=9), nullable=False),
        sa.Column("digests", sa.String(length=9), nullable=False),
        sa.PrimaryKeyConstraint("team_id"),
    )


def downgrade() -> None:
    op.drop_table("org_view_settings")
