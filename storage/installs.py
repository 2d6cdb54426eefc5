"""Distributed mode's installations on Rapport's own database: slack_sdk's SQLAlchemy
installation and OAuth state stores, reading and writing the tables the migrations
made (storage/models/installs.py), and the queries Rapport adds: a team's bot token, and
each workspace's latest install for `rapport installs`.
Only the composition root and the Slack helpers import this module: it brings slack_sdk.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import Engine, delete, select

from storage.models.installs import SLACK_BOTS, SLACK_INSTALLATIONS, SLACK_OAUTH_STATES

log = logging.getLogger("rapport.installs")

# How long an install begun at /slack/install may take to come back from Slack.
STATE_EXPIRATION_SECONDS = 600


class InstallationStore(SQLAlchemyInstallationStore):
    """slack_sdk's store on our engine and on the tables of our metadata (the store
    otherwise queries its own copies, which nothing would check against the schema)."""

    def __init__(self, engine: Engine, *, client_id: str) -> None:
        super().__init__(client_id=client_id, engine=engine, logger=log)
        self.installations = SLACK_INSTALLATIONS
        self.bots = SLACK_BOTS
        self.metadata = SLACK_INSTALLATIONS.metadata


class OAuthStateStore(SQLAlchemyOAuthStateStore):
    """slack_sdk's state store on our engine and table. With a secret, each state also
    carries its signature: one that does not match is refused without a query."""

    def __init__(
        self,
        engine: Engine,
        *,
        secret: str | None = None,
        expiration_seconds: int = STATE_EXPIRATION_SECONDS,
    ) -> None:
        super().__init__(expiration_seconds=expiration_seconds, engine=engine, logger=log)
        self.oauth_states = SLACK_OAUTH_STATES
        self.metadata = SLACK_OAUTH_STATES.metadata
        self._secret = secret.encode() if secret else None

    def _signature(self, state: str) -> str:
        assert self._secret is not None
        return hmac.new(self._secret, state.encode(), hashlib.sha256).hexdigest()[:32]

    def issue(self, *args: object, **kwargs: object) -> str:
        state = super().issue()
        self._forget_expired()
        return f"{state}.{self._signature(state)}" if self._secret else state

    def _forget_expired(self) -> None:
        """slack_sdk deletes a state only when it comes back: the ones that never do (an
        installer who gave up, an install page opened and left) would stay for good.
        Each new one clears those that ran out."""
        states = SLACK_OAUTH_STATES
        now = datetime.now(UTC).replace(tzinfo=None)  # stored naive UTC, as slack_sdk does
        with self.engine.begin() as conn:
            conn.execute(delete(states).where(states.c.expire_at <= now))

    def consume(self, state: str) -> bool:
        if self._secret:
            kept, _, signature = state.rpartition(".")
            if not kept or not hmac.compare_digest(signature, self._signature(kept)):
                return False
            state = kept
        return super().consume(state)


@dataclass(frozen=True)
class TeamBot:
    """The bot of a workspace's latest install: what a message to it is sent with."""

    team_id: str
    token: str
    user_id: str | None
    # The Enterprise Grid org of a workspace installed on its own, which the store's
    # own lookups need beside the team.
    enterprise_id: str | None = None
    # Token rotation on: the token expires and this renews it (once: Slack hands out a
    # new one with each renewal).
    refresh_token: str | None = None


def team_bot(engine: Engine, *, client_id: str, team_id: str) -> TeamBot | None:
    """The latest bot token installed in the workspace `team_id`, or None if Rapport is
    not installed there. By team alone: Rapport's rows carry the team, and a workspace
    of an Enterprise Grid org installed on its own has the org's id beside it."""
    bots = SLACK_BOTS.c
    query = (
        select(bots.bot_token, bots.bot_user_id, bots.enterprise_id, bots.bot_refresh_token)
        .where(
            bots.client_id == client_id,
            bots.team_id == team_id,
            bots.bot_token.is_not(None),
        )
        .order_by(bots.installed_at.desc(), bots.id.desc())
        .limit(1)
    )
    with engine.connect() as conn:
        row = conn.execute(query).first()
    if row is None:
        return None
    return TeamBot(
        team_id=team_id,
        token=row.bot_token,
        user_id=row.bot_user_id,
        enterprise_id=row.enterprise_id,
        refresh_token=row.bot_refresh_token,
    )


@dataclass(frozen=True)
class Installed:
    """A workspace's (or an org-wide) latest install, as an operator reads it."""

    team_id: str | None
    team_name: str | None
    enterprise_id: str | None
    is_enterprise_install: bool
    installed_by: str
    installed_at: datetime
    bot_user_id: str | None
    bot_scopes: str | None
    bot_token: str | None
    bot_token_expires_at: datetime | None


def latest_installs(engine: Engine, *, client_id: str) -> list[Installed]:
    """The latest install of each workspace and each org-wide install, by team."""
    table = SLACK_INSTALLATIONS.c
    query = (
        select(SLACK_INSTALLATIONS)
        .where(table.client_id == client_id)
        .order_by(table.installed_at.desc(), table.id.desc())
    )
    latest: dict[tuple[str | None, str | None], Installed] = {}
    with engine.connect() as conn:
        for row in conn.execute(query):
            latest.setdefault(
                (row.enterprise_id, row.team_id),
                Installed(
                    team_id=row.team_id,
                    team_name=row.team_name,
                    enterprise_id=row.enterprise_id,
                    is_enterprise_install=bool(row.is_enterprise_install),
                    installed_by=row.user_id,
                    installed_at=row.installed_at,
                    bot_user_id=row.bot_user_id,
                    bot_scopes=row.bot_scopes,
                    bot_token=row.bot_token,
                    bot_token_expires_at=row.bot_token_expires_at,
                ),
            )
    return sorted(latest.values(), key=lambda i: (i.enterprise_id or "", i.team_id or ""))
