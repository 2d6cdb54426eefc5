"""Concessions: /concede (log a give and its get on an account, show the log, or open
the form), the concession modal (log a new give, or edit one), and the buttons on the
log (page it, log a new give, edit or withdraw an entry).

The buttons and the form answer Slack first; every Slack call (the log redrawn in place
through response_url or chat.update, the form opened with the click's trigger_id, the
post to the channel, App Home) runs after that answer (handlers/edge/after_ack.py).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    model_validator,
)
from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.services import concessions
from bot.services.accounts import MAX_ACCOUNT_NAME
from bot.services.errors import DidYouMean, NotFound, Suggestion, UsageError
from handlers.edge.accounts import modal_account, read_account_of, with_new_account
from handlers.edge.after_ack import clicks_after_ack, later
from handlers.edge.caller import channel_of, team_of
from handlers.edge.command_help import asks_for_help, command_help
from handlers.edge.context import Deps, deps_of, utcnow
from handlers.edge.forms import Form, open_form, open_form_for
from handlers.edge.home_tab import refresh_home
from handlers.edge.parsing import colons_added, split_keyed, split_share_flag
from handlers.edge.payloads import action_value
from handlers.edge.replies import ephemeral, replace_clicked
from handlers.edge.response_urls import ForeignResponseUrl, SlackOnlyRespond
from handlers.edge.sharing import Shared, close_form_and_share, share_channel, share_later
from messages import render
from messages.ids import Action, ConcessionBlock, LogButton, NewEntryButton, View
from messages.payloads import MaybeText, Metadata, Page, RowId

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
    if asks_for_help(command):
        ack(**ephemeral(command_help(COMMAND)))
        return
    request = parse_concede(command.get("text", ""))
    if request.account is None:
        open_form_for(ack, context, command, open_concession_form, render("concession_form_opened"))
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
        shared = share_later(context, command, channel, message)
    nothing_typed = values.get if values.get and logged.entry.get is None else None
    return with_new_account(logged_reply(logged, shared, nothing_typed=nothing_typed), reading)


def logged_reply(
    logged: concessions.Logged, shared: Shared | None, *, nothing_typed: str | None = None
) -> dict[str, Any]:
    """What a logged (or edited) give is answered with, in a reply or a modal."""
    return render(
        "concession_logged",
        entry=logged.entry,
        balance=logged.balance,
        fits=logged.fits,
        shared=shared,
        nothing_typed=nothing_typed,
    )


log = logging.getLogger("rapport.concede")


class Origin(BaseModel):
    """The log message an edit was opened from, to redraw it once the edit is saved."""

    model_config = ConfigDict(frozen=True, strict=True, extra="forbid")

    page: Page = 1
    # A message in a channel: redrawn with chat.update, which never expires.
    channel_id: MaybeText = None
    message_ts: MaybeText = None
    # An ephemeral message (the log is one): only its response_url can replace it.
    response_url: MaybeText = None

    @model_validator(mode="after")
    def _somewhere(self) -> Origin:
        if self.response_url is None and not (self.channel_id and self.message_ts):
            raise ValueError("no message to redraw")
        return self

    @classmethod
    def of_click(cls, body: dict[str, Any], page: int) -> Origin | None:
        container = body.get("container") or {}
        if container.get("type") != "message" or page < 1:
            return None
        if container.get("is_ephemeral"):
            url = body.get("response_url")
            return cls(page=page, response_url=url) if isinstance(url, str) and url else None
        channel, ts = container.get("channel_id"), container.get("message_ts")
        if isinstance(channel, str) and channel and isinstance(ts, str) and ts:
            return cls(page=page, channel_id=channel, message_ts=ts)
        return None


def _no_redraw(value: object, read: ValidatorFunctionWrapHandler) -> Origin | None:
    # An origin that does not read means no redraw, never a lost edit.
    try:
        origin: Origin | None = read(value)
    except ValidationError:
        return None
    return origin


class ConcessionForm(Metadata):
    """What the concession modal is about, kept in its private_metadata."""

    OUT_OF_DATE = "This form is out of date. Run `/concede` again."

    concession_id: RowId | None = None  # editing this entry; None: a new one
    channel_id: MaybeText = None  # where it was opened, for `share`
    origin: Annotated[Origin | None, WrapValidator(_no_redraw)] = None  # to redraw after an edit


def concession_modal(
    form: ConcessionForm, *, account_name: str = "", entry: concessions.Entry | None = None
) -> dict[str, Any]:
    return render(
        "concession_modal",
        callback_id=View.CONCESSION,
        metadata=form.dump(),
        blocks=ConcessionBlock,
        account_name=account_name,
        entry=entry,
        max_text=concessions.MAX_TEXT,
        max_item=concessions.MAX_ITEM,
        max_account=MAX_ACCOUNT_NAME,
    )


def open_concession_form(
    client: WebClient,
    *,
    trigger_id: str,
    channel_id: str | None,
    account_name: str = "",
    entry: concessions.Entry | None = None,
    origin: Origin | None = None,
) -> None:
    form = ConcessionForm(
        concession_id=entry.id if entry else None, channel_id=channel_id, origin=origin
    )
    view = concession_modal(form, account_name=account_name, entry=entry)
    open_form(client, trigger_id=trigger_id, view=view, usage=COMMAND)


def redraw(
    client: WebClient, origin: Origin, message: dict[str, Any], *, slack_api_url: str
) -> None:
    """Show the edited entry in the message the edit began from.

    Best effort: the edit is saved and the modal says so; a message that can no longer
    be replaced (deleted, or its response_url past 30 minutes) just keeps its old text.
    """
    try:
        if origin.response_url is not None:
            respond = SlackOnlyRespond(
                response_url=origin.response_url, slack_api_url=slack_api_url
            )
            response = respond(
                text=message["text"],
                blocks=message["blocks"],
                response_type="ephemeral",
                replace_original=True,
            )
            if response.status_code != 200:
                log.info("could not redraw the log: response_url %s", response.status_code)
        elif origin.channel_id and origin.message_ts:
            client.chat_update(
                channel=origin.channel_id,
                ts=origin.message_ts,
                text=message["text"],
                blocks=message["blocks"],
            )
    except SlackApiError as error:
        log.info("could not redraw the log: %s", error.response.get("error"))
    except (SlackClientError, OSError, ForeignResponseUrl) as error:
        log.info("could not redraw the log: %s", error)


def parse_form(
    form: Form, *, editing: bool
) -> tuple[str | None, concessions.ConcessionFields, bool]:
    """(account, fields, share?) from the form; a problem is shown under its input."""
    account: str | None = None
    if not editing:
        account = form.text(ConcessionBlock.ACCOUNT, limit=200) or ""
    give = form.text(ConcessionBlock.GIVE, limit=concessions.MAX_TEXT)
    if not give:
        raise UsageError("Say what we give.", field=ConcessionBlock.GIVE)
    limit = concessions.MAX_TEXT
    try:
        fields = concessions.ConcessionFields(
            give=give,
            get=form.text(ConcessionBlock.GET, limit=limit),
            item=form.text(ConcessionBlock.ITEM, limit=concessions.MAX_ITEM),
            trigger=form.text(ConcessionBlock.TRIGGER, limit=limit),
            value_to_us=form.text(ConcessionBlock.VALUE_TO_US, limit=limit),
            value_to_them=form.text(ConcessionBlock.VALUE_TO_THEM, limit=limit),
        )
    except UsageError as error:
        if error.key != "give":
            raise
        # The rule's answer, under the input it is about (`give: none`).
        raise UsageError(error.problem, field=ConcessionBlock.GIVE) from None
    return account, fields, form.ticked(ConcessionBlock.SHARE, "share")


def submit_concession(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext
) -> None:
    """Saved, then acked with the done view; every Slack call (the log redrawn, the
    post to the channel, App Home) goes after the ack."""
    form = ConcessionForm.parse(view.get("private_metadata", ""))
    editing = form.concession_id is not None
    account, fields, share = parse_form(Form.of(view), editing=editing)
    team_id, user_id = team_of(body), body["user"]["id"]
    deps = deps_of(context)
    history: concessions.ConcessionLog | None = None
    with deps.db.begin() as session:
        if form.concession_id is not None:
            try:
                logged = concessions.edit_concession(
                    session,
                    team_id=team_id,
                    concession_id=form.concession_id,
                    user_id=user_id,
                    values=fields,
                    now=utcnow(),
                )
            except NotFound as error:
                raise UsageError(error.problem, field=ConcessionBlock.GIVE) from None
            if form.origin is not None:
                history = concessions.log_of_account(
                    session, account=logged.entry.account, page=form.origin.page
                )
        else:
            reading = modal_account(
                session,
                team_id=team_id,
                text=account or "",
                field=ConcessionBlock.ACCOUNT,
                creates=True,
            )
            logged = concessions.log_concession(
                session,
                team_id=team_id,
                account_name=reading.name,
                user_id=user_id,
                values=fields,
                now=utcnow(),
                # Slack may deliver one submission twice: the view id makes it one entry.
                source_key=f"view:{view['id']}"[:80],
            )
    title = "Concession saved" if editing else "Concession logged"

    def done(shared: Shared | None) -> dict[str, Any]:
        return render("concession_done", title=title, message=logged_reply(logged, shared))

    post = None
    if share and logged.created:
        post = render("concession_shared", entry=logged.entry, balance=logged.balance)
    channel = share_channel(logged.entry.account.channel_id, form.channel_id)
    close_form_and_share(ack, context, body, view, done, channel=channel, message=post)
    if history is not None and form.origin is not None:
        origin, redrawn = form.origin, render("concession_log", log=history, actions=Action)
        url = deps.settings.slack_api_url
        later(context, body, lambda client: redraw(client, origin, redrawn, slack_api_url=url))
    refresh_home(context, team_id=team_id, user_id=user_id)


def _redraw(respond: Respond, log: concessions.ConcessionLog) -> None:
    replace_clicked(respond, render("concession_log", log=log, actions=Action))


def turn_page(body: dict[str, Any], context: BoltContext, respond: Respond) -> None:
    clicked = LogButton.parse(action_value(body))
    with deps_of(context).db.begin() as session:
        log = concessions.concession_log_by_id(
            session, team_id=team_of(body), account_id=clicked.id, page=clicked.page
        )
    _redraw(respond, log)


def withdraw(body: dict[str, Any], context: BoltContext, respond: Respond) -> None:
    clicked = LogButton.parse(action_value(body))
    with deps_of(context).db.begin() as session:
        entry = concessions.withdraw_concession(
            session,
            team_id=team_of(body),
            concession_id=clicked.id,
            user_id=body["user"]["id"],
            now=utcnow(),
        )
        log = concessions.log_of_account(session, account=entry.account, page=clicked.page)
    _redraw(respond, log)
    refresh_home(context, team_id=team_of(body), user_id=body["user"]["id"])


def edit(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    clicked = LogButton.parse(action_value(body))
    with deps_of(context).db.begin() as session:
        entry = concessions.entry_of(session, team_id=team_of(body), concession_id=clicked.id)
    open_concession_form(
        client,
        trigger_id=body["trigger_id"],
        channel_id=channel_of(body),
        entry=entry,
        # Saving redraws this log message with the edited entry and balance.
        origin=Origin.of_click(body, clicked.page),
    )


def log_new(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    clicked = NewEntryButton.parse(action_value(body))
    with deps_of(context).db.begin() as session:
        account = concessions.account_of(
            session, team_id=team_of(body), account_id=clicked.account_id
        )
    open_concession_form(
        client,
        trigger_id=body["trigger_id"],
        channel_id=channel_of(body),
        account_name=account.name,
    )


# Slash command -> listener (handlers/rapport.py lists them in help).
COMMANDS = {COMMAND: concede}


def register(app: App) -> None:
    app.command(COMMAND)(concede)
    clicks_after_ack(
        app,
        {
            Action.CONCESSION_NEW: log_new,
            Action.CONCESSION_EDIT: edit,
            Action.CONCESSION_WITHDRAW: withdraw,
            Action.CONCESSION_OLDER: turn_page,
            Action.CONCESSION_NEWER: turn_page,
        },
    )
    app.view(View.CONCESSION.value)(submit_concession)
