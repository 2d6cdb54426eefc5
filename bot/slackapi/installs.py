"""Each workspace's client for work outside a request (the sweep, the outbox, the
digests), in distributed mode: the bot token of the workspace's latest install, from
the installation store, never one token for every team."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from slack_sdk import WebClient

from bot.config import Settings
from bot.slackapi.client import make_client
from storage.installs import team_bot

if TYPE_CHECKING:
    from sqlalchemy import Engine

log = logging.getLogger("rapport.installs")

# How long a team's token is taken as read: a reinstall's new token is used within
# this, and a sweep of many teams asks the database once a team, not once a message.
TOKEN_TTL_S = 60.0


class InstalledTeams:
    """`client_for(team_id)` of distributed mode (a `ClientForTeam`), each team's
    client kept for TOKEN_TTL_S. A team with no installation gets a client without a
    token: Slack refuses it (`not_authed`) and the outbox holds that team's messages,
    as for a revoked token, until it is installed again."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        *,
        ttl_s: float = TOKEN_TTL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.client_id = settings.slack_client_id or ""
        self.ttl_s = ttl_s
        self.clock = clock
        self._clients: dict[str, tuple[float, WebClient]] = {}
        self._lock = threading.Lock()

    def __call__(self, team_id: str) -> WebClient:
        now = self.clock()
        with self._lock:
            kept = self._clients.get(team_id)
        if kept is not None and kept[0] > now:
            return kept[1]
        bot = team_bot(self.engine, client_id=self.client_id, team_id=team_id)
        if bot is None:
            log.debug("team %s has no installation of Rapport: its messages wait", team_id)
        client = make_client(self.settings, token=bot.token if bot else None)
        with self._lock:
            self._clients[team_id] = (now + self.ttl_s, client)
        return client
