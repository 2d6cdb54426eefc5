"""user_prefs: the person's Slack locale, which says how they write dates in numbers

`12/10` is 12 October to someone in London and 10 December to someone in New York.
Slack's users.info tells the locale (`en-GB`, `en-US`) when asked with
include_locale; it is fetched with the time zone, after the command is answered.
NULL: never asked; an empty string: Slack had none for them.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("user_prefs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("slack_locale", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("user_prefs", schema=None) as batch_op:
        batch_op.drop_column("slack_locale")
