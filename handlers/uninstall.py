"""Rapport removed from a workspace: `app_uninstalled`, and `tokens_revoked` (in either
order). Acked at once; a revocation of the bot's token, or the uninstall, stops every
send for the workspace (bot/services/uninstalls.py); in distributed mode Bolt's own
revocation listeners then delete the installation's rows (the tokens are dead)."""

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
    """Mark the workspace uninstalled if the event leaves the bot unable to send."""
    if not uninstalls.stops_sending(event):
        return
    team_id, enterprise_id = workspace_of(body)
    with deps_of(context).db.begin() as session:
        uninstalls.stop(
            session,
            team_id=team_id,
            enterprise_id=enterprise_id,
            event=str(event["type"]),
            now=utcnow(),
        )


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
