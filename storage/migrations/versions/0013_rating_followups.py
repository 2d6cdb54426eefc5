"""a rating remembers the follow-up recorded from it (a low score's recovery)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ratings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("followup_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_ratings_followup_id_commitments",
            "commitments",
            ["followup_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("ratings", schema=None) as batch_op:
        batch_op.drop_constraint("fk_ratings_followup_id_commitments", type_="foreignkey")
        batch_op.drop_column("followup_id")
