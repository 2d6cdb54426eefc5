"""client questions on the team's reply clock, and the team's reply norm

A question the client asked is kept with the norm it is held to and the instant that
norm runs out in the owner's working hours, so a later change of the norm rewrites no
history; `reply_minutes` is what the reply took, in working minutes. The sweep finds
the reminders through a partial index on `next_nudge_at`, as it finds commitments'.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

ON_THE_CLOCK = sa.text("next_nudge_at IS NOT NULL")


def upgrade() -> None:
    op.create_table(
        "client_questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("owner_id", sa.String(length=32), nullable=False),
        sa.Column("asked_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("norm_minutes", sa.Integer(), nullable=False),
        sa.Column("reply_by", storage.types.UTCDateTime(), nullable=False),
        sa.Column("recorded_by", sa.String(length=32), nullable=False),
        sa.Column("recorded_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("permalink", sa.Text(), nullable=True),
        sa.Column("next_nudge_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("answered_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("answered_by", sa.String(length=32), nullable=True),
        sa.Column("reply_minutes", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_client_questions_account", "client_questions", ["team_id", "account_id", "asked_at"]
    )
    op.create_index(
        "ix_client_questions_next_nudge",
        "client_questions",
        ["next_nudge_at", "id"],
        postgresql_where=ON_THE_CLOCK,
        sqlite_where=ON_THE_CLOCK,
    )
    with op.batch_alter_table("team_calendars", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reply_norm_minutes", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("team_calendars", schema=None) as batch_op:
        batch_op.drop_column("reply_norm_minutes")
    op.drop_index("ix_client_questions_next_nudge", table_name="client_questions")
    op.drop_index("ix_client_questions_account", table_name="client_questions")
    op.drop_table("client_questions")
