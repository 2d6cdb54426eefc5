"""The concession modal: log a new give, or edit one, from a form."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.errors import NotFound, UsageError, UserFacingError
from bot.services import concessions
from bot.services.accounts import MAX_ACCOUNT_NAME, clean_account_name
from handlers.context import deps_of, utcnow
from handlers.events.home import refresh_home
from handlers.ids import ConcessionBlock, View
from handlers.sharing import post, share_channel
from handlers.views.account_target import team_of
from messages import render
from storage.models import Concession

_ID = "value"  # the action_id of the element inside every input block
_STALE = "This form is out of date. Run `/concede` again."


@dataclass(frozen=True)
class ConcessionForm:
    """What the modal is about, kept in its private_metadata."""

    concession_id: int | None = None  # editing this entry; None: a new one
    channel_id: str | None = None  # where it was opened, for `share`

    def to_metadata(self) -> str:
        return json.dumps({"concession_id": self.concession_id, "channel_id": self.channel_id})

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
) -> None:
    form = ConcessionForm(concession_id=entry.id if entry else None, channel_id=channel_id)
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
        try:
            account = clean_account_name(_text(values, ConcessionBlock.ACCOUNT, 200) or "")
        except UsageError as error:
            raise UsageError(error.problem, field=ConcessionBlock.ACCOUNT) from None
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
        else:
            logged = concessions.log_concession(
                session,
                team_id=team_id,
                account_name=account or "",
                user_id=user_id,
                values=fields,
                now=utcnow(),
                # Slack may deliver one submission twice: the view id makes it one entry.
                source_key=f"view:{view['id']}"[:80],
            )
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
