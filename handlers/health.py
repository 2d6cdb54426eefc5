"""/rapport health [ACCOUNT]: explain an account's health score, or rank mine by it."""

from __future__ import annotations

from slack_bolt import Ack, BoltContext

from bot.services.accounts import AccountShown, get_account, resolve_account
from bot.services.buyer_scores import SCALES
from bot.services.health import account_health, owner_health
from handlers.edge.accounts import read_account_of
from handlers.edge.caller import team_of
from handlers.edge.context import deps_of, utcnow
from handlers.edge.replies import ephemeral
from messages import render

# Lines in the list: one section of mrkdwn holds them all, well inside 3,000 characters.
MAX_LISTED = 20


def health(ack: Ack, command: dict[str, str], context: BoltContext, args: str) -> None:
    deps, now = deps_of(context), utcnow()
    team_id = team_of(command)
    with deps.db.begin() as session:
        # Alone in a channel linked to an account: that account, as in other commands.
        reading = (
            read_account_of(
                session, command, args, usage="/rapport health", whole=True, creates=False
            )
            if args.strip()
            else resolve_account(
                session, team_id=team_id, text="", channel_id=command.get("channel_id")
            )
        )
        if reading is not None:
            account = get_account(session, team_id=team_id, name=reading.name)
            scored = account_health(session, team_id=team_id, account_ids=[account.id], now=now)
            message = render(
                "health_account",
                account=AccountShown.of(account),
                health=scored.get(account.id),
                scales=SCALES,
            )
        else:
            ranked = owner_health(session, team_id=team_id, owner_id=command["user_id"], now=now)
            message = render(
                "health_list",
                rows=ranked[:MAX_LISTED],
                more=max(len(ranked) - MAX_LISTED, 0),
                scales=SCALES,
            )
    ack(**ephemeral(message))


# /rapport subcommand -> listener (handlers/rapport.py routes them).
SUBCOMMANDS = {"health": health}
