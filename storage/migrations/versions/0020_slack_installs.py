"""slack_installations, slack_bots, slack_oauth_states: distributed mode's installs

The three tables of slack_sdk's SQLAlchemy installation and OAuth state stores, as
slack_sdk declares them (storage/models/installs.py): each install of Rapport into a
workspace with its bot token, and the state of each install under way. Empty in
single-workspace mode.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

_ID = sa.String(length=32)
_NAME = sa.String(length=200)
_SCOPES = sa.String(length=1000)


def _workspace(*, with_url: bool) -> list[sa.Column[Any]]:
    """The columns both installation tables start with: the app, where, the bot."""
    url = [sa.Column("enterprise_url", _NAME, nullable=True)] if with_url else []
    return [
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("client_id", _ID, nullable=False),
        sa.Column("app_id", _ID, nullable=False),
        sa.Column("enterprise_id", _ID, nullable=True),
        sa.Column("enterprise_name", _NAME, nullable=True),
        *url,
        sa.Column("team_id", _ID, nullable=True),
        sa.Column("team_name", _NAME, nullable=True),
        sa.Column("bot_token", _NAME, nullable=True),
        sa.Column("bot_id", _ID, nullable=True),
        sa.Column("bot_user_id", _ID, nullable=True),
        sa.Column("bot_scopes", _SCOPES, nullable=True),
        sa.Column("bot_refresh_token", _NAME, nullable=True),
        sa.Column("bot_token_expires_at", sa.DateTime(), nullable=True),
    ]


def _installed() -> list[sa.Column[Any]]:
    return [
        sa.Column("is_enterprise_install", sa.Boolean(), nullable=False),
        sa.Column("installed_at", sa.DateTime(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "slack_installations",
        *_workspace(with_url=True),
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("user_token", _NAME, nullable=True),
        sa.Column("user_scopes", _SCOPES, nullable=True),
        sa.Column("user_refresh_token", _NAME, nullable=True),
        sa.Column("user_token_expires_at", sa.DateTime(), nullable=True),
        sa.Column("incoming_webhook_url", _NAME, nullable=True),
        sa.Column("incoming_webhook_channel", _NAME, nullable=True),
        sa.Column("incoming_webhook_channel_id", _NAME, nullable=True),
        sa.Column("incoming_webhook_configuration_url", _NAME, nullable=True),
        sa.Column("token_type", _ID, nullable=True),
        *_installed(),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "slack_installations_idx",
        "slack_installations",
        ["client_id", "enterprise_id", "team_id", "user_id", "installed_at"],
    )
    op.create_table(
        "slack_bots",
        *_workspace(with_url=False),
        *_installed(),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "slack_bots_idx", "slack_bots", ["client_id", "enterprise_id", "team_id", "installed_at"]
    )
    op.create_table(
        "slack_oauth_states",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("state", _NAME, nullable=False),
        sa.Column("expire_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("slack_oauth_states")
    op.drop_index("slack_bots_idx", table_name="slack_bots")
    op.drop_table("slack_bots")
    op.drop_index("slack_installations_idx", table_name="slack_installations")
    op.drop_table("slack_installations")
