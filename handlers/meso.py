"""MESO: /meso (build two or three equivalent offers for an account, and learn from the
choice), the MESO modal (the bundles side by side, checked and stored on submit), and
its buttons (start the form from a template, record which offer the buyer chose).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.services import meso as meso_service
from bot.services.accounts import MAX_ACCOUNT_NAME
from bot.services.errors import DidYouMean, Suggestion, UsageError, UserFacingError
from bot.services.fields import reads_as_nothing
from bot.slackapi.roles import is_workspace_admin
from handlers.edge.accounts import ACCOUNT, modal_account, read_account_of, with_new_account
from handlers.edge.after_ack import clicks_after_ack, later
from handlers.edge.amounts import AmountWords, read_amount
from handlers.edge.caller import channel_of, team_of
from handlers.edge.command_help import asks_for_help, command_help
from handlers.edge.context import Deps, deps_of, utcnow
from handlers.edge.forms import Form, open_form, open_form_for
from handlers.edge.parsing import split_keyed, split_share_flag
from handlers.edge.payloads import action_value
from handlers.edge.replies import ephemeral, replace_clicked
from handlers.edge.sharing import (
    Shared,
    close_form_and_share,
    post,
    share_channel,
    share_later,
)
from messages import render
from messages.ids import (
    Action,
    MesoBlock,
    MesoOfferField,
    PickButton,
    ShareButton,
    TemplateButton,
    View,
    offer_block,
)
from messages.payloads import MaybeText, Metadata

COMMAND = "/meso"
_TOLERANCE = re.compile(r"(?<![\w-])tolerance\s*:\s*(\S*)", re.IGNORECASE)
_PICKED = re.compile(r"(?<![\w-])picked\s*:\s*(.*)$", re.IGNORECASE | re.DOTALL)
# An offer's label: a short word and a colon, at the start of its part.
_LABEL = re.compile(r"([^\s:|\"“”'‘’]{1,20})\s*:")
_RESERVED = {"value", "tolerance", "picked"}
# `A: … B: …` with no `|` between: a lettered label inside an offer's text.
_INNER_LABEL = re.compile(r"(?<=\S)[\s,;]+(?=[A-C]:\s*\S)")
# `value 10k/mo` without its colon: the word, then what reads as an amount.
_BARE_VALUE = re.compile(r"(?<![\w:-])(value)(?=\s+(?:[$€£¥]|[a-z]{3}\s)?\s*[\d.])", re.I)
# An offer, as the usage line names it (`A: OFFER | B: OFFER`), in errors about one.
OFFER = "OFFER"


# An offer as typed: its label (None: named by its place, A, B, C) and its text.
OfferText = tuple[str | None, str]


@dataclass(frozen=True)
class MesoInput:
    account: str | None = None  # None (with nothing else): open the form
    offers: tuple[OfferText, ...] = ()
    picked: str | None = None
    tolerance_pct: float | None = None
    share: bool = False
    # Offers without labels: `account` is the account *and* the first offer's text,
    # told apart by the account resolver once the team's accounts are at hand.
    account_then_offer: bool = False


def _offer(label: str, text: str) -> meso_service.OfferSpec:
    """The offer, with what its value is counted per (month, year, or "")."""
    parts = split_keyed(text, ("value",), command=COMMAND)
    amount, period = parse_value(parts.fields.get("value"))
    # `B: none` (or `n/a`) is an offer that says nothing, refused as one; the comma
    # before `value:` (`A: list price, value: 10k`) is not part of the terms.
    terms = None if reads_as_nothing(parts.head) else parts.head.rstrip(" ,;")
    try:
        return meso_service.OfferSpec(label=label, terms=terms, value_to_us=amount, period=period)
    except UsageError as error:
        raise UsageError(error.problem, usage=COMMAND) from None


def read_offers(typed: tuple[OfferText, ...]) -> tuple[meso_service.OfferSpec, ...]:
    """The offers as typed, checked: two or three, valued over periods that convert,
    labelled apart."""
    if len(typed) > meso_service.MAX_OFFERS:
        raise UsageError(
            f"A MESO is two or three offers; I read {len(typed)} (each after a `|`).",
            usage=COMMAND,
            key=OFFER,
        )
    offers = tuple(
        _offer(label or "ABC"[index], " ".join(body.split()))
        for index, (label, body) in enumerate(typed)
    )
    try:
        meso_service.check_periods(offers)
    except UsageError as error:
        raise UsageError(error.problem, usage=COMMAND, key="value") from None
    labels = [o.label.casefold() for o in offers]
    if len(set(labels)) != len(labels):
        twice = next(o.label for o in offers if labels.count(o.label.casefold()) > 1)
        raise UsageError(
            f"Give each offer its own label (A, B, C); I read `{twice}:` more than once.",
            usage=COMMAND,
            key=OFFER,
        )
    return offers


def _labelled(segment: str) -> tuple[str, str] | None:
    match = _LABEL.match(segment.strip())
    if match is None or match.group(1).casefold() in _RESERVED:
        return None
    return match.group(1), segment.strip()[match.end() :]


def parse_meso(text: str) -> MesoInput:
    text = text.strip()
    if not text:
        return MesoInput()
    ask_for_pipes(text)
    ask_for_value_colons(text)
    text, share = split_share_flag(text)
    tolerance: float | None = None
    tolerances = list(_TOLERANCE.finditer(text))
    if len(tolerances) > 1:
        raise UsageError("`tolerance:` appears twice.", usage=COMMAND)
    if tolerances:
        tolerance = parse_tolerance(tolerances[0].group(1))
        text = text[: tolerances[0].start()] + " " + text[tolerances[0].end() :]
    picked_match = _PICKED.search(text)
    if picked_match is not None:
        picked = " ".join(picked_match.group(1).split())
        head = text[: picked_match.start()].strip()
        if not head:
            raise UsageError("Start with the account name.", usage=COMMAND, key=ACCOUNT)
        if not picked or len(picked) > meso_service.MAX_LABEL or "|" in picked:
            raise UsageError("Say which offer they picked, e.g. `picked: B`.", usage=COMMAND)
        return MesoInput(account=" ".join(head.split()), picked=picked)
    segments = text.split("|")
    first = segments[0]
    label_match = next(
        (m for m in _LABEL.finditer(first) if m.group(1).casefold() not in _RESERVED), None
    )
    offers_text: list[OfferText] = []
    if label_match is not None:
        head = first[: label_match.start()]
        offers_text.append((label_match.group(1), first[label_match.end() :]))
    else:
        head = first
    head = " ".join(head.split())
    # `ACCOUNT x | y`: where the account ends and offer A starts is the resolver's call.
    account_then_offer = label_match is None and len(segments) > 1
    if not head:
        if tolerance is not None and not offers_text and len(segments) == 1:
            return MesoInput(tolerance_pct=tolerance)
        if label_match is None:
            raise UsageError(
                f"Start with the account name; I read none before “{text.strip()[:40]}”.",
                usage=COMMAND,
                key=ACCOUNT,
            )
        # Offers with no account first: the channel's account, if it has one.
    for segment in segments[1:]:
        labelled = _labelled(segment)
        offers_text.append(labelled if labelled else (None, segment))
    if not offers_text:
        if share or tolerance is not None:
            raise UsageError("Add the offers, e.g. `A: … | B: …`.", usage=COMMAND, key=OFFER)
        return MesoInput(account=head)
    typed = tuple(offers_text)
    if not account_then_offer:
        read_offers(typed)  # refused before any account is looked up
    return MesoInput(
        account=head,
        offers=typed,
        tolerance_pct=tolerance,
        share=share,
        account_then_offer=account_then_offer,
    )


def ask_for_pipes(text: str) -> None:
    """`A: list value: 10k B: premium value: 11k`: offers run together (no `|`) would read
    as one offer with two values: answer with the line as meant."""
    segments = text.split("|")
    fixed: list[str] = []
    labels: list[str] = []
    for index, segment in enumerate(segments):
        inner = list(_INNER_LABEL.finditer(segment))
        if index == 0 and not re.match(r"\s*[A-C]:", segment):
            inner = inner[1:]  # the first offer's own label, after the account
        labels += [segment[found.end()] for found in inner]
        for found in reversed(inner):
            segment = segment[: found.start()] + " | " + segment[found.end() :]
        fixed.append(segment)
    if not labels:
        return
    corrected = " ".join("|".join(fixed).split())
    raise DidYouMean(
        f"Did you mean `{labels[0]}:` to start a new offer? Offers are separated by `|`, "
        "as in `A: … | B: …`.",
        (Suggestion("Build it", corrected),),
        usage=COMMAND,
        key=OFFER,
    )


def ask_for_value_colons(text: str) -> None:
    """`A: list price value 10k/mo`: a value without its colon would be read as part of
    the offer's terms, and the set not checked: answer with the line as meant."""
    bare = _BARE_VALUE.search(text)
    if bare is None:
        return
    corrected = _BARE_VALUE.sub(r"\1:", text)
    amount = text[bare.end() :].split("|")[0].split()[0]
    raise DidYouMean(
        f"Did you mean `value: {amount}`? `value:` takes a colon after it.",
        (Suggestion("Build it", " ".join(corrected.split())),),
        usage=COMMAND,
        key="value",
    )


