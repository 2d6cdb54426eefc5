"""Rapport removed from a workspace: `app_uninstalled`, and `tokens_revoked` (in either
order). Acked at once; a revocation of the bot's token, or the uninstall, stops every
send for the workspace (bot/services/uninstalls.py); in distributed mode Bolt's own
revocation listeners then delete the installation's rows (the tokens are dead).

Enterprise Grid: the same events to an org-wide install stop the whole org (every
workspace Rapport knows in it, and the org's own rows); `team_access_revoked` takes the
org-wide install out of some of its workspaces, which stop as if each had uninstalled,
and `team_access_granted` lets it into workspaces (again), which come back."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_bolt.listener.builtins import TokenRevocationListeners

from bot.services import uninstalls
from handlers.edge.caller import workspace_of
from handlers.edge.context import deps_of, utcnow

REMOVED = re.compile(f"^({uninstalls.APP_UNINSTALLED}|{uninstalls.TOKENS_REVOKED})$")


def stop_sending(body: dict[str, Any], event: dict[str, Any], context: BoltContext) -> None:
    """Mark the workspace, or the whole org of an org-wide install, uninstalled if the
    event leaves the bot unable to send."""
    if not uninstalls.stops_sending(event):
        return
    where = workspace_of(body)
    kind, now = str(event["type"]), utcnow()
    with deps_of(context).db.begin() as session:
        if where.team_id is None and where.enterprise_id is not None:
            uninstalls.stop_org(session, enterprise_id=where.enterprise_id, event=kind, now=now)
        elif where.team_id is not None:
            uninstalls.stop(
                session,
                team_id=where.team_id,
                enterprise_id=where.enterprise_id,
                event=kind,
                now=now,
            )


def teams_named(event: dict[str, Any]) -> list[str]:
    """The workspaces a `team_access_*` event names (`team_ids`)."""
    named = event.get("team_ids")
    return [team for team in named if isinstance(team, str)] if isinstance(named, list) else []


def access_revoked(
    ack: Ack, body: dict[str, Any], event: dict[str, Any], context: BoltContext
) -> None:
    ack()
    where = workspace_of(body)
    with deps_of(context).db.begin() as session:
        uninstalls.access_revoked(
            session, team_ids=teams_named(event), enterprise_id=where.enterprise_id, now=utcnow()
        )


def access_granted(ack: Ack, event: dict[str, Any], context: BoltContext) -> None:
    # Each workspace's org was noted before this ran (bot/app/oauth.py, NoteOrgs).
    ack()
    with deps_of(context).db.begin() as session:
        uninstalls.access_granted(session, team_ids=teams_named(event))


def register(app: App) -> None:
    # Only the first listener that matches an event runs, so Bolt's revocation
    # listeners (what `enable_token_revocation_listeners` registers) run from ours.
    store = app.installation_store
    revocation = TokenRevocationListeners(store) if store is not None else None

    def removed(
        ack: Ack, body: dict[str, Any], event: dict[str, Any], context: BoltContext
    ) -> None:
        ack()
        stop_sending(body, event, context)
        if revocation is None:
            return
        if event["type"] == uninstalls.APP_UNINSTALLED:
            revocation.handle_app_uninstalled_events(context)
        else:
            revocation.handle_tokens_revoked_events(event, context)

    app.event(REMOVED)(removed)
    app.event(uninstalls.TEAM_ACCESS_REVOKED)(access_revoked)
    app.event(uninstalls.TEAM_ACCESS_GRANTED)(access_granted)
