"""debrief_followups: the improvement steps a debrief suggested, accepted as follow-ups

One row a debrief's step (rehearse the QBR readout, red-team the credit rules, a
role-reversal session) once accepted, with the follow-up it became: unique per debrief
and step, so a second click records nothing.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "debrief_followups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("debrief_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(length=20), nullable=False),
        sa.Column("commitment_id", sa.Integer(), nullable=True),
        sa.Column("accepted_by", sa.String(length=32), nullable=False),
        sa.Column("accepted_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["commitment_id"], ["commitments.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["debrief_id"], ["debriefs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("debrief_id", "step", name="uq_debrief_followups_step"),
    )


def downgrade() -> None:
    op.drop_table("debrief_followups")
