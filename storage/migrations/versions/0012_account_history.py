"""account history (who changed what, with what Undo needs); rows dropped with a loss

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

DROPPABLE = ("commitments", "checkins", "qbrs")


def upgrade() -> None:
    op.create_table(
        "account_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("actor_id", sa.String(length=32), nullable=False),
        sa.Column("owner_id", sa.String(length=32), nullable=False),
        sa.Column("at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("before", sa.Text(), nullable=True),
        sa.Column("after", sa.Text(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.Column("undone_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("undone_by", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_account_changes_account", "account_changes", ["team_id", "account_id", "at"]
    )
    for table in DROPPABLE:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("dropped_at", storage.types.UTCDateTime(), nullable=True))


def downgrade() -> None:
    for table in DROPPABLE:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("dropped_at")
    op.drop_index("ix_account_changes_account", table_name="account_changes")
    op.drop_table("account_changes")
