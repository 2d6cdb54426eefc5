"""Undo on a change to an account: on the reply to the change, and on the owner's DM.

A lazy listener (acked at once): the undo may restore many rows, and the message is
then redrawn through its response_url to say what was put back. A refusal (not
theirs to undo, the account moved on since) reaches the clicker through the
after-ack runner's error path, leaving the message and its button as they were.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import BoltContext, Respond

from bot.services import lifecycle
from handlers.caller import caller_of
from handlers.context import deps_of, utcnow
from handlers.events.home import refresh_home
from messages import render


def undo(body: dict[str, Any], context: BoltContext, respond: Respond) -> None:
    caller = caller_of(body)
    raw = str((body.get("actions") or [{}])[0].get("value", ""))
    if not raw.isdigit() or len(raw) > 18:
        return
    deps, now = deps_of(context), utcnow()
    with deps.db.begin() as session:
        calendar = deps.calendar_of(session, team_id=caller.team_id, user_id=caller.user_id)
        undone = lifecycle.undo(
            session,
            team_id=caller.team_id,
            change_id=int(raw),
            user_id=caller.user_id,
            calendar=calendar,
            now=now,
        )
        message = render(
            "change_undone", change=undone.change, account=undone.account, changed=undone.changed
        )
        owner = undone.account.owner_id if undone.account is not None else None
    respond(text=message["text"], blocks=message["blocks"], replace_original=True)
    for person in {caller.user_id, owner or caller.user_id}:
        refresh_home(context, team_id=caller.team_id, user_id=person)
