"""/concede: log a give (and its get) on an account, or show the account's log."""

from __future__ import annotations

from dataclasses import dataclass

from slack_bolt import Ack, BoltContext

from bot.errors import UsageError
from bot.services import concessions
from bot.services.accounts import clean_account_name
from handlers.context import deps_of, utcnow
from handlers.parsing import split_keyed
from handlers.replies import ephemeral
from messages import render

COMMAND = "/concede"


@dataclass(frozen=True)
class ConcedeInput:
    account: str
    give: str | None = None
    get: str | None = None
    trigger: str | None = None


def parse_concede(text: str) -> ConcedeInput:
    parts = split_keyed(text, ("give", "get", "trigger"), command=COMMAND)
    if not parts.head:
        raise UsageError("Start with the account name.", usage=COMMAND)
    account = clean_account_name(parts.head)
    if not parts.fields:
        return ConcedeInput(account=account)
    give = parts.fields.get("give")
    if not give:
        raise UsageError("Say what we give with `give:`.", usage=COMMAND)
    return ConcedeInput(
        account=account,
        give=give,
        get=parts.fields.get("get") or None,
        trigger=parts.fields.get("trigger") or None,
    )


def concede(ack: Ack, command: dict[str, str], context: BoltContext) -> None:
    request = parse_concede(command.get("text", ""))
    deps = deps_of(context)
    team_id = command["team_id"]
    if request.give is None:
        with deps.db.begin() as session:
            log = concessions.concession_log(session, team_id=team_id, account_name=request.account)
        ack(**ephemeral(render("concession_log", log=log)))
        return
    with deps.db.begin() as session:
        entry = concessions.log_concession(
            session,
            team_id=team_id,
            account_name=request.account,
            user_id=command["user_id"],
            give=request.give,
            get=request.get,
            trigger=request.trigger,
            now=utcnow(),
        )
        balance = concessions.balance_of(session, team_id=team_id, account_id=entry.account_id)
    ack(**ephemeral(render("concession_logged", entry=entry, balance=balance)))