def meso(ack: Ack, command: dict[str, str], context: BoltContext) -> None:
    if asks_for_help(command):
        ack(**ephemeral(command_help(COMMAND)))
        return
    request = parse_meso(command.get("text", ""))
    if request.account is None and request.tolerance_pct is None:
        open_form_for(ack, context, command, open_meso_form, render("meso_form_opened"))
        return
    if request.account is None:
        # A team-wide rule: who may change it is a users.info call, made after the ack.
        deps, respond = deps_of(context), context.respond
        later(
            context, command, lambda client: _set_tolerance(client, request, command, deps, respond)
        )
        ack(**ephemeral(render("meso_tolerance_checking", tolerance=request.tolerance_pct)))
        return
    if request.picked is not None:
        reply = _record_pick(request.account, request.picked, command, deps_of(context))
    elif not request.offers:
        reply = _overview(request.account, command, deps_of(context))
    else:
        reply = _build(request, request.account, command, deps_of(context), context)
    ack(**ephemeral(reply))


def _set_tolerance(
    client: WebClient,
    request: MesoInput,
    command: dict[str, str],
    deps: Deps,
    respond: Respond | None,
) -> None:
    """Runs after the ack; a refusal reaches the user through after_ack's error path."""
    assert request.tolerance_pct is not None and respond is not None
    admin = is_workspace_admin(client, command["user_id"])
    with deps.db.begin() as session:
        tolerance = meso_service.set_team_tolerance(
            session,
            team_id=team_of(command),
            tolerance_pct=request.tolerance_pct,
            user_id=command["user_id"],
            is_workspace_admin=admin,
            now=utcnow(),
        )
    message = render("meso_tolerance", tolerance=tolerance)
    respond(text=message["text"], blocks=message["blocks"], response_type="ephemeral")


