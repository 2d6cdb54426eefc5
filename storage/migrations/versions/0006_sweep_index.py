"""the sweep's way into commitments: only the ones with a next nudge, in sweep order

`ix_commitments_next_nudge` becomes a partial index on (next_nudge_at, id) where
next_nudge_at is set. Done commitments (most of the table, over time) have none and
are no longer in it, and PostgreSQL reads a batch in the sweep's order
(next_nudge_at, id) straight from the index instead of sorting everything due.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

HAS_NEXT_NUDGE = sa.text("next_nudge_at IS NOT NULL")


def upgrade() -> None:
    with op.batch_alter_table("commitments", schema=None) as batch_op:
        batch_op.drop_index("ix_commitments_next_nudge")
        batch_op.create_index(
            "ix_commitments_next_nudge",
            ["next_nudge_at", "id"],
            unique=False,
            postgresql_where=HAS_NEXT_NUDGE,
            sqlite_where=HAS_NEXT_NUDGE,
        )


def downgrade() -> None:
    with op.batch_alter_table("commitments", schema=None) as batch_op:
        batch_op.drop_index("ix_commitments_next_nudge")
        batch_op.create_index("ix_commitments_next_nudge", ["next_nudge_at"], unique=False)
