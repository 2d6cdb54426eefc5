"""qbrs.missed_count: reviews skipped, or never answered within their window

"Held on schedule" is now counted against every review that came due: those held
(on schedule or not) and those that did not take place.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("qbrs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("missed_count", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("qbrs", schema=None) as batch_op:
        batch_op.drop_column("missed_count")
