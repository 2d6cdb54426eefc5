"""concession revisions, MESO sets and offers, team negotiation settings

Revision ID: 0003a
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0003a"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "concession_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("concession_id", sa.Integer(), nullable=False),
        sa.Column("change", sa.String(length=10), nullable=False),
        sa.Column("item", sa.String(length=120), nullable=True),
        sa.Column("give", sa.Text(), nullable=False),
        sa.Column("get", sa.Text(), nullable=True),
        sa.Column("trigger", sa.Text(), nullable=True),
        sa.Column("value_to_us", sa.Text(), nullable=True),
        sa.Column("value_to_them", sa.Text(), nullable=True),
        sa.Column("changed_by", sa.String(length=32), nullable=False),
        sa.Column("changed_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["concession_id"], ["concessions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("concession_revisions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_concession_revisions_entry", ["team_id", "concession_id"], unique=False
        )

    op.create_table(
        "meso_sets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=32), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("tolerance_pct", sa.Float(), nullable=False),
        sa.Column("chosen_label", sa.String(length=20), nullable=True),
        sa.Column("chosen_by", sa.String(length=32), nullable=True),
        sa.Column("chosen_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("source_key", sa.String(length=80), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("team_id", "source_key", name="uq_meso_sets_source"),
    )
    with op.batch_alter_table("meso_sets", schema=None) as batch_op:
        batch_op.create_index(
            "ix_meso_sets_account", ["team_id", "account_id", "created_at"], unique=False
        )

    op.create_table(
        "meso_offers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("meso_set_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=20), nullable=False),
        sa.Column("terms", sa.Text(), nullable=True),
        sa.Column("scope", sa.Text(), nullable=True),
        sa.Column("cadence", sa.Text(), nullable=True),
        sa.Column("extras", sa.Text(), nullable=True),
        sa.Column("value_to_us", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(["meso_set_id"], ["meso_sets.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("meso_set_id", "position", name="uq_meso_offers_position"),
    )

    op.create_table(
        "negotiation_settings",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("meso_tolerance_pct", sa.Float(), nullable=False),
        sa.Column("updated_by", sa.String(length=32), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("team_id"),
    )


def downgrade() -> None:
    op.drop_table("negotiation_settings")
    op.drop_table("meso_offers")
    with op.batch_alter_table("meso_sets", schema=None) as batch_op:
        batch_op.drop_index("ix_meso_sets_account")
    op.drop_table("meso_sets")
    with op.batch_alter_table("concession_revisions", schema=None) as batch_op:
        batch_op.drop_index("ix_concession_revisions_entry")
    op.drop_table("concession_revisions")
