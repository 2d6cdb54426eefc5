"""Distributed mode's Bolt wiring: Slack's OAuth flow on Rapport's database and pages,
and each request's token from the installation of the workspace it comes from.

The flow is Bolt's own (`OAuthFlow`): /slack/install issues a state (kept in the
database, and set as a cookie in the installer's browser) and shows the install page;
/slack/oauth_redirect checks the state against both, exchanges Slack's code
(`oauth.v2.access`) and saves the installation. Only the pages are ours
(messages/pages.py). What the app asks for is read once from manifest.yml, the file an
admin creates the Slack app from, so that the two cannot disagree.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from slack_bolt import BoltContext, BoltRequest, BoltResponse
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.authorize import InstallationStoreAuthorize
from slack_bolt.middleware import Middleware
from slack_bolt.oauth import OAuthFlow
from slack_bolt.oauth.callback_options import CallbackOptions, FailureArgs, SuccessArgs
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from slack_sdk.errors import SlackTokenRotationError
from slack_sdk.oauth.installation_store import Installation

from bot.config import Settings
from bot.services import uninstalls
from handlers.edge.caller import team_of, workspace_event
from handlers.uninstall import teams_named
from messages.pages import failure_reason, page
from storage.db import SessionFactory, make_session_factory
from storage.installs import (
    STATE_EXPIRATION_SECONDS,
    InstallationStore,
    OAuthStateStore,
    record_enterprise,
)

if TYPE_CHECKING:
    from sqlalchemy import Engine

log = logging.getLogger("rapport.installs")

# bot/app/manifest.yml is a link to the checkout's manifest.yml, so that an installed
# wheel carries its content (pyproject.toml's package data) and a checkout reads the
# one file an admin creates the app from.
MANIFEST = Path(__file__).with_name("manifest.yml")
_HTML = "text/html; charset=utf-8"


@dataclass(frozen=True)
class Scopes:
    bot: tuple[str, ...]
    user: tuple[str, ...]


@cache
def manifest_scopes(path: Path = MANIFEST) -> Scopes:
    """The bot and user scopes manifest.yml asks for (`oauth_config.scopes`)."""
    manifest = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    scopes = (manifest.get("oauth_config") or {}).get("scopes") or {}
    return Scopes(bot=tuple(scopes.get("bot") or ()), user=tuple(scopes.get("user") or ()))


class InstallFlow(OAuthFlow):
    """Bolt's OAuth flow with Rapport's install page."""

    def build_install_page_html(self, url: str, request: BoltRequest) -> str:
        return page("install", authorize_url=url)

    def note_orgs(self) -> NoteOrgs:
        """The middleware that notes the orgs of workspaces seen through events."""
        authorize = self.settings.authorize
        assert isinstance(authorize, TeamAuthorize)
        return NoteOrgs(authorize.orgs)


def _installed(args: SuccessArgs, *, db: SessionFactory) -> BoltResponse:
    installed = args.installation
    log.info(
        "Rapport installed in team %s (enterprise %s) by %s",
        installed.team_id,
        installed.enterprise_id,
        installed.user_id,
    )
    # Back within the retention period after an uninstall: everything is kept. An
    # org-wide install brings back the org and each workspace Rapport knows in it.
    with db.begin() as session:
        if installed.team_id:
            uninstalls.welcome_back(session, team_id=installed.team_id)
        elif installed.is_enterprise_install and installed.enterprise_id:
            uninstalls.welcome_back_org(session, enterprise_id=installed.enterprise_id)
    body = page(
        "installed",
        team_name=installed.team_name or installed.enterprise_name,
        slack_url=f"slack://app?team={installed.team_id or ''}&id={installed.app_id or ''}",
    )
    return _page(200, body, args.settings)


def _not_installed(args: FailureArgs) -> BoltResponse:
    # A refused consent or a stale link is an installer's, not a fault: no traceback.
    log.warning("an install did not finish: %r", args.reason)
    body = page(
        "install_failed",
        reason=failure_reason(args.reason),
        install_path=args.settings.install_path,
    )
    return _page(args.suggested_status_code, body, args.settings)


def _page(status: int, body: str, settings: OAuthSettings) -> BoltResponse:
    """A page the way back from Slack ends on; the state's cookie has done its work."""
    headers: dict[str, str | Sequence[str]] = {
        "Content-Type": _HTML,
        "Set-Cookie": settings.state_utils.build_set_cookie_for_deletion(),
    }
    return BoltResponse(status=status, body=body, headers=headers)


# How long a process trusts that it wrote a workspace's org: after that the next request
# writes it again, in case the workspace's rows were purged meanwhile (an uninstall's
# retention period ran out, in another process).
ORG_REWRITE_S = 3600.0


class OrgsOfWorkspaces:
    """Notes the Enterprise Grid org each workspace's requests name, where the sweep
    finds it (storage.installs.team_bot): a workspace served by an org-wide install
    has no install of its own. Written once a workspace in a process (again when its
    org changes, or after ORG_REWRITE_S), so only a workspace's first request pays for
    a write."""

    def __init__(self, engine: Engine, clock: Callable[[], float] = time.monotonic) -> None:
        self.engine = engine
        self.clock = clock
        self._written: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def note(self, *, team_id: str, enterprise_id: str) -> None:
        now = self.clock()
        with self._lock:
            written = self._written.get(team_id)
        if written is not None and written[0] == enterprise_id and now - written[1] < ORG_REWRITE_S:
            return
        if not record_enterprise(
            self.engine, team_id=team_id, enterprise_id=enterprise_id, now=datetime.now(UTC)
        ):
            return  # the request is served all the same; the next one tries again
        with self._lock:
            self._written[team_id] = (enterprise_id, now)


