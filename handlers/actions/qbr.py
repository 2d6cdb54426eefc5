"""The buttons of "which review took place?", asked when a QBR is marked held far
from its planned date: the planned one (held early or late), or an extra one today.

Acked at once; the answer replaces the question through response_url. A click on a
question whose review has been answered since changes nothing and says so.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from sqlalchemy import select

from bot.services import rhythm
from bot.services.errors import UserFacingError
from handlers.caller import team_of
from handlers.commands.rapport_rhythm import owner_calendar, qbr_reply
from handlers.context import deps_of, utcnow
from handlers.events.home import refresh_home
from storage.models import Qbr

_STALE = "That review has been answered since. `/rapport qbr ACCOUNT` shows where it stands."


def _target(body: dict[str, Any]) -> tuple[int, date]:
    """`<qbr id>:<planned date>` as the question's buttons carry it."""
    raw_id, _, raw_day = str((body.get("actions") or [{}])[0].get("value", "")).partition(":")
    try:
        if raw_id.isdigit() and len(raw_id) <= 18:
            return int(raw_id), date.fromisoformat(raw_day)
    except ValueError:
        pass
    raise UserFacingError(_STALE)


def _answer(
    ack: Ack, body: dict[str, Any], context: BoltContext, respond: Respond, *, extra: bool
) -> None:
    ack()
    qbr_id, planned = _target(body)
    deps, now, team_id = deps_of(context), utcnow(), team_of(body)
    with deps.db.begin() as session:
        qbr = session.scalar(select(Qbr).where(Qbr.team_id == team_id, Qbr.id == qbr_id))
        if qbr is None or qbr.next_on != planned:
            raise UserFacingError(_STALE)
        calendar = owner_calendar(session, deps, qbr.account)
        today = calendar.today(now)
        if extra:
            rhythm.note_extra_review(qbr, today=today)
        else:
            rhythm.mark_qbr_held(qbr, review_on=planned, today=today, calendar=calendar, now=now)
        message = qbr_reply(
            qbr,
            qbr.account,
            calendar,
            now,
            held=planned if not extra else None,
            reader_id=body["user"]["id"],
            extra=extra,
        )
    respond(
        text=message["text"],
        blocks=message["blocks"],
        response_type="ephemeral",
        replace_original=True,
    )
    refresh_home(context, team_id=team_id, user_id=body["user"]["id"])


def held_planned(ack: Ack, body: dict[str, Any], context: BoltContext, respond: Respond) -> None:
    _answer(ack, body, context, respond, extra=False)


def held_extra(ack: Ack, body: dict[str, Any], context: BoltContext, respond: Respond) -> None:
    _answer(ack, body, context, respond, extra=True)
