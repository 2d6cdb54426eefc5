"""/followup: record a commitment (ours or the buyer's), or list the open ones. The
reminders it leads to, and their buttons, are handlers/nudges.py; Done and Snooze on
App Home are handlers/home.py. A client's question (`they asked:`), `ACCOUNT replied`
and the team's reply norm (`norm:`) are read here and handled in handlers/questions.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, App, BoltContext

from bot.services import followups, questions
from bot.services.accounts import AccountShown, get_account
from bot.services.calendar import WorkCalendar
from bot.services.dates import DUE, DayReader
from bot.services.due import MAX_QUESTIONS
from bot.services.errors import DidYouMean, Suggestion, UsageError
from bot.services.followups import CommitmentShown
from bot.services.people import day_reader
from handlers.edge.accounts import read_account_of, with_new_account
from handlers.edge.after_ack import learn_person
from handlers.edge.caller import team_of
from handlers.edge.command_help import asks_for_help, command_help
from handlers.edge.context import deps_of, utcnow
from handlers.edge.home_tab import refresh_home
from handlers.edge.parsing import colons_added, split_keyed
from handlers.edge.replies import ephemeral
from handlers.questions import norm, record, replied
from messages import render
from storage.models import CommitmentDirection

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlalchemy.orm import Session

    from storage.models import Commitment

COMMAND = "/followup"
# What will be done, as the usage line names it, in errors about it.
WHAT = "WHAT YOU WILL DO"


@dataclass(frozen=True)
class FollowupInput:
    """The text before the fields (the account, then what will be done) and the fields."""

    head: str
    text: str
    due: str = ""
    they: str | None = None  # the buyer's promise, when `they:` is given
    asked: str | None = None  # the client's question, when `asked:` is given
    norm: str | None = None  # the team's reply norm, when `norm:` is given

    @property
    def records(self) -> bool:
        return bool(self.due) or self.they is not None


def parse_followup(text: str) -> FollowupInput | None:
    """None: list my open follow-ups."""
    parts = split_keyed(text, ("due", "they", "asked", "norm"), command=COMMAND)
    if not parts.head and not parts.fields:
        return None
    fields = parts.fields
    if "norm" in fields and (parts.head or len(fields) > 1):
        raise UsageError(
            "The reply norm is the whole team's, so it goes alone: `/followup norm: 3h`.",
            usage=COMMAND,
            key="norm",
        )
    if "asked" in fields and ("due" in fields or fields.get("they")):
        raise UsageError(
            "A question runs on the team's reply clock, not to a due day: write "
            "`/followup ACCOUNT they asked: …` alone, and a promise of theirs as its own "
            "`/followup ACCOUNT they: … due: …`.",
            usage=COMMAND,
            key="asked",
        )
    return FollowupInput(
        head=parts.head,
        text=text,
        due=fields.get("due", ""),
        they=fields.get("they"),
        asked=fields.get("asked"),
        norm=fields.get("norm"),
    )


def what_of(request: FollowupInput, rest: str, reader: DayReader) -> str:
    """What will be done: the words after the account, and the buyer's promise."""
    what = " ".join(filter(None, [rest, request.they]))
    if not what and request.records:
        raise UsageError("Say what will be done, after the account name.", usage=COMMAND, key=WHAT)
    if what and not request.due:
        corrected = colons_added(request.text, ("due",))
        if corrected is not None:
            raise DidYouMean(
                f"Did you mean `{corrected[1]}`? The date takes a colon after `due`.",
                (Suggestion("Record it", corrected[0]),),
                usage=COMMAND,
            )
        # `send the deck by 15 Dec`: the date is there, written as a sentence ends.
        words = request.text.split()
        ending = reader.date_at_end(request.text, keep_words=len(words) - len(what.split()))
        if ending is not None:
            raise DidYouMean(
                f"Did you mean `{ending.before} due: {ending.day}`? "
                "A follow-up's date goes after `due:`, at the end.",
                (Suggestion("Record it", f"{ending.before} due: {ending.day}"),),
                usage=COMMAND,
            )
        raise UsageError("Say when with `due:`.", usage=COMMAND, key="due")
    return what