class NoteOrgs(Middleware):
    """Notes the org of the workspaces an org-wide install's events come from. Bolt
    authorizes such an event by the org alone (its `authorizations[0].team_id` is
    null), so TeamAuthorize sees no workspace: a workspace seen only through events
    (App Home opened, say) would have no known org, and the sweep no token for it.
    The workspace is the envelope's team; `team_access_granted` names the workspaces
    the org let Rapport into. Runs after Bolt's authorization, and writes once a
    workspace in a process (OrgsOfWorkspaces), so the ack waits for no query."""

    def __init__(self, orgs: OrgsOfWorkspaces) -> None:
        self.orgs = orgs

    def process(
        self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]
    ) -> BoltResponse | None:
        context = req.context
        if req.body.get("type") == "event_callback" and context.enterprise_id:
            for team in self.teams(req):
                if team != context.enterprise_id:
                    self.orgs.note(team_id=team, enterprise_id=context.enterprise_id)
        return next()

    @staticmethod
    def teams(req: BoltRequest) -> list[str]:
        """The workspaces of the org an event shows to be served by its install."""
        event = req.body.get("event") or {}
        if event.get("type") == uninstalls.TEAM_ACCESS_GRANTED:
            return teams_named(event)
        if workspace_event(req.body) or not req.context.is_enterprise_install:
            return []  # a workspace's own install: TeamAuthorize noted its org
        if req.context.authorize_result is None:
            return []
        return [team_of(req.body)]


class TeamAuthorize(InstallationStoreAuthorize):
    """Bolt's authorize from the installation store: each request gets the token of its
    workspace's latest install, or its Enterprise Grid org's (whose org it notes for the
    sweep). The auth.test Bolt asks for each token is remembered (cache_enabled), so a
    request costs Slack nothing after its token's first; a workspace without an
    installation is logged once, not at every request."""

    def __init__(self, settings: OAuthSettings, client: WebClient, *, engine: Engine) -> None:
        super().__init__(
            logger=log,
            installation_store=settings.installation_store,
            client_id=settings.client_id,
            client_secret=settings.client_secret,
            token_rotation_expiration_minutes=settings.token_rotation_expiration_minutes,
            cache_enabled=True,
            client=client,
        )
        self._told: set[tuple[str | None, str | None]] = set()
        self._lock = threading.Lock()
        self.orgs = OrgsOfWorkspaces(engine)
        # Refresh tokens Slack refused: not asked again at every request.
        self._refused: set[str] = set()

    def __call__(
        self,
        *,
        context: BoltContext,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None,
        **actor: Any,
    ) -> AuthorizeResult | None:
        found = super().__call__(
            context=context, enterprise_id=enterprise_id, team_id=team_id, user_id=user_id, **actor
        )
        if found is not None and team_id and enterprise_id:
            self.orgs.note(team_id=team_id, enterprise_id=enterprise_id)
        workspace = (enterprise_id, team_id)
        with self._lock:
            if found is not None:
                self._told.discard(workspace)
                return found
            if workspace in self._told:
                return None
            self._told.add(workspace)
        log.warning(
            "a request from team %s (enterprise %s), where Rapport has no working install: "
            "answered with how to install it (logged once a team)",
            team_id,
            enterprise_id,
        )
        return None

    def _rotate_and_save_tokens_if_necessary(
        self, installation: Installation | None
    ) -> Installation | None:
        """Bolt drops the request when a renewal fails, though the token it has is good
        for up to two hours more (it renews that early) and another process may just
        have renewed it (a refresh token is good once): the request goes on with the
        token as stored, and is refused only if Slack refuses that token too."""
        refresh_token = installation.bot_refresh_token if installation else None
        if refresh_token in self._refused:
            return None
        try:
            return super()._rotate_and_save_tokens_if_necessary(installation)
        except SlackTokenRotationError as exc:
            if refresh_token:
                self._refused.add(refresh_token)
            log.warning(
                "team %s: Slack did not renew its bot token (%s); this request uses it as is",
                installation.team_id if installation else None,
                exc.api_error.response.get("error"),
            )
            return None


def install_flow(settings: Settings, *, engine: Engine, client: WebClient) -> InstallFlow:
    """The OAuth flow of distributed mode, on `engine`, calling Slack through `client`."""
    scopes = manifest_scopes()
    state_secret = settings.slack_state_secret
    oauth = OAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.require("slack_client_secret"),
        scopes=list(scopes.bot),
        user_scopes=list(scopes.user),
        installation_store=InstallationStore(engine, client_id=settings.slack_client_id or ""),
        state_store=OAuthStateStore(
            engine, secret=state_secret.get_secret_value() if state_secret else None
        ),
        state_expiration_seconds=STATE_EXPIRATION_SECONDS,
        callback_options=CallbackOptions(
            success=partial(_installed, db=make_session_factory(engine)), failure=_not_installed
        ),
        logger=log,
    )
    oauth.authorize = TeamAuthorize(oauth, client, engine=engine)
    return InstallFlow(client=client, logger=log, settings=oauth)
