"""/rapport org [home: workspace|org] [digests: workspace|org]: in an Enterprise Grid
org, whether App Home and the weekly digests take in the org's other workspaces;
alone, the org's choice as it stands. Changing it is for an org admin or owner, which
is a users.info call, made after the ack."""

from __future__ import annotations

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient

from bot.services import org_view
from bot.services.errors import UsageError
from bot.slackapi.roles import is_org_admin
from handlers.edge.after_ack import later
from handlers.edge.caller import team_of
from handlers.edge.context import Deps, deps_of, utcnow
from handlers.edge.parsing import ask_for_colons, split_keyed
from handlers.edge.replies import ephemeral
from messages import render
from storage import orgs


def org(ack: Ack, command: dict[str, str], context: BoltContext, args: str) -> None:
    typed = split_keyed(args, org_view.KEYS, command=org_view.USAGE)
    if typed.head:
        ask_for_colons("org", args, org_view.KEYS, org_view.USAGE, account="")
        raise UsageError(
            f"I read `{typed.head[:40]}`, which is not a setting: write `home:` and "
            "`digests:`, each with `workspace` or `org`.",
            usage=org_view.USAGE,
        )
    change = org_view.read_change(typed.fields) if typed.fields else None
    deps = deps_of(context)
    with deps.db() as session:
        enterprise_id = orgs.org_of(session, team_id=team_of(command))
        scopes = org_view.scopes_of_org(session, enterprise_id=enterprise_id or "")
    if enterprise_id is None:
        ack(**ephemeral(render("org_view", mode="outside")))
        return
    if change is None:
        ack(**ephemeral(render("org_view", mode="shown", scopes=scopes)))
        return
    respond = context.respond
    later(
        context,
        command,
        lambda client: _set(client, change, command, deps, respond, enterprise_id=enterprise_id),
    )
    ack(**ephemeral(render("org_view", mode="checking", change=change.fields)))


def _set(
    client: WebClient,
    change: org_view.ScopeChange,
    command: dict[str, str],
    deps: Deps,
    respond: Respond | None,
    *,
    enterprise_id: str,
) -> None:
    """Runs after the ack; a refusal reaches the user through after_ack's error path."""
    assert respond is not None
    user_id = command["user_id"]
    admin = is_org_admin(client, user_id, enterprise_id=enterprise_id)
    with deps.db.begin() as session:
        scopes = org_view.set_scopes(
            session,
            change,
            enterprise_id=enterprise_id,
            user_id=user_id,
            is_org_admin=admin,
            now=utcnow(),
        )
    message = render("org_view", mode="set", scopes=scopes)
    respond(text=message["text"], blocks=message["blocks"], response_type="ephemeral")


# /rapport subcommand -> listener (handlers/rapport.py routes them).
SUBCOMMANDS = {"org": org}
