"""Slack's installations and OAuth states, in distributed mode: the tables of
slack_sdk's SQLAlchemy stores (`slack_sdk.oauth.installation_store.sqlalchemy`,
`slack_sdk.oauth.state_store.sqlalchemy`), declared here as slack_sdk 3.x declares
them, so that Alembic creates them and checks them against the migrations like every
other table; storage/installs.py points the stores at these. tests/test_installs.py
checks that they are still what slack_sdk declares. Written out rather than built by
slack_sdk's own builders: the models, and the services above them, import no Slack.

- `slack_installations`: one row per install (and reinstall) of Rapport into a
  workspace, with the installing user and the bot token; the latest one counts.
- `slack_bots`: the bot's token per install, what the sweep sends with.
- `slack_oauth_states`: the state of each install begun at /slack/install, until the
  redirect from Slack consumes it or it expires.

Rapport's own beside them:
- `team_enterprises`: the Enterprise Grid org each workspace's requests name, which is
  how the sweep finds the org-wide install serving a workspace without one of its own.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Column, DateTime, Index, Integer, String, Table, func
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, SlackId

_ID = String(32)
_NAME = String(200)
_SCOPES = String(1000)


def _workspace(*, with_url: bool) -> list[Column[Any]]:
    """Which app was installed where: the columns both installation tables start with."""
    url = [Column("enterprise_url", _NAME)] if with_url else []
    return [
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("client_id", _ID, nullable=False),
        Column("app_id", _ID, nullable=False),
        Column("enterprise_id", _ID),
        Column("enterprise_name", _NAME),
        *url,
        Column("team_id", _ID),
        Column("team_name", _NAME),
        Column("bot_token", _NAME),
        Column("bot_id", _ID),
        Column("bot_user_id", _ID),
        Column("bot_scopes", _SCOPES),
        Column("bot_refresh_token", _NAME),
        Column("bot_token_expires_at", DateTime),
    ]


def _installed() -> list[Column[Any]]:
    """The columns both installation tables end with."""
    return [
        Column("is_enterprise_install", Boolean, default=False, nullable=False),
        Column("installed_at", DateTime, nullable=False, default=func.now()),
    ]


SLACK_INSTALLATIONS = Table(
    "slack_installations",
    Base.metadata,
    *_workspace(with_url=True),
    Column("user_id", _ID, nullable=False),
    Column("user_token", _NAME),
    Column("user_scopes", _SCOPES),
    Column("user_refresh_token", _NAME),
    Column("user_token_expires_at", DateTime),
    Column("incoming_webhook_url", _NAME),
    Column("incoming_webhook_channel", _NAME),
    Column("incoming_webhook_channel_id", _NAME),
    Column("incoming_webhook_configuration_url", _NAME),
    Column("token_type", _ID),
    *_installed(),
    Index(
        "slack_installations_idx",
        "client_id",
        "enterprise_id",
        "team_id",
        "user_id",
        "installed_at",
    ),
)

SLACK_BOTS = Table(
    "slack_bots",
    Base.metadata,
    *_workspace(with_url=False),
    *_installed(),
    Index("slack_bots_idx", "client_id", "enterprise_id", "team_id", "installed_at"),
)

SLACK_OAUTH_STATES = Table(
    "slack_oauth_states",
    Base.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("state", _NAME, nullable=False),
    Column("expire_at", DateTime, nullable=False),
)


class TeamEnterprise(Base):
    """The Enterprise Grid org a workspace belongs to, as its requests say. An org-wide
    install is stored with the org and no team, and a workspace of that org has no
    install of its own: this is how a workspace's messages find the org's token."""

    __tablename__ = "team_enterprises"

    team_id: Mapped[SlackId] = mapped_column(primary_key=True)
    enterprise_id: Mapped[SlackId]
    # When a request last said so (written again only when the org changes, or a
    # process has not written it for a while: bot/app/oauth.py).
    seen_at: Mapped[datetime]
