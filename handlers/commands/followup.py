"""/followup: record a commitment to a customer, due on a day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from slack_bolt import Ack, BoltContext

from bot.errors import UsageError
from bot.services import commitments
from bot.services.accounts import clean_account_name
from bot.services.dates import local_today, parse_day
from handlers.context import deps_of, utcnow
from handlers.parsing import split_account, split_keyed
from handlers.replies import ephemeral
from messages import render

COMMAND = "/followup"


@dataclass(frozen=True)
class FollowupInput:
    account: str
    what: str
    due: str


def parse_followup(text: str) -> FollowupInput:
    parts = split_keyed(text, ("due",), command=COMMAND)
    account, what = split_account(parts.head)
    if not account:
        raise UsageError("Start with the account name.", usage=COMMAND)
    if not what:
        raise UsageError("Say what you will do, after the account name.", usage=COMMAND)
    due = parts.fields.get("due")
    if not due:
        raise UsageError("Say when with `due:`.", usage=COMMAND)
    return FollowupInput(account=clean_account_name(account), what=what, due=due)


def followup(ack: Ack, command: dict[str, str], context: BoltContext) -> None:
    request = parse_followup(command.get("text", ""))
    deps = deps_of(context)
    tz = deps.settings.default_tz
    now = utcnow()
    due_on: date = parse_day(request.due, today=local_today(now, tz))
    with deps.db.begin() as session:
        commitment = commitments.add_commitment(
            session,
            team_id=command["team_id"],
            account_name=request.account,
            user_id=command["user_id"],
            what=request.what,
            due_on=due_on,
            tz=tz,
            now=now,
        )
    ack(**ephemeral(render("followup_recorded", commitment=commitment)))
