"""MESO sets remember what their values are counted per, and when they were shared

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("meso_sets", schema=None) as batch_op:
        # Sets stored before this were never held against a prep: "" (not said).
        batch_op.add_column(
            sa.Column("value_period", sa.String(length=10), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("shared_at", storage.types.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("meso_sets", schema=None) as batch_op:
        batch_op.drop_column("shared_at")
        batch_op.drop_column("value_period")
