"""The MESO modal: two or three bundles side by side, checked and stored on submit."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.services import meso as meso_service
from bot.services.accounts import MAX_ACCOUNT_NAME
from bot.services.errors import UsageError, UserFacingError
from handlers.accounts import modal_account
from handlers.caller import team_of
from handlers.context import deps_of, utcnow
from handlers.sharing import Shared, post, share_channel
from messages import render
from messages.ids import Action, MesoBlock, MesoOfferField, View, offer_block

_ID = "value"  # the action_id of the element inside every input block
_STALE = "This form is out of date. Run `/meso` again."
COMMAND = "/meso"
# An offer's value as reps write it: a sign, a currency (symbol or code), k/m/bn, and
# what it is counted per (`$1,200/mo`, `EUR 14k per year`, `−5k`, `82 pts`).
_NUMBER = re.compile(
    r"^(?P<sign>[-−–+])?\s*(?:[$€£¥]|[a-z]{3}\s)?\s*(?P<number>\d[\d,_]*(?:\.\d+)?|\.\d+)\s*"
    r"(?P<scale>k|m|mm|bn|b)?\s*(?:[$€£¥]|(?!arr|mrr)[a-z]{3}(?![a-z]))?\s*"
    r"(?:/\s*(?P<per>mo|month|yr|year|y|qtr|quarter)|(?:per|a|an)\s+(?P<per_word>month|year|quarter)"
    r"|(?P<every>monthly|yearly|annually|annual|quarterly|p\.?a\.?|arr|mrr)|pts|points)?$",
    re.I,
)
_SCALES = {"": 1.0, "k": 1e3, "m": 1e6, "mm": 1e6, "b": 1e9, "bn": 1e9}
_PERIODS = {
    "mo": "month", "month": "month", "monthly": "month", "mrr": "month",
    "yr": "year", "year": "year", "y": "year", "yearly": "year", "annually": "year",
    "annual": "year", "pa": "year", "p.a.": "year", "p.a": "year", "pa.": "year",
    "arr": "year", "qtr": "quarter", "quarter": "quarter", "quarterly": "quarter",
}  # fmt: skip
_TEXT_FIELDS = (
    MesoOfferField.TERMS,
    MesoOfferField.SCOPE,
    MesoOfferField.CADENCE,
    MesoOfferField.EXTRAS,
)


@dataclass(frozen=True)
class MesoForm:
    """Where the modal was opened (for `share`), kept in its private_metadata."""

    channel_id: str | None = None

    def to_metadata(self) -> str:
        return json.dumps({"channel_id": self.channel_id})

    @classmethod
    def from_metadata(cls, metadata: str) -> MesoForm:
        try:
            raw = json.loads(metadata) if metadata else {}
        except ValueError:
            raise UserFacingError(_STALE) from None
        channel_id = raw.get("channel_id") if isinstance(raw, dict) else None
        return cls(channel_id=channel_id if isinstance(channel_id, str) and channel_id else None)


def meso_modal(
    form: MesoForm, *, account_name: str = "", offers: Sequence[meso_service.OfferSpec] = ()
) -> dict[str, Any]:
    slots = [offers[i] if i < len(offers) else None for i in range(meso_service.MAX_OFFERS)]
    return render(
        "meso_modal",
        callback_id=View.MESO,
        metadata=form.to_metadata(),
        blocks=MesoBlock,
        fields=MesoOfferField,
        offer_block=offer_block,
        account_name=account_name,
        slots=slots,
        max_text=meso_service.MAX_OFFER_TEXT,
        max_label=meso_service.MAX_LABEL,
        max_account=MAX_ACCOUNT_NAME,
    )


def open_meso_form(
    client: WebClient,
    *,
    trigger_id: str,
    channel_id: str | None,
    account_name: str = "",
    offers: Sequence[meso_service.OfferSpec] = (),
) -> None:
    try:
        client.views_open(
            trigger_id=trigger_id,
            view=meso_modal(MesoForm(channel_id), account_name=account_name, offers=offers),
        )
    except SlackApiError as error:
        raise UsageError(
            f"Slack would not open the form ({error.response.get('error', 'error')}). "
            "Write it as one line instead.",
            usage="/meso",
        ) from None


def parse_amount(text: str) -> tuple[float, str]:
    """`120000`, `$120k`, `1.2m`, `$1,200/mo`, `EUR 14k per year`, `82 pts` -> the
    number and what it is counted per (`month`, `year`, `quarter`, or "")."""
    match = _NUMBER.match(text.strip())
    if match is None:
        raise UsageError(
            f"“{text[:40]}” is not a number; write e.g. `value: 120000` or `value: $1,200/mo`.",
            usage=COMMAND,
            key="value",
        )
    number = float(match["number"].replace(",", "").replace("_", ""))
    number *= _SCALES[(match["scale"] or "").lower()]
    period = (match["per"] or match["per_word"] or match["every"] or "").lower()
    if match["sign"] in ("-", "−", "–") and number:
        raise UsageError(
            f"“{text[:40]}” reads as -{number:,.0f}: an offer's value to us is a number from 0 up.",
            usage=COMMAND,
            key="value",
        )
    if number > meso_service.MAX_VALUE:
        raise UsageError(
            f"“{text[:40]}” reads as {number:,.0f}: that value is too large.",
            usage=COMMAND,
            key="value",
        )
    return number, _PERIODS.get(period, "")


def same_period(periods: Sequence[tuple[str, str]]) -> None:
    """Offers compared per month and per year would not compare: refuse the mix."""
    counted = {period: label for label, period in periods if period}
    if len(counted) > 1:
        named = ", ".join(f"{label} per {period}" for period, label in counted.items())
        raise UsageError(
            f"The offers are valued over different periods ({named}): value them all per "
            "month or all per year.",
            usage=COMMAND,
            key="value",
        )


def parse_tolerance(text: str) -> float:
    raw = text.strip().removesuffix("%").strip()
    try:
        value = float(raw)
    except ValueError:
        raise UsageError(
            "Write the tolerance as a percentage, e.g. `tolerance: 10%`.",
            usage=COMMAND,
            key="tolerance",
        ) from None
    return meso_service.check_tolerance(value)


def meso_reply(
    built: meso_service.Built, shared: Shared | None, *, buttons: bool = True
) -> dict[str, Any]:
    """The grid and its check; without buttons inside a modal, where nothing can redraw it."""
    return render("meso_grid", built=built, shared=shared, actions=Action if buttons else None)


def _value(values: dict[str, Any], block_id: str) -> dict[str, Any]:
    element = (values.get(block_id) or {}).get(_ID) or {}
    return element if isinstance(element, dict) else {}


def _text(values: dict[str, Any], block_id: str, limit: int) -> str | None:
    raw = _value(values, block_id).get("value")
    # PostgreSQL text cannot hold NUL; Slack never sends one, a forged request might.
    text = " ".join(raw.replace("\x00", "").split()) if isinstance(raw, str) else ""
    if len(text) > limit:
        raise UsageError(f"This can be up to {limit} characters.", field=block_id)
    return text or None


def _amount(values: dict[str, Any], block_id: str) -> tuple[float | None, str]:
    text = _text(values, block_id, 40)
    if text is None:
        return None, ""
    try:
        return parse_amount(text)
    except UsageError as error:
        raise UsageError(error.problem, field=block_id) from None


def parse_offers(values: dict[str, Any]) -> tuple[meso_service.OfferSpec, ...]:
    """The filled-in bundles; an empty bundle is skipped, a half-filled one is an error."""
    offers: list[meso_service.OfferSpec] = []
    periods: list[tuple[str, str]] = []
    for index in range(meso_service.MAX_OFFERS):
        label = _text(values, offer_block(index, MesoOfferField.LABEL), meso_service.MAX_LABEL)
        parts = {
            field: _text(values, offer_block(index, field), meso_service.MAX_OFFER_TEXT)
            for field in _TEXT_FIELDS
        }
        value, period = _amount(values, offer_block(index, MesoOfferField.VALUE))
        if not any(parts.values()):
            if label or value is not None:
                raise UsageError(
                    "Say what this offer is.", field=offer_block(index, MesoOfferField.TERMS)
                )
            continue
        label = label or "ABC"[index]
        if any(label.casefold() == o.label.casefold() for o in offers):
            raise UsageError(
                "Each offer needs its own label.", field=offer_block(index, MesoOfferField.LABEL)
            )
        offers.append(
            meso_service.OfferSpec(
                label=label,
                terms=parts[MesoOfferField.TERMS],
                scope=parts[MesoOfferField.SCOPE],
                cadence=parts[MesoOfferField.CADENCE],
                extras=parts[MesoOfferField.EXTRAS],
                value_to_us=value,
            )
        )
        periods.append((label, period))
        try:
            same_period(periods)
        except UsageError as error:
            raise UsageError(
                error.problem, field=offer_block(index, MesoOfferField.VALUE)
            ) from None
    if len(offers) < 2:
        raise UsageError(
            "A MESO is two or three offers: fill in at least two.",
            field=offer_block(len(offers), MesoOfferField.TERMS),
        )
    return tuple(offers)


def parse_tolerance_field(values: dict[str, Any]) -> float | None:
    text = _text(values, MesoBlock.TOLERANCE, 10)
    if text is None:
        return None
    try:
        return parse_tolerance(text)
    except UsageError as error:
        raise UsageError(error.problem, field=MesoBlock.TOLERANCE) from None


def submit_meso(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext, client: WebClient
) -> None:
    form = MesoForm.from_metadata(view.get("private_metadata", ""))
    values = (view.get("state") or {}).get("values") or {}
    account = _text(values, MesoBlock.ACCOUNT, 200) or ""
    offers = parse_offers(values)
    tolerance = parse_tolerance_field(values)
    selected = _value(values, MesoBlock.SHARE).get("selected_options") or []
    share = any(isinstance(o, dict) and o.get("value") == "share" for o in selected)
    with deps_of(context).db.begin() as session:
        reading = modal_account(
            session, team_id=team_of(body), text=account, field=MesoBlock.ACCOUNT, creates=True
        )
        built = meso_service.build_meso(
            session,
            team_id=team_of(body),
            account_name=reading.name,
            user_id=body["user"]["id"],
            offers=offers,
            tolerance_pct=tolerance,
            now=utcnow(),
            # Slack may deliver one submission twice: the view id makes it one set.
            source_key=f"view:{view['id']}"[:80],
        )
    shared = None
    if share and built.created:
        channel = share_channel(built.meso.account.channel_id, form.channel_id)
        shared = post(client, channel, render("meso_shared", built=built))
    message = meso_reply(built, shared, buttons=False)
    ack(response_action="update", view=render("meso_done", message=message))
