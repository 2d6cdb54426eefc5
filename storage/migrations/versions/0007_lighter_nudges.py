"""nudges: no per-row foreign-key triggers, and an index of the pending ones only

Every nudge the sweep writes cost PostgreSQL two foreign-key trigger calls (its
account, its outbox message), each a query and a row lock: about 15% of a 10,000-due
sweep (bench/README.md). Both references are already sound when the sweep writes
them (the account is the source's own, read in the same transaction; the message
is written a statement earlier in it), and neither row is ever deleted under a
live nudge: accounts are never deleted, and the only outbox rows deleted are a
sweep's own empty ones. So the two constraints go.

`ix_nudges_pending` becomes partial: only pending nudges are looked up by it, and
most nudges are written already grouped, so they no longer go into it at all; the
index stays the size of what is waiting instead of growing with history.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# PostgreSQL's own names for the unnamed constraints of 0003c; on SQLite the same
# convention names them when batch mode reflects the table.
NAMES = {"fk": "%(table_name)s_%(column_0_name)s_fkey"}
IS_PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    with op.batch_alter_table("nudges", schema=None, naming_convention=NAMES) as batch_op:
        batch_op.drop_constraint("nudges_account_id_fkey", type_="foreignkey")
        batch_op.drop_constraint("nudges_outbox_id_fkey", type_="foreignkey")
        batch_op.drop_index("ix_nudges_pending")
        batch_op.create_index(
            "ix_nudges_pending",
            ["deliver_at"],
            unique=False,
            postgresql_where=IS_PENDING,
            sqlite_where=IS_PENDING,
        )


def downgrade() -> None:
    with op.batch_alter_table("nudges", schema=None, naming_convention=NAMES) as batch_op:
        batch_op.drop_index("ix_nudges_pending")
        batch_op.create_index("ix_nudges_pending", ["status", "deliver_at"], unique=False)
        batch_op.create_foreign_key(
            "nudges_account_id_fkey", "accounts", ["account_id"], ["id"], ondelete="CASCADE"
        )
        batch_op.create_foreign_key(
            "nudges_outbox_id_fkey", "outbox", ["outbox_id"], ["id"], ondelete="SET NULL"
        )
