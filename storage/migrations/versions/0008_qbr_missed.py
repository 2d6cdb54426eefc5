"""qbrs.missed_count: reviews skipped, or never answered within their window

"Held on schedule" is now counted against every review that came due: those held
(on schedule or not) and those that did not take place.

A review now has reminders after its date too (the question whether it took place,
then the note that it was counted as missed), so every review whose reminders had run
out is armed again: the next sweep asks about it, or counts it as missed and schedules
the next one. Lost accounts' reviews are disarmed again by that sweep.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from __future__ import annotations

from datetime import UTC, datetime

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
    # Instants are stored as naive UTC (storage/types.py).
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    op.execute(
        sa.text("UPDATE qbrs SET next_nudge_at = :now WHERE next_nudge_at IS NULL").bindparams(
            now=now
        )
    )


def downgrade() -> None:
    with op.batch_alter_table("qbrs", schema=None) as batch_op:
        batch_op.drop_column("missed_count")