def _record_pick(account: str, label: str, command: dict[str, str], deps: Deps) -> dict[str, Any]:
    team_id = team_of(command)
    with deps.db.begin() as session:
        reading = read_account_of(
            session, command, account, usage=COMMAND, whole=True, creates=False
        )
        chosen = meso_service.record_choice(
            session,
            team_id=team_id,
            account_name=reading.name,
            label=label,
            user_id=command["user_id"],
            now=utcnow(),
        )
        priorities = meso_service.revealed_priorities(session, team_id, chosen.account_id)
    return picked_reply(chosen, priorities)


def picked_reply(
    chosen: meso_service.OfferSet, priorities: meso_service.RevealedPriorities
) -> dict[str, Any]:
    """The buyer's choice recorded, and what their choices so far say they value."""
    return render(
        "meso_picked",
        meso=chosen,
        offer=meso_service.chosen_offer(chosen),
        account=chosen.account,
        priorities=priorities,
    )


def _overview(account: str, command: dict[str, str], deps: Deps) -> dict[str, Any]:
    with deps.db.begin() as session:
        # An account with no MESO yet still gets the templates to start from.
        reading = read_account_of(session, command, account, usage=COMMAND, whole=True)
        overview = meso_service.meso_overview(
            session, team_id=team_of(command), account_name=reading.name
        )
    return render("meso_overview", overview=overview, actions=Action)


