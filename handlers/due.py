"""/rapport due: everything you have due or coming up, every kind in one list.

The reminder DM names it when it cannot show everything, so it lists every kind a
reminder can be about: replies owed to clients' questions, follow-ups, promises
escalated to you, QBRs, check-ins and accounts gone quiet.
"""

from __future__ import annotations

from slack_bolt import Ack, BoltContext

from bot.services import due
from bot.services.errors import UsageError
from handlers.edge.caller import team_of
from handlers.edge.context import deps_of, utcnow
from handlers.edge.replies import ephemeral
from messages import render

USAGE = "/rapport due"


def due_now(ack: Ack, command: dict[str, str], context: BoltContext, args: str) -> None:
    if args.strip():
        raise UsageError(
            f"`/rapport due` takes nothing after it (I read “{args.strip()[:40]}”): "
            "it lists all yours.",
            usage=USAGE,
        )
    deps, now = deps_of(context), utcnow()
    team_id, user_id = team_of(command), command["user_id"]
    with deps.db() as session:
        calendar = deps.calendar_of(session, team_id=team_id, user_id=user_id)
        listing = due.due_list(
            session, team_id=team_id, user_id=user_id, today=calendar.today(now), now=now
        )
        message = render("due_list", due=listing, today=listing.today, tz=calendar.tz)
    ack(**ephemeral(message))


# /rapport subcommand -> listener (handlers/rapport.py routes them).
SUBCOMMANDS = {"due": due_now}