def followup(ack: Ack, command: dict[str, str], context: BoltContext) -> None:
    if asks_for_help(command):
        ack(**ephemeral(command_help(COMMAND)))
        return
    request = parse_followup(command.get("text", ""))
    if request is not None and request.norm is not None:
        norm(ack, command, context, request.norm)
        return
    deps = deps_of(context)
    team_id, user_id = team_of(command), command["user_id"]
    now = utcnow()
    # Whose App Home the command changes, besides the caller's when it records.
    changed: set[str] = set()
    with deps.db.begin() as session:
        calendar = deps.calendar_of(session, team_id=team_id, user_id=user_id)
        if request is not None and request.asked is not None:
            reply, changed = record(
                session, command, deps, head=request.head, asked=request.asked, now=now
            )
        elif request is not None and not request.records and _says_replied(request.head):
            head = request.head.rsplit(" ", 1)[0]
            reply, changed = replied(session, command, deps, head=head, now=now)
        elif request is not None and not request.records and _says_done(request.head):
            reply, closed = _done(session, request, command, calendar, now)
            if closed:
                changed.add(user_id)
        elif request is None:
            mine = followups.open_commitments(session, team_id=team_id, owner_id=user_id)
            owed = questions.owed_replies(
                session, team_id=team_id, user_id=user_id, now=now, limit=MAX_QUESTIONS
            )
            reply = _listing(mine, owed, None, calendar, now)
        else:
            reply = _account_reply(session, request, command, calendar, now)
    learn_person(context, command, now=now)
    if request is not None and request.records:
        changed.add(user_id)
    for person in changed:
        refresh_home(context, team_id=team_id, user_id=person)
    ack(**ephemeral(reply))


def _listing(
    commitments: Sequence[Commitment],
    owed: questions.OwedReplies,
    account: AccountShown | None,
    calendar: WorkCalendar,
    now: datetime,
) -> dict[str, Any]:
    """`/followup [ACCOUNT]`: the open follow-ups, after the replies owed to clients'
    questions (as `/rapport due` lists them), so "nothing open" is never said of an
    account with a question on the clock."""
    return render(
        "followup_list",
        commitments=[CommitmentShown.of(c) for c in commitments],
        owed=owed,
        account=account,
        today=calendar.today(now),
        tz=calendar.tz,
    )


def _says_replied(head: str) -> bool:
    """`/followup ACCOUNT replied`: the account's questions are answered."""
    words = head.split()
    return len(words) > 1 and words[-1].casefold() in ("replied", "answered")


# The last word of `/followup ACCOUNT [WHAT] done`: a follow-up kept, closed by command.
DONE_WORDS = frozenset({"done", "kept", "finished", "completed"})


def _says_done(head: str) -> bool:
    words = head.split()
    return len(words) > 1 and words[-1].casefold().strip(".!") in DONE_WORDS


def _done(
    session: Session,
    request: FollowupInput,
    command: dict[str, str],
    calendar: WorkCalendar,
    now: datetime,
) -> tuple[dict[str, Any], bool]:
    """`/followup ACCOUNT [WHAT] done`: close the caller's follow-up on the account
    that WHAT reads like (their only one, without WHAT), as its Done button does; or
    list theirs to choose from. True when one was closed."""
    team_id, user_id = team_of(command), command["user_id"]
    head = request.head.rsplit(" ", 1)[0]
    reading = read_account_of(session, command, head, usage=COMMAND, creates=False)
    account = get_account(session, team_id=team_id, name=reading.name)
    today = calendar.today(now)
    outcome = followups.done_by_command(
        session,
        team_id=team_id,
        account_id=account.id,
        user_id=user_id,
        what=reading.rest,
        today=today,
        now=now,
    )
    reply = render(
        "followup_done",
        account=AccountShown.of(account),
        closed=CommitmentShown.of(outcome.closed) if outcome.closed else None,
        left=[CommitmentShown.of(c) for c in outcome.open],
        matches=outcome.matches,
        what=reading.rest,
        today=today,
    )
    return reply, outcome.closed is not None


def _account_reply(
    session: Session,
    request: FollowupInput,
    command: dict[str, str],
    calendar: WorkCalendar,
    now: datetime,
) -> dict[str, Any]:
    """Record the follow-up on the account the text names, or list the account's."""
    team_id, user_id = team_of(command), command["user_id"]
    reading = read_account_of(
        session, command, request.head, usage=COMMAND, creates=request.records, new_ok=True
    )
    reader = day_reader(session, team_id=team_id, user_id=user_id, today=calendar.today(now))
    what = what_of(request, reading.rest, reader)
    if not what:
        account = get_account(session, team_id=team_id, name=reading.name)
        theirs = followups.open_commitments(session, team_id=team_id, account_id=account.id)
        owed = questions.owed_replies(
            session, team_id=team_id, account_id=account.id, now=now, limit=MAX_QUESTIONS
        )
        return _listing(theirs, owed, AccountShown.of(account), calendar, now)
    commitment = followups.add_commitment(
        session,
        team_id=team_id,
        account_name=reading.name,
        user_id=user_id,
        what=what,
        due_on=reader.read(request.due, DUE, usage=COMMAND),
        calendar=calendar,
        now=now,
        direction=CommitmentDirection.OURS if request.they is None else CommitmentDirection.THEIRS,
    )
    message = render(
        "followup_recorded",
        commitment=CommitmentShown.of(commitment),
        reminder_on=followups.first_reminder_day(commitment, calendar),
        day_off=calendar.why_not_working(commitment.due_on),
    )
    return with_new_account(message, reading)


# Slash command -> listener (handlers/rapport.py lists them in help).
COMMANDS = {COMMAND: followup}


def register(app: App) -> None:
    app.command(COMMAND)(followup)
