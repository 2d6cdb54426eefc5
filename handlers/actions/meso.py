"""MESO buttons: start the form from a template, and record which offer the buyer chose."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient

from bot.services import meso as meso_service
from bot.services.errors import UserFacingError
from handlers.caller import team_of
from handlers.context import deps_of, utcnow
from handlers.views.meso import open_meso_form
from messages import render

_STALE = "This button is out of date. Run `/meso ACCOUNT` again."


def start_from_template(
    ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient
) -> None:
    ack()
    action = (body.get("actions") or [{}])[0]
    try:
        raw = json.loads(str(action.get("value", "")))
    except ValueError:
        raise UserFacingError(_STALE) from None
    if not isinstance(raw, dict):
        raise UserFacingError(_STALE)
    account, template = raw.get("account"), raw.get("template")
    if not isinstance(account, str) or not isinstance(template, str):
        raise UserFacingError(_STALE)
    offers = meso_service.template_set(template)
    channel = (body.get("container") or {}).get("channel_id") or (body.get("channel") or {}).get(
        "id"
    )
    open_meso_form(
        client,
        trigger_id=body["trigger_id"],
        channel_id=str(channel) if channel else None,
        account_name=account,
        offers=offers,
    )


def pick(ack: Ack, body: dict[str, Any], context: BoltContext, respond: Respond) -> None:
    ack()
    action = (body.get("actions") or [{}])[0]
    meso_id, _, position = str(action.get("value", "")).partition(":")
    if not (meso_id.isdigit() and position.isdigit()) or len(meso_id) > 18 or len(position) > 2:
        raise UserFacingError(_STALE)
    with deps_of(context).db.begin() as session:
        chosen = meso_service.record_choice_by_position(
            session,
            team_id=team_of(body),
            meso_id=int(meso_id),
            position=int(position),
            user_id=body["user"]["id"],
            now=utcnow(),
        )
        message = render(
            "meso_picked",
            meso=chosen,
            offer=meso_service.chosen_offer(chosen),
            account=chosen.account,
            priorities=meso_service.revealed_priorities(session, chosen.team_id, chosen.account_id),
        )
    respond(
        text=message["text"],
        blocks=message["blocks"],
        response_type="ephemeral",
        replace_original=True,
    )
