"""account_kpis: an account's renewals (and whether they renewed), repeat purchases and
referrals, recorded in Slack or imported

One row a renewal, purchase or referral, with its day: the digest counts them by week
and quarter through the (team, day) index. A count an import brings without days is
kept as rows without a day, counted on the account card and in no week.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "account_kpis",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("day", storage.types.CalendarDate(), nullable=True),
        sa.Column("outcome", sa.String(length=12), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.String(length=32), nullable=False),
        sa.Column("recorded_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_account_kpis_account", "account_kpis", ["team_id", "account_id", "kind"])
    op.create_index("ix_account_kpis_day", "account_kpis", ["team_id", "day"])


def downgrade() -> None:
    op.drop_index("ix_account_kpis_day", table_name="account_kpis")
    op.drop_index("ix_account_kpis_account", table_name="account_kpis")
    op.drop_table("account_kpis")