def _build(
    request: MesoInput, account: str, command: dict[str, str], deps: Deps, context: BoltContext
) -> dict[str, Any]:
    with deps.db.begin() as session:
        reading = read_account_of(
            session, command, account, usage=COMMAND, whole=not request.account_then_offer
        )
        typed = request.offers
        if request.account_then_offer:
            typed = ((None, reading.rest), *typed)
        built = meso_service.build_meso(
            session,
            team_id=team_of(command),
            account_name=reading.name,
            user_id=command["user_id"],
            offers=read_offers(typed),
            tolerance_pct=request.tolerance_pct,
            now=utcnow(),
        )
    shared = None
    if request.share and not built.needs_confirmation:
        channel = share_channel(built.meso.account.channel_id, command.get("channel_id"))
        message = render("meso_shared", built=built)
        shared = share_later(context, command, channel, message)
    # Below the walk-away point, `share` waits for the Share button's confirmation.
    share = ShareOffer(channel_id=command.get("channel_id"), held=request.share)
    return with_new_account(meso_reply(built, shared, share=share), reading)


# How a value that does not read is answered (handlers/edge/amounts.py reads it).
_VALUE = AmountWords(
    example="`value: 120000` or `value: $1,200/mo`",
    what="an offer's value to us",
    usage=COMMAND,
    key="value",
)
_TEXT_FIELDS = (
    MesoOfferField.TERMS,
    MesoOfferField.SCOPE,
    MesoOfferField.CADENCE,
    MesoOfferField.EXTRAS,
)


class MesoForm(Metadata):
    """Where the MESO modal was opened (for `share`), kept in its private_metadata."""

    OUT_OF_DATE = "This form is out of date. Run `/meso` again."

    channel_id: MaybeText = None


def meso_modal(
    form: MesoForm, *, account_name: str = "", offers: Sequence[meso_service.OfferSpec] = ()
) -> dict[str, Any]:
    slots = [offers[i] if i < len(offers) else None for i in range(meso_service.MAX_OFFERS)]
    return render(
        "meso_modal",
        callback_id=View.MESO,
        metadata=form.dump(),
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
    form = MesoForm(channel_id=channel_id)
    view = meso_modal(form, account_name=account_name, offers=offers)
    open_form(client, trigger_id=trigger_id, view=view, usage=COMMAND)


def parse_amount(text: str) -> tuple[float, str]:
    """`120000`, `$120k`, `1.2m`, `$1,200/mo`, `EUR 14k per year`, `82 pts` -> the
    number and what it is counted per (`month`, `year`, `quarter`, or "")."""
    return read_amount(text, _VALUE, maximum=meso_service.MAX_VALUE)


def parse_value(text: str | None) -> tuple[float | None, str]:
    """An offer's `value:` as typed: the number and its period, or (None, "") when it
    says there is none (`none`, `n/a`, `-`, left empty): the offer is not valued."""
    if not text:
        return None, ""
    try:
        return parse_amount(text)
    except UsageError:
        if reads_as_nothing(text):
            return None, ""
        raise


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


@dataclass(frozen=True)
class ShareOffer:
    """The grid's Share button: the channel the command or form came from (the account's
    own channel comes first), and whether a post asked for was held back (an offer below
    the walk-away point waits for a confirmation)."""

    channel_id: str | None
    held: bool = False
    action: str = Action.MESO_SHARE


def meso_reply(
    built: meso_service.Built,
    shared: Shared | None,
    *,
    buttons: bool = True,
    share: ShareOffer | None = None,
) -> dict[str, Any]:
    """The grid and its checks; inside a modal, without the buttons that redraw a message
    (the pick buttons), and with Share only when a post was held back."""
    return render(
        "meso_grid",
        built=built,
        shared=shared,
        actions=Action if buttons else None,
        share=share,
    )


def _amount(form: Form, block_id: str) -> tuple[float | None, str]:
    try:
        return parse_value(form.text(block_id, limit=40))
    except UsageError as error:
        raise UsageError(error.problem, field=block_id) from None


def parse_offers(form: Form) -> tuple[meso_service.OfferSpec, ...]:
    """The filled-in bundles; an empty bundle is skipped, a half-filled one is an error."""
    offers: list[meso_service.OfferSpec] = []
    for index in range(meso_service.MAX_OFFERS):
        label = form.text(offer_block(index, MesoOfferField.LABEL), limit=meso_service.MAX_LABEL)
        parts = {
            field: form.text(offer_block(index, field), limit=meso_service.MAX_OFFER_TEXT)
            for field in _TEXT_FIELDS
        }
        value, period = _amount(form, offer_block(index, MesoOfferField.VALUE))
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
                period=period,
            )
        )
        try:
            meso_service.check_periods(offers)
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


