"""The account a command, modal or button names, read by the one resolver.

A command reads its account with `read_account_of(session, command, text, …)`. A near
miss raises AccountUnsure; the app's error path answers it with `account_question`:
*Did you mean Globex?* and a button per answer. Each button carries the command and
its text (`AccountChoice`); the click runs the same command again with the answer
(handlers/rapport.py), so nothing is stored before the rep chooses.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import AfterValidator, Field, ValidationError

from bot.services.accounts import Reading, get_or_create_account, resolve_account
from bot.services.errors import AccountUnsure, NotFound, UsageError
from bot.services.errors import reading as reading_key
from handlers.edge.caller import team_of
from messages import render
from messages.ids import ACCOUNT_CHOICE_PREFIX
from messages.payloads import MAX_BUTTON_VALUE, ButtonValue, PayloadTooLarge, RowId

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.orm import Session

    from storage.models import Account

# The account as usage lines name it (`/rapport won ACCOUNT`), named by its errors.
ACCOUNT = "ACCOUNT"
# Where a re-run command carries the rep's answer (never in a command Slack sends).
CHOICE_KEY = "rapport_account_choice"
# The commands a question can be asked for (and so a button may run again).
CHOICE_COMMANDS = ("/concede", "/followup", "/meso", "/rapport")
_STALE = "This question is out of date. Run the command again."


def _choice_command(command: str) -> str:
    if command not in CHOICE_COMMANDS:
        raise ValueError("not a command a question is asked for")
    return command


class AccountChoice(ButtonValue):
    """A question's answer, as a button carries it: run `command text` with `account_id`
    (0: the new account). JSON with one-letter keys, to leave the text the room."""

    OUT_OF_DATE = _STALE

    command: Annotated[str, AfterValidator(_choice_command)] = Field(
        validation_alias="c", serialization_alias="c"
    )
    text: str = Field(validation_alias="t", serialization_alias="t", max_length=MAX_BUTTON_VALUE)
    account_id: RowId = Field(validation_alias="a", serialization_alias="a")


def choice_of(command: dict[str, Any]) -> int | None:
    """The answer a re-run command carries; None for a command as Slack sent it."""
    choice = command.get(CHOICE_KEY)
    return choice if isinstance(choice, int) and not isinstance(choice, bool) else None


def read_account_of(
    session: Session,
    command: dict[str, Any],
    text: str,
    *,
    usage: str,
    whole: bool = False,
    creates: bool = True,
    missing: str = "Start with the account name.",
    new_ok: bool | None = None,
) -> Reading:
    """The account `text` names for this command (or its channel's). See
    bot.services.accounts for how; `missing` is the answer when there is none.

    A new name is refused unless the command `creates` accounts (or `new_ok`: the
    caller checks the rest of the text first, and refuses it itself).
    """
    with reading_key(ACCOUNT):
        reading = resolve_account(
            session,
            team_id=team_of(command),
            text=text,
            whole=whole,
            creates=creates,
            channel_id=command.get("channel_id"),
            choice=choice_of(command),
        )
    if reading is None:
        raise UsageError(missing, usage=usage, key=ACCOUNT)
    if reading.is_new and not (creates if new_ok is None else new_ok):
        raise NotFound(f"There is no account called “{reading.name}” yet.")
    return reading


def account_question(question: AccountUnsure, body: dict[str, Any]) -> dict[str, Any]:
    """*Did you mean Globex?*, with a button for each answer that completes the command."""
    command, text = str(body.get("command") or ""), str(body.get("text") or "")
    answers = [(option.name, option.account_id, text) for option in question.options]
    if question.new_name is not None:
        answers.append((question.new_name, 0, text))
    if question.shorter_name is not None:
        # The shorter name's button runs the text again with it in quotes, which reads
        # it without a question.
        shorter = _quoted_start(text, question.typed, question.shorter_name)
        if shorter is not None:
            answers.append((question.shorter_name, 0, shorter))
    # Without the command (or past a button's limit) the buttons could not finish it.
    try:
        values = [
            AccountChoice(command=command, text=again, account_id=account_id).dump()
            for _, account_id, again in answers
        ]
    except (ValidationError, PayloadTooLarge):
        values = []
    return render(
        "account_question",
        question=question,
        prefix=ACCOUNT_CHOICE_PREFIX,
        buttons=[
            (name, account_id, value)
            for (name, account_id, _), value in zip(answers, values, strict=False)
        ],
    )


def _quoted_start(text: str, typed: str, name: str) -> str | None:
    """`text` with `name`, the first word of `typed`, in quotes where `typed` first
    stands ("Blue Harbor send" -> '"Blue" Harbor send'); None if it is not there."""
    pattern = r"(?<!\S)" + r"\s+".join(map(re.escape, typed.split())) + r"(?!\S)"
    found = re.search(pattern, text)
    if found is None:
        return None
    quoted = f'"{name}"{typed[len(name) :]}'
    return f"{text[: found.start()]}{quoted}{text[found.end() :]}"


def account_read(
    session: Session, command: dict[str, Any], reading: Reading, *, now: datetime
) -> Account:
    """The account `reading` names for this command, made (the caller owns it) if new."""
    return get_or_create_account(
        session, team_id=team_of(command), name=reading.name, user_id=command["user_id"], now=now
    )


def with_new_account(message: dict[str, Any], reading: Reading) -> dict[str, Any]:
    """The reply, with a first line saying a new account was made (if one was)."""
    if not reading.is_new:
        return message
    note = render("account_new", name=reading.name)
    return {
        **message,
        "text": f"{note['text']}\n{message['text']}",
        "blocks": [*note["blocks"], *message["blocks"]][:50],
    }


def modal_account(
    session: Session, *, team_id: str, text: str, field: str, creates: bool
) -> Reading:
    """The account typed into a modal's account field; a problem shows under the field."""
    try:
        reading = resolve_account(session, team_id=team_id, text=text, whole=True, creates=creates)
    except AccountUnsure as question:
        hint = " For a new account of that name, put it in quotes." if creates else ""
        raise UsageError(question.problem + hint, field=field) from None
    except UsageError as error:
        raise UsageError(error.problem, field=field) from None
    if reading is None:
        raise UsageError("Name the account.", field=field)
    if reading.is_new and not creates:
        raise UsageError(f"There is no account called “{reading.name}” yet.", field=field)
    return reading
