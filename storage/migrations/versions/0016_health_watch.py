"""the daily health watch: each account's score by day, the falls owners were told of,
the day each team was last scored, and the team's rule for telling them

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "health_days",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("day", storage.types.CalendarDate(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("missed", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "day", "account_id"),
    )
    op.create_table(
        "health_falls",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("day", storage.types.CalendarDate(), nullable=False),
        sa.Column("before", sa.Integer(), nullable=False),
        sa.Column("after", sa.Integer(), nullable=False),
        sa.Column("below", sa.Integer(), nullable=True),
        sa.Column("fell", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("team_id", "account_id", "day"),
    )
    op.create_table(
        "health_watch",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("scored_on", storage.types.CalendarDate(), nullable=False),
        sa.Column("after_id", sa.Integer(), nullable=False),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("team_id"),
    )
    op.create_table(
        "health_alert_settings",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("updated_by", sa.String(length=32), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("drop_points", sa.Integer(), nullable=True),
        sa.Column("below", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("team_id"),
    )


def downgrade() -> None:
    op.drop_table("health_alert_settings")
    op.drop_table("health_watch")
    op.drop_table("health_falls")
    op.drop_table("health_days")