def parse_tolerance_field(form: Form) -> float | None:
    text = form.text(MesoBlock.TOLERANCE, limit=10)
    if text is None:
        return None
    try:
        return parse_tolerance(text)
    except UsageError as error:
        raise UsageError(error.problem, field=MesoBlock.TOLERANCE) from None


def submit_meso(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    """Stored, then acked with the done view; the post to the channel goes after it."""
    form = MesoForm.parse(view.get("private_metadata", ""))
    inputs = Form.of(view)
    account = inputs.text(MesoBlock.ACCOUNT, limit=200) or ""
    offers = parse_offers(inputs)
    tolerance = parse_tolerance_field(inputs)
    share = inputs.ticked(MesoBlock.SHARE, "share")
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

    # Below the walk-away point, the post waits for the done view's Share anyway.
    held = share and built.created and built.needs_confirmation
    held_share = ShareOffer(channel_id=form.channel_id, held=True) if held else None

    def done(shared: Shared | None) -> dict[str, Any]:
        return meso_done(built, shared, held_share)

    post = render("meso_shared", built=built) if share and built.created and not held else None
    channel = share_channel(built.meso.account.channel_id, form.channel_id)
    close_form_and_share(ack, context, body, view, done, channel=channel, message=post)


def meso_done(
    built: meso_service.Built, shared: Shared | None, share: ShareOffer | None
) -> dict[str, Any]:
    """The MESO modal's last screen: the grid and its checks."""
    return render("meso_done", message=meso_reply(built, shared, buttons=False, share=share))


def share_set(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Share (anyway): post the set to the team once, then redraw where it was clicked
    (the reply, or the form's done view) saying where it went."""
    clicked = ShareButton.parse(action_value(body))
    team_id, db = team_of(body), deps_of(context).db
    with db.begin() as session:
        built = meso_service.built_by_id(session, team_id=team_id, meso_id=clicked.meso_id)
        channel = share_channel(built.meso.account.channel_id, clicked.channel_id)
        if channel and not meso_service.mark_shared(
            session, team_id=team_id, meso_id=clicked.meso_id, now=utcnow()
        ):
            raise UserFacingError(ALREADY_SHARED)
    shared = post(client, channel, render("meso_shared", built=built))
    if not shared.ok and channel:
        with db.begin() as session:
            meso_service.unmark_shared(session, team_id=team_id, meso_id=clicked.meso_id)
    again = None if shared.ok else ShareOffer(channel_id=clicked.channel_id)
    if body.get("view"):
        client.views_update(view_id=body["view"]["id"], view=meso_done(built, shared, again))
    elif context.respond is not None:
        replace_clicked(context.respond, meso_reply(built, shared, share=again))


ALREADY_SHARED = "These offers were already shared with the team; nothing was posted again."


def start_from_template(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    clicked = TemplateButton.parse(action_value(body))
    offers = meso_service.template_set(clicked.template)
    open_meso_form(
        client,
        trigger_id=body["trigger_id"],
        channel_id=channel_of(body),
        account_name=clicked.account,
        offers=offers,
    )


def pick(body: dict[str, Any], context: BoltContext, respond: Respond) -> None:
    clicked = PickButton.parse(action_value(body))
    with deps_of(context).db.begin() as session:
        chosen = meso_service.record_choice_by_position(
            session,
            team_id=team_of(body),
            meso_id=clicked.meso_id,
            position=clicked.position,
            user_id=body["user"]["id"],
            now=utcnow(),
        )
        priorities = meso_service.revealed_priorities(session, chosen.team_id, chosen.account_id)
    replace_clicked(respond, picked_reply(chosen, priorities))


# Slash command -> listener (handlers/rapport.py lists them in help).
COMMANDS = {COMMAND: meso}


def register(app: App) -> None:
    app.command(COMMAND)(meso)
    clicks_after_ack(
        app,
        {
            Action.MESO_TEMPLATE: start_from_template,
            Action.MESO_PICK: pick,
            Action.MESO_SHARE: share_set,
        },
    )
    app.view(View.MESO.value)(submit_meso)
