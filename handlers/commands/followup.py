"""/followup: record a commitment (ours or the buyer's), or list the open ones."""

from __future__ import annotations

from dataclasses import dataclass

from slack_bolt import Ack, BoltContext

from bot.errors import DidYouMean, Suggestion, UsageError
from bot.services import commitments, followups
from bot.services.accounts import clean_account_name, get_account
from bot.services.dates import DUE
from bot.services.people import day_reader
from handlers.after_ack import learn_person
from handlers.caller import team_of
from handlers.context import deps_of, utcnow
from handlers.events.home import refresh_home
from handlers.parsing import colons_added, split_account, split_keyed
from handlers.replies import ephemeral
from messages import render
from storage.models import CommitmentDirection

COMMAND = "/followup"


@dataclass(frozen=True)
class FollowupInput:
    account: str
    what: str = ""
    due: str = ""
    theirs: bool = False

    @property
    def is_listing(self) -> bool:
        return not self.what and not self.due


def parse_followup(text: str) -> FollowupInput | None:
    """None: list my open follow-ups. Only an account: list that account's."""
    parts = split_keyed(text, ("due", "they"), command=COMMAND)
    account, what = split_account(parts.head)
    theirs = "they" in parts.fields
    if theirs:
        what = " ".join(filter(None, [what, parts.fields["they"]]))
    if not account and not parts.fields:
        return None
    if not account:
        raise UsageError("Start with the account name.", usage=COMMAND)
    due = parts.fields.get("due", "")
    if not what and not due:
        return FollowupInput(account=clean_account_name(account))
    if not what:
        raise UsageError("Say what will be done, after the account name.", usage=COMMAND)
    if not due:
        corrected = colons_added(text, ("due",))
        if corrected is not None:
            raise DidYouMean(
                f"Did you mean `{corrected[1]}`? The date takes a colon after `due`.",
                (Suggestion("Record it", corrected[0]),),
                usage=COMMAND,
            )
        raise UsageError("Say when with `due:`.", usage=COMMAND, key="due")
    return FollowupInput(account=clean_account_name(account), what=what, due=due, theirs=theirs)


def followup(ack: Ack, command: dict[str, str], context: BoltContext) -> None:
    request = parse_followup(command.get("text", ""))
    deps = deps_of(context)
    team_id, user_id = team_of(command), command["user_id"]
    now = utcnow()
    with deps.db.begin() as session:
        calendar = deps.calendar_of(session, team_id=team_id, user_id=user_id)
        if request is None:
            mine = followups.open_commitments(session, team_id=team_id, owner_id=user_id)
            reply = render(
                "followup_list", commitments=mine, account=None, today=calendar.today(now)
            )
        elif request.is_listing:
            account = get_account(session, team_id=team_id, name=request.account)
            theirs = followups.open_commitments(session, team_id=team_id, account_id=account.id)
            reply = render(
                "followup_list", commitments=theirs, account=account, today=calendar.today(now)
            )
        else:
            commitment = commitments.add_commitment(
                session,
                team_id=team_id,
                account_name=request.account,
                user_id=user_id,
                what=request.what,
                due_on=day_reader(
                    session, team_id=team_id, user_id=user_id, today=calendar.today(now)
                ).read(request.due, DUE, usage=COMMAND),
                calendar=calendar,
                now=now,
                direction=CommitmentDirection.THEIRS
                if request.theirs
                else CommitmentDirection.OURS,
            )
            reply = render(
                "followup_recorded",
                commitment=commitment,
                reminder_on=followups.first_reminder_day(commitment, calendar),
                day_off=calendar.why_not_working(commitment.due_on),
            )
    learn_person(context, command, now=now)
    if request is not None and not request.is_listing:
        refresh_home(context, team_id=team_id, user_id=user_id)
    ack(**ephemeral(reply))
