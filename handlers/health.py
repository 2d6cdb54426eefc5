"""/rapport health [ACCOUNT]: explain an account's health score, or rank mine by it;
`/rapport health drop: N below: N` sets when owners hear that a score fell."""

from __future__ import annotations

import re

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient

from bot.services import health_watch
from bot.services.accounts import AccountShown, get_account, resolve_account
from bot.services.buyer_scores import SCALES
from bot.services.errors import UsageError
from bot.services.health import account_health, owner_health
from bot.slackapi.roles import is_workspace_admin
from handlers.edge.accounts import read_account_of
from handlers.edge.after_ack import later
from handlers.edge.caller import team_of
from handlers.edge.context import Deps, deps_of, utcnow
from handlers.edge.parsing import ask_for_colons, split_keyed
from handlers.edge.replies import ephemeral
from messages import render

# Lines in the list: one section of mrkdwn holds them all, well inside 3,000 characters.
MAX_LISTED = 20
RULE_KEYS = ("drop", "below")


# `drop 20 below off`: the rule with its colons left out (an account name never reads so).
_BARE_RULE = re.compile(r"(?:(?:drop|below)\s+(?:\d+|off)(?:\s*(?:points|pts))?\s*)+", re.I)


def health(ack: Ack, command: dict[str, str], context: BoltContext, args: str) -> None:
    if _BARE_RULE.fullmatch(args.strip()):
        ask_for_colons("health", args, RULE_KEYS, health_watch.USAGE, account="")
    typed = split_keyed(args, RULE_KEYS, command=health_watch.USAGE)
    if typed.fields:
        if typed.head:
            raise UsageError(
                "`drop:` and `below:` set the team's rule for every account, so they come "
                "without an account name.",
                usage=health_watch.USAGE,
                key="ACCOUNT",
            )
        _change_rule(ack, command, context, health_watch.read_rule_change(typed.fields))
        return
    deps, now = deps_of(context), utcnow()
    team_id = team_of(command)
    with deps.db.begin() as session:
        rule = health_watch.alert_rule(session, team_id=team_id)
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
                rule=rule,
            )
        else:
            ranked = owner_health(session, team_id=team_id, owner_id=command["user_id"], now=now)
            message = render(
                "health_list",
                rows=ranked[:MAX_LISTED],
                more=max(len(ranked) - MAX_LISTED, 0),
                scales=SCALES,
                rule=rule,
            )
    ack(**ephemeral(message))


def _change_rule(
    ack: Ack, command: dict[str, str], context: BoltContext, change: health_watch.RuleChange
) -> None:
    """A team-wide rule: who may change it is a users.info call, made after the ack."""
    deps, respond = deps_of(context), context.respond
    later(context, command, lambda client: _set_rule(client, change, command, deps, respond))
    ack(**ephemeral(render("health_rule", change=change.fields, rule=None)))


def _set_rule(
    client: WebClient,
    change: health_watch.RuleChange,
    command: dict[str, str],
    deps: Deps,
    respond: Respond | None,
) -> None:
    """Runs after the ack; a refusal reaches the user through after_ack's error path."""
    assert respond is not None
    team_id, user_id = team_of(command), command["user_id"]
    admin = is_workspace_admin(client, user_id)
    with deps.db.begin() as session:
        rule = health_watch.set_alert_rule(
            session,
            change,
            team_id=team_id,
            user_id=user_id,
            is_workspace_admin=admin,
            now=utcnow(),
        )
    message = render("health_rule", change=change.fields, rule=rule)
    respond(text=message["text"], blocks=message["blocks"], response_type="ephemeral")


# /rapport subcommand -> listener (handlers/rapport.py routes them).
SUBCOMMANDS = {"health": health}
