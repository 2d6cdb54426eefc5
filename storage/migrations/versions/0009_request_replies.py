"""request_replies: the key of each command, form and event, with its first reply

Slack may deliver one request twice; the second is answered from here instead of
being done again (handlers/replays.py). Rows older than the replay window go.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "request_replies",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("content_type", sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index("ix_request_replies_received_at", "request_replies", ["received_at"])


def downgrade() -> None:
    op.drop_index("ix_request_replies_received_at", table_name="request_replies")
    op.drop_table("request_replies")
