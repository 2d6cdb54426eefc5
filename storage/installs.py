"""Distributed mode's installations on Rapport's own database: slack_sdk's SQLAlchemy
installation and OAuth state stores, reading and writing the tables the migrations
made (storage/models/installs.py), and the queries Rapport adds: a team's bot token (its
own install's, or its Enterprise Grid org's), the org a workspace belongs to, and each
workspace's latest install for `rapport installs`.
Only the composition root and the Slack helpers import this module: it brings slack_sdk.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import cast

from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import Connection, Engine, Table, and_, case, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from storage.models.installs import (
    SLACK_BOTS,
    SLACK_INSTALLATIONS,
    SLACK_OAUTH_STATES,
    TeamEnterprise,
)
from storage.models.scheduling import UserPrefs

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
    """The bot that serves a workspace: what a message to it is sent with."""

    team_id: str
    token: str
    user_id: str | None
    # The Enterprise Grid org of the install, which the store's own lookups need
    # beside the team.
    enterprise_id: str | None = None
    # Token rotation on: the token expires and this renews it (once: Slack hands out a
    # new one with each renewal).
    refresh_token: str | None = None
    # The org's install (Enterprise Grid, installed for the whole org), stored with no
    # team: the workspace has none of its own.
    org_wide: bool = False


def team_bot(engine: Engine, *, client_id: str, team_id: str) -> TeamBot | None:
    """The latest bot token that serves the workspace `team_id`: its own install's,
    else the org-wide install of the Enterprise Grid org its requests named
    (`record_enterprise`); None if Rapport is installed for neither."""
    bots = SLACK_BOTS.c
    org = select(TeamEnterprise.enterprise_id).where(TeamEnterprise.team_id == team_id)
    own = bots.team_id == team_id
    orgs = and_(
        bots.is_enterprise_install,
        bots.team_id.is_(None),
        bots.enterprise_id == org.scalar_subquery(),
    )
    query = (
        select(
            bots.bot_token,
            bots.bot_user_id,
            bots.enterprise_id,
            bots.bot_refresh_token,
            bots.is_enterprise_install,
        )
        .where(bots.client_id == client_id, bots.bot_token.is_not(None), or_(own, orgs))
        # The workspace's own install first: an admin installed it there on purpose.
        .order_by(case((own, 0), else_=1), bots.installed_at.desc(), bots.id.desc())
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
        org_wide=bool(row.is_enterprise_install),
    )


def record_enterprise(engine: Engine, *, team_id: str, enterprise_id: str, now: datetime) -> bool:
    """Note that the workspace `team_id` belongs to the Enterprise Grid org
    `enterprise_id` (a workspace moved to another org is noted there); False if the
    database refused, which a request serves on without (its workspace's next one
    notes it)."""
    table = cast(Table, TeamEnterprise.__table__)
    insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
    added = insert(table).values(team_id=team_id, enterprise_id=enterprise_id, seen_at=now)
    upsert = added.on_conflict_do_update(
        index_elements=[table.c.team_id],
        set_={"enterprise_id": added.excluded.enterprise_id, "seen_at": added.excluded.seen_at},
    )
    try:
        with engine.begin() as conn:
            conn.execute(upsert)
            _move_people(conn, team_id=team_id, enterprise_id=enterprise_id)
    except SQLAlchemyError:
        log.warning(
            "could not note that team %s belongs to enterprise %s",
            team_id,
            enterprise_id,
            exc_info=True,
        )
        return False
    return True


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


def _move_people(conn: Connection, *, team_id: str, enterprise_id: str) -> None:
    """The settings people have under the workspace go to its org, where they are read
    from now on (storage.orgs, people_scope): a workspace noted in its org after its
    people set their hours (a workspace met before orgs were noted, migration 0023's
    counterpart). A person the org already has settings for keeps those, the ones its
    other workspaces use; nothing to move, the usual case, costs two indexed statements."""
    prefs = cast(Table, UserPrefs.__table__)
    theirs = prefs.alias("theirs")
    org_has = (
        select(theirs.c.user_id)
        .where(theirs.c.team_id == enterprise_id, theirs.c.user_id == prefs.c.user_id)
        .exists()
    )
    conn.execute(
        update(prefs).where(prefs.c.team_id == team_id, ~org_has).values(team_id=enterprise_id)
    )
    conn.execute(delete(prefs).where(prefs.c.team_id == team_id))
