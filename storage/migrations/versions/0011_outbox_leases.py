"""outbox: who holds a row and since when, attempts that may have posted; team holds

`claimed_by` / `claimed_at` make the lease an owner's, from the wall clock at claim
time; `unsure_since` marks a row whose earlier attempt Slack may have accepted, so the
next attempt looks for it first. `delivery_holds` keeps the teams whose token Slack
refuses, so their messages wait instead of failing.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("claimed_at", storage.types.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("unsure_since", storage.types.UTCDateTime(), nullable=True))
    op.create_table(
        "delivery_holds",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("error", sa.String(length=40), nullable=False),
        sa.Column("since", storage.types.UTCDateTime(), nullable=False),
        sa.Column("checked_at", storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("team_id"),
    )


def downgrade() -> None:
    op.drop_table("delivery_holds")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("unsure_since")
        batch_op.drop_column("claimed_at")
        batch_op.drop_column("claimed_by")
