"""/meso: build two or three equivalent offers for an account, and learn from the choice."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient

from bot.services import meso as meso_service
from bot.services.errors import UsageError
from bot.slackapi.roles import is_workspace_admin
from handlers.accounts import ACCOUNT, read_account_of, with_new_account
from handlers.after_ack import later
from handlers.caller import team_of
from handlers.context import Deps, deps_of, utcnow
from handlers.parsing import split_keyed, split_share_flag
from handlers.replies import ephemeral
from handlers.sharing import planned_post, post, report_post, share_channel
from handlers.views.meso import (
    meso_reply,
    open_meso_form,
    parse_amount,
    parse_tolerance,
    same_period,
)
from messages import render
from messages.ids import Action

COMMAND = "/meso"
_TOLERANCE = re.compile(r"(?<![\w-])tolerance\s*:\s*(\S*)", re.IGNORECASE)
_PICKED = re.compile(r"(?<![\w-])picked\s*:\s*(.*)$", re.IGNORECASE | re.DOTALL)
# An offer's label: a short word and a colon, at the start of its part.
_LABEL = re.compile(r"([^\s:|\"“”'‘’]{1,20})\s*:")
_RESERVED = {"value", "tolerance", "picked"}
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


def _offer(label: str, text: str) -> tuple[meso_service.OfferSpec, str]:
    """The offer, and what its value is counted per (month, year, or "")."""
    parts = split_keyed(text, ("value",), command=COMMAND)
    value = parts.fields.get("value")
    amount, period = parse_amount(value) if value else (None, "")
    try:
        offer = meso_service.OfferSpec(label=label, terms=parts.head or None, value_to_us=amount)
    except UsageError as error:
        raise UsageError(error.problem, usage=COMMAND) from None
    return offer, period


def read_offers(typed: tuple[OfferText, ...]) -> tuple[meso_service.OfferSpec, ...]:
    """The offers as typed, checked: two or three, valued over one period, labelled apart."""
    if len(typed) > meso_service.MAX_OFFERS:
        raise UsageError(
            f"A MESO is two or three offers; I read {len(typed)} (each after a `|`).",
            usage=COMMAND,
            key=OFFER,
        )
    read = [
        _offer(label or "ABC"[index], " ".join(body.split()))
        for index, (label, body) in enumerate(typed)
    ]
    same_period([(offer.label, period) for offer, period in read])
    offers = tuple(offer for offer, _ in read)
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
    # PostgreSQL text cannot hold NUL; Slack never sends one, a forged request might.
    text = text.replace("\x00", "").strip()
    if not text:
        return MesoInput()
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


def meso(ack: Ack, command: dict[str, str], context: BoltContext) -> None:
    request = parse_meso(command.get("text", ""))
    if request.account is None and request.tolerance_pct is None:
        # Right after the ack: the trigger_id is good for 3 s, the ack takes milliseconds.
        later(
            context,
            command,
            lambda client: open_meso_form(
                client, trigger_id=command["trigger_id"], channel_id=command.get("channel_id")
            ),
        )
        ack(**ephemeral(render("meso_form_opened")))
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
        return render(
            "meso_picked",
            meso=chosen,
            offer=meso_service.chosen_offer(chosen),
            account=chosen.account,
            priorities=meso_service.revealed_priorities(session, team_id, chosen.account_id),
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
    if request.share:
        channel = share_channel(built.meso.account.channel_id, command.get("channel_id"))
        message = render("meso_shared", built=built)
        shared = planned_post(channel)
        if channel:
            later(context, command, lambda client: report_post(post(client, channel, message)))
    return with_new_account(meso_reply(built, shared), reading)
