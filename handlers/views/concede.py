"""The concession modal: log a new give, or edit one, from a form."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.services import concessions
from bot.services.accounts import MAX_ACCOUNT_NAME
from bot.services.errors import NotFound, UsageError, UserFacingError
from handlers.accounts import modal_account
from handlers.caller import team_of
from handlers.context import deps_of, utcnow
from handlers.events.home import refresh_home
from handlers.response_urls import ForeignResponseUrl, SlackOnlyRespond
from handlers.sharing import post, share_channel
from messages import render
from messages.ids import Action, ConcessionBlock, View
from storage.models import Concession

log = logging.getLogger("rapport.concede")

_ID = "value"  # the action_id of the element inside every input block
_STALE = "This form is out of date. Run `/concede` again."


@dataclass(frozen=True)
class Origin:
    """The log message an edit was opened from, to redraw it once the edit is saved."""

    page: int = 1
    # A message in a channel: redrawn with chat.update, which never expires.
    channel_id: str | None = None
    message_ts: str | None = None
    # An ephemeral message (the log is one): only its response_url can replace it.
    response_url: str | None = None

    @classmethod
    def of_click(cls, body: dict[str, Any], page: int) -> Origin | None:
        container = body.get("container") or {}
        if container.get("type") != "message":
            return None
        if container.get("is_ephemeral"):
            url = body.get("response_url")
            return cls(page=page, response_url=url) if isinstance(url, str) and url else None
        channel, ts = container.get("channel_id"), container.get("message_ts")
        if isinstance(channel, str) and channel and isinstance(ts, str) and ts:
            return cls(page=page, channel_id=channel, message_ts=ts)
        return None

    def to_json(self) -> dict[str, Any]:
        return {
            "page": self.page,
            "channel_id": self.channel_id,
            "message_ts": self.message_ts,
            "response_url": self.response_url,
        }

    @classmethod
    def from_json(cls, raw: object) -> Origin | None:
        # Only ever our own JSON; anything else means no redraw, never a lost edit.
        if not isinstance(raw, dict):
            return None
        page = raw.get("page")
        texts = {k: raw.get(k) for k in ("channel_id", "message_ts", "response_url")}
        if not isinstance(page, int) or isinstance(page, bool) or page < 1:
            return None
        if not all(v is None or (isinstance(v, str) and v) for v in texts.values()):
            return None
        origin = cls(page=page, **texts)
        if origin.response_url is None and not (origin.channel_id and origin.message_ts):
            return None
        return origin


@dataclass(frozen=True)
class ConcessionForm:
    """What the modal is about, kept in its private_metadata."""

    concession_id: int | None = None  # editing this entry; None: a new one
    channel_id: str | None = None  # where it was opened, for `share`
    origin: Origin | None = None  # the message to redraw after an edit

    def to_metadata(self) -> str:
        metadata: dict[str, Any] = {
            "concession_id": self.concession_id,
            "channel_id": self.channel_id,
        }
        if self.origin is not None:
            metadata["origin"] = self.origin.to_json()
        return json.dumps(metadata)

    @classmethod
    def from_metadata(cls, metadata: str) -> ConcessionForm:
        try:
            raw = json.loads(metadata) if metadata else {}
        except ValueError:
            raise UserFacingError(_STALE) from None
        if not isinstance(raw, dict):
            raise UserFacingError(_STALE)
        concession_id, channel_id = raw.get("concession_id"), raw.get("channel_id")
        if concession_id is not None and (
            not isinstance(concession_id, int) or isinstance(concession_id, bool)
        ):
            raise UserFacingError(_STALE)
        return cls(
            concession_id=concession_id,
            channel_id=channel_id if isinstance(channel_id, str) and channel_id else None,
            origin=Origin.from_json(raw.get("origin")),
        )


def concession_modal(
    form: ConcessionForm, *, account_name: str = "", entry: Concession | None = None
) -> dict[str, Any]:
    return render(
        "concession_modal",
        callback_id=View.CONCESSION,
        metadata=form.to_metadata(),
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
    entry: Concession | None = None,
    origin: Origin | None = None,
) -> None:
    form = ConcessionForm(
        concession_id=entry.id if entry else None, channel_id=channel_id, origin=origin
    )
    try:
        client.views_open(
            trigger_id=trigger_id,
            view=concession_modal(form, account_name=account_name, entry=entry),
        )
    except SlackApiError as error:
        raise UsageError(
            f"Slack would not open the form ({error.response.get('error', 'error')}). "
            "Write it as one line instead.",
            usage="/concede",
        ) from None


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


def _element(values: dict[str, Any], block: ConcessionBlock) -> dict[str, Any]:
    element = (values.get(block.value) or {}).get(_ID) or {}
    return element if isinstance(element, dict) else {}


def _text(values: dict[str, Any], block: ConcessionBlock, limit: int) -> str | None:
    raw = _element(values, block).get("value")
    # PostgreSQL text cannot hold NUL; Slack never sends one, a forged request might.
    text = " ".join(raw.replace("\x00", "").split()) if isinstance(raw, str) else ""
    if len(text) > limit:
        raise UsageError(f"This can be up to {limit} characters.", field=block.value)
    return text or None


def parse_form(
    values: dict[str, Any], *, editing: bool
) -> tuple[str | None, concessions.ConcessionFields, bool]:
    """(account, fields, share?) from the form; a problem is shown under its input."""
    account: str | None = None
    if not editing:
        account = _text(values, ConcessionBlock.ACCOUNT, 200) or ""
    give = _text(values, ConcessionBlock.GIVE, concessions.MAX_TEXT)
    if not give:
        raise UsageError("Say what we give.", field=ConcessionBlock.GIVE)
    limit = concessions.MAX_TEXT
    fields = concessions.ConcessionFields(
        give=give,
        get=_text(values, ConcessionBlock.GET, limit),
        item=_text(values, ConcessionBlock.ITEM, concessions.MAX_ITEM),
        trigger=_text(values, ConcessionBlock.TRIGGER, limit),
        value_to_us=_text(values, ConcessionBlock.VALUE_TO_US, limit),
        value_to_them=_text(values, ConcessionBlock.VALUE_TO_THEM, limit),
    )
    selected = _element(values, ConcessionBlock.SHARE).get("selected_options") or []
    share = any(isinstance(o, dict) and o.get("value") == "share" for o in selected)
    return account, fields, share


def submit_concession(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext, client: WebClient
) -> None:
    form = ConcessionForm.from_metadata(view.get("private_metadata", ""))
    editing = form.concession_id is not None
    account, fields, share = parse_form(
        (view.get("state") or {}).get("values") or {}, editing=editing
    )
    team_id, user_id = team_of(body), body["user"]["id"]
    redrawn: dict[str, Any] | None = None
    with deps_of(context).db.begin() as session:
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
                redrawn = render("concession_log", log=history, actions=Action)
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
    if redrawn is not None and form.origin is not None:
        redraw(client, form.origin, redrawn, slack_api_url=deps_of(context).settings.slack_api_url)
    refresh_home(context, team_id=team_id, user_id=user_id)
    shared = None
    if share and logged.created:
        channel = share_channel(logged.entry.account.channel_id, form.channel_id)
        shared = post(
            client, channel, render("concession_shared", entry=logged.entry, balance=logged.balance)
        )
    message = render(
        "concession_logged",
        entry=logged.entry,
        balance=logged.balance,
        fits=logged.fits,
        shared=shared,
    )
    title = "Concession saved" if editing else "Concession logged"
    ack(response_action="update", view=render("concession_done", title=title, message=message))
