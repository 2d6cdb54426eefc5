"""team_enterprises: the Enterprise Grid org of each workspace whose requests named one

An org-wide install is stored with the org's id and no team; the sweep, the outbox and
the digests look a token up by team. One row per workspace, written when its requests
first name its org (and again if that changes), lets them find the org's install.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "team_enterprises",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("enterprise_id", sa.String(length=32), nullable=False),
        sa.Column("seen_at", storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("team_id"),
    )


def downgrade() -> None:
    op.drop_table("team_enterprises")
