"""Each workspace's client for work outside a request (the sweep, the outbox, the
digests), in distributed mode: the bot token of the workspace's latest install, from
the installation store, or of its Enterprise Grid org's org-wide install; never one
token for every team; with token rotation on, renewed before it runs out, as Bolt
renews a listener's."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackTokenRotationError
from slack_sdk.oauth.token_rotation import TokenRotator
from slack_sdk.web import SlackResponse

from bot.config import Settings
from bot.slackapi.client import make_client
from storage.installs import InstallationStore, TeamBot, team_bot

if TYPE_CHECKING:
    from sqlalchemy import Engine

log = logging.getLogger("rapport.installs")

# How long a team's token is taken as read: a reinstall's new token is used within
# this, and a sweep of many teams asks the database once a team, not once a message.
TOKEN_TTL_S = 60.0
# A rotating token this close to its end is renewed before it is handed out: Bolt's
# margin for a listener's token (OAuthSettings.token_rotation_expiration_minutes), so a
# long sweep never sends with a token that runs out halfway.
RENEW_MINUTES_BEFORE_EXPIRY = 120


class InstalledTeams:
    """`client_for(team_id)` of distributed mode (a `ClientForTeam`), each team's
    client kept for TOKEN_TTL_S. A team with no installation gets a `NotInstalled`
    client, refused `not_authed` as Slack refuses a call without a token, but without
    asking Slack: the outbox holds that team's messages, as for a revoked token, until
    it is installed again.

    With token rotation on, a token about to run out is renewed first (oauth.v2.access
    with the refresh token, through slack_sdk's TokenRotator) and the renewed install
    saved, where Bolt's authorize finds it too. One thread renews a team's token while
    the others asking for that team wait for it: a refresh token is good once."""

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
        self.store = InstallationStore(engine, client_id=self.client_id)
        secret = settings.slack_client_secret
        self.rotator = (
            TokenRotator(
                client_id=self.client_id,
                client_secret=secret.get_secret_value(),
                client=make_client(settings),
            )
            if secret is not None
            else None
        )
        self._clients: dict[str, tuple[float, WebClient]] = {}
        self._lock = threading.Lock()
        self._team_locks: dict[str, threading.Lock] = {}
        # Refresh tokens Slack refused: asking again would be refused again; the team's
        # token is used until Slack refuses it too. Another process (a web server's Bolt,
        # another worker) may have spent it first, renewing the token: so a refusal is
        # called a fault only if the install still holds that refresh token at the next
        # look, once.
        self._refused: set[str] = set()
        self._reported: set[str] = set()

    def __call__(self, team_id: str) -> WebClient:
        kept = self._kept(team_id)
        if kept is not None:
            return kept
        with self._team_lock(team_id):
            # Another thread may have looked it up, and renewed it, while this one waited.
            kept = self._kept(team_id)
            if kept is not None:
                return kept
            token = self._token(team_id)
            client = (
                make_client(self.settings, token=token)
                if token is not None
                else NotInstalled(base_url=self.settings.slack_api_url)
            )
            with self._lock:
                self._clients[team_id] = (self.clock() + self.ttl_s, client)
            return client

    def _kept(self, team_id: str) -> WebClient | None:
        with self._lock:
            kept = self._clients.get(team_id)
        return kept[1] if kept is not None and kept[0] > self.clock() else None

    def _team_lock(self, team_id: str) -> threading.Lock:
        with self._lock:
            return self._team_locks.setdefault(team_id, threading.Lock())

    def _token(self, team_id: str) -> str | None:
        bot = team_bot(self.engine, client_id=self.client_id, team_id=team_id)
        if bot is None:
            log.debug("team %s has no installation of Rapport: its messages wait", team_id)
            return None
        if bot.refresh_token is None:
            return bot.token
        if not bot.org_wide:
            return self._rotating(bot, bot.refresh_token)
        # The workspaces of an org share its install, each under its own team's lock:
        # one renews the org's token while the others wait (an org id is no team id),
        # then they read it again, renewed (a refresh token is good once).
        with self._team_lock(bot.enterprise_id or ""):
            bot = team_bot(self.engine, client_id=self.client_id, team_id=team_id) or bot
            return self._rotating(bot, bot.refresh_token) if bot.refresh_token else bot.token

    def _rotating(self, bot: TeamBot, refresh_token: str) -> str:
        """A rotating token: renewed if it runs out soon, unless Slack refused
        `refresh_token` before."""
        if refresh_token in self._refused:
            self._report_refused(bot, refresh_token)
            return bot.token
        return self._renewed(bot, refresh_token)

    def _report_refused(self, bot: TeamBot, refresh_token: str) -> None:
        if refresh_token in self._reported:
            return
        self._reported.add(refresh_token)
        log.error(
            "team %s: Slack refused to renew its bot token. Its messages wait once the "
            "token runs out, until Rapport is installed there again.",
            bot.team_id,
        )

    def _renewed(self, bot: TeamBot, refresh_token: str) -> str:
        """The token of `bot`, renewed and saved first if it runs out within
        RENEW_MINUTES_BEFORE_EXPIRY. When it cannot be renewed, the token as it is:
        once it runs out Slack refuses it (`token_expired`), and the outbox holds that
        team's messages alone (as for a revoked token) until a token works again."""
        installation = self.store.find_installation(
            enterprise_id=bot.enterprise_id,
            team_id=bot.team_id,
            is_enterprise_install=bot.org_wide,
        )
        if installation is None or self.rotator is None:
            return bot.token
        try:
            renewed = self.rotator.perform_token_rotation(
                installation=installation, minutes_before_expiration=RENEW_MINUTES_BEFORE_EXPIRY
            )
        except SlackTokenRotationError as exc:
            answer = exc.api_error.response
            error = answer.get("error") or f"HTTP {answer.status_code}"
            if answer.status_code >= 500 or answer.status_code == 429:
                return self._not_now(bot, error)
            self._refused.add(refresh_token)
            log.info(
                "team %s: Slack refused to renew its bot token (%s); looked at again at the "
                "next lookup, in case another process renewed it first",
                bot.team_id,
                error,
            )
            return bot.token
        except (URLError, OSError) as exc:
            return self._not_now(bot, str(exc))
        if renewed is None or renewed.bot_token is None:
            return bot.token
        self.store.save(renewed)
        expires = renewed.bot_token_expires_at
        log.info(
            "team %s: tokens renewed (token rotation); the bot's is good until %s",
            bot.team_id,
            datetime.fromtimestamp(expires, UTC).isoformat(timespec="seconds") if expires else "?",
        )
        return renewed.bot_token

    def _not_now(self, bot: TeamBot, error: str) -> str:
        log.warning(
            "team %s: could not renew its bot token (%s); tried again within a minute",
            bot.team_id,
            error,
        )
        return bot.token


class NotInstalled(WebClient):
    """The client of a workspace with no installation: it has no token to send, and a
    call without one is sure to be refused, so each is refused here as Slack would
    (`not_authed`), and nothing goes out with no token at all."""

    def api_call(self, api_method: str, **kwargs: Any) -> SlackResponse:
        refused = SlackResponse(
            client=self,
            http_verb=kwargs.get("http_verb", "POST"),
            api_url=self.base_url + api_method,
            req_args={},
            data={"ok": False, "error": "not_authed"},
            headers={},
            status_code=200,
        )
        return refused.validate()  # raises SlackApiError, as for Slack's answer
