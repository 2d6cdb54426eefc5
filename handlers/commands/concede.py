"""/concede: log a give (and its get) on an account, show the log, or open the form."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, BoltContext

from bot.services import concessions
from bot.services.errors import DidYouMean, Suggestion, UsageError
from handlers.accounts import read_account_of, with_new_account
from handlers.after_ack import later
from handlers.caller import team_of
from handlers.context import Deps, deps_of, utcnow
from handlers.events.home import refresh_home
from handlers.parsing import colons_added, split_keyed, split_share_flag
from handlers.replies import ephemeral
from handlers.sharing import planned_post, post, report_post, share_channel
from handlers.views.concede import open_concession_form
from messages import render
from messages.ids import Action

COMMAND = "/concede"
KEYS = ("item", "give", "get", "trigger", "value")
# `value: us 2% margin, them 12k saved` (either order; "to us"/"to them" also read). A
# dash after the side separates only when a space follows it: `us -4%` keeps its sign.
_VALUE_PART = re.compile(
    r"(?:^|[,;])\s*(?:to\s+)?(us|them)\b\s*(?:[:=]|[-–—](?=\s))?\s*", re.IGNORECASE
)


@dataclass(frozen=True)
class ConcedeInput:
    account: str | None  # None: open the form; "": the channel's account
    values: concessions.ConcessionFields | None = None  # None: show the log
    share: bool = False


def parse_value(text: str) -> tuple[str | None, str | None]:
    """`us …, them …` -> (value to us, value to them)."""
    matches = list(_VALUE_PART.finditer(text))
    if not matches or text[: matches[0].start()].strip():
        raise UsageError(
            f"I read “{text[:40]}”: write the value as `value: us …, them …`.",
            usage=COMMAND,
            key="value",
        )
    found: dict[str, str] = {}
    for index, match in enumerate(matches):
        side = match.group(1).lower()
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        if side in found:
            raise UsageError(f"`value:` names {side} twice.", usage=COMMAND, key="value")
        found[side] = " ".join(text[match.end() : end].split()).strip(",; ")
    return found.get("us") or None, found.get("them") or None


def parse_concede(text: str) -> ConcedeInput:
    # PostgreSQL text cannot hold NUL; Slack never sends one, a forged request might.
    text = text.replace("\x00", "")
    if not text.strip():
        return ConcedeInput(account=None)
    typed = text
    text, share = split_share_flag(text)
    parts = split_keyed(text, KEYS, command=COMMAND)
    if not parts.fields and (corrected := colons_added(typed, KEYS)) is not None:
        whole, keyed = corrected
        raise DidYouMean(
            f"Did you mean `{keyed}`? Each part takes a colon after its name.",
            (Suggestion("Log it", whole),),
            usage=COMMAND,
        )
    account = parts.head
    if not parts.fields:
        if share:
            raise UsageError("`share` posts a new entry: add `give: …`.", usage=COMMAND)
        return ConcedeInput(account=account)
    give = parts.fields.get("give")
    if give and "get" not in parts.fields and colons_added(give, ("get",)):
        # `give: 10% get 2 years`: the get hides inside the give.
        whole, keyed = colons_added(typed, ("get",)) or (typed, "")
        raise DidYouMean(
            f"Did you mean `{keyed}`? Write `get:` with its colon, or `get: none` if "
            "nothing came back.",
            (Suggestion("Log it", whole),),
            usage=COMMAND,
        )
    if not give:
        raise UsageError("Say what we give with `give:`.", usage=COMMAND, key="give")
    value_us, value_them = (
        parse_value(parts.fields["value"]) if "value" in parts.fields else (None, None)
    )
    try:
        values = concessions.ConcessionFields(
            give=give,
            get=parts.fields.get("get") or None,
            item=parts.fields.get("item") or None,
            trigger=parts.fields.get("trigger") or None,
            value_to_us=value_us,
            value_to_them=value_them,
        )
    except UsageError as error:
        raise UsageError(error.problem, usage=COMMAND, key=error.key) from None
    return ConcedeInput(account=account, values=values, share=share)


def concede(ack: Ack, command: dict[str, str], context: BoltContext) -> None:
    request = parse_concede(command.get("text", ""))
    if request.account is None:
        # Right after the ack: the trigger_id is good for 3 s, the ack takes milliseconds.
        later(
            context,
            command,
            lambda client: open_concession_form(
                client, trigger_id=command["trigger_id"], channel_id=command.get("channel_id")
            ),
        )
        ack(**ephemeral(render("concession_form_opened")))
        return
    if request.values is None:
        reply = _show_log(request.account, command, deps_of(context))
    else:
        reply = _log(request, request.account, request.values, command, deps_of(context), context)
    ack(**ephemeral(reply))


def _show_log(account: str, command: dict[str, str], deps: Deps) -> dict[str, Any]:
    with deps.db.begin() as session:
        reading = read_account_of(
            session, command, account, usage=COMMAND, whole=True, creates=False
        )
        log = concessions.concession_log(
            session, team_id=team_of(command), account_name=reading.name
        )
        return render("concession_log", log=log, actions=Action)


def _log(
    request: ConcedeInput,
    account: str,
    values: concessions.ConcessionFields,
    command: dict[str, str],
    deps: Deps,
    context: BoltContext,
) -> dict[str, Any]:
    with deps.db.begin() as session:
        reading = read_account_of(session, command, account, usage=COMMAND, whole=True)
        logged = concessions.log_concession(
            session,
            team_id=team_of(command),
            account_name=reading.name,
            user_id=command["user_id"],
            values=values,
            now=utcnow(),
        )
    refresh_home(context, team_id=team_of(command), user_id=command["user_id"])
    shared = None
    if request.share:
        channel = share_channel(logged.entry.account.channel_id, command.get("channel_id"))
        message = render("concession_shared", entry=logged.entry, balance=logged.balance)
        shared = planned_post(channel)
        if channel:
            later(context, command, lambda client: report_post(post(client, channel, message)))
    reply = render(
        "concession_logged",
        entry=logged.entry,
        balance=logged.balance,
        fits=logged.fits,
        shared=shared,
        nothing_typed=values.get if values.get and logged.entry.get is None else None,
    )
    return with_new_account(reply, reading)
