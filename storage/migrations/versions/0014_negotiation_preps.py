"""negotiation preps: the one-page plan per account and negotiation

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "negotiation_preps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("our_batna", sa.Text(), nullable=True),
        sa.Column("their_batna", sa.Text(), nullable=True),
        sa.Column("target_value", sa.Float(), nullable=True),
        sa.Column("reservation_value", sa.Float(), nullable=True),
        sa.Column("anchor_value", sa.Float(), nullable=True),
        sa.Column("value_period", sa.String(length=10), nullable=False),
        sa.Column("value_notes", sa.Text(), nullable=True),
        sa.Column("people", sa.JSON(), nullable=False),
        sa.Column("our_issues", sa.JSON(), nullable=False),
        sa.Column("their_issues", sa.JSON(), nullable=False),
        sa.Column("we_can_give", sa.JSON(), nullable=False),
        sa.Column("we_want", sa.JSON(), nullable=False),
        sa.Column("opened_by", sa.String(length=32), nullable=False),
        sa.Column("opened_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=32), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("closed_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("view_id", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("team_id", "view_id", name="uq_negotiation_preps_view"),
    )
    op.create_index(
        "ix_negotiation_preps_account",
        "negotiation_preps",
        ["team_id", "account_id", "opened_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_negotiation_preps_account", table_name="negotiation_preps")
    op.drop_table("negotiation_preps")
