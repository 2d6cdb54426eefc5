"""Governance and debriefs: /rapport governance (an account's governance plan) and
/rapport debrief, the buttons that open their modals (the plan, built from the
account's; the post-negotiation questions), and the modals' submissions.

The buttons run as lazy listeners (acked at once, then this work): views.open is a
Slack call whose retries may sleep, so it stays off the request path. Their errors are
told to the user by handlers/edge/after_ack.py's runner, through the app's error path.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.services import debrief_steps, governance
from bot.services.accounts import AccountShown, get_account
from bot.services.errors import UsageError
from bot.services.review_cadence import CadenceFit, cadence_fit
from handlers.edge.account_target import (
    AccountTarget,
    account_modal,
    open_about_account,
    saved_about_account,
)
from handlers.edge.accounts import read_account_of
from handlers.edge.after_ack import clicks_after_ack
from handlers.edge.caller import team_of
from handlers.edge.context import deps_of, utcnow
from handlers.edge.forms import Form
from handlers.edge.home_tab import refresh_home
from handlers.edge.payloads import action_value
from handlers.edge.replies import ephemeral, reply_below
from messages import render
from messages.ids import Action, DebriefBlock, GovernanceBlock, StepButton, View
from storage.models import ReviewCadence

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


def _named(session: Session, command: dict[str, str], text: str, subcommand: str) -> AccountShown:
    """The known account `/rapport SUBCOMMAND ACCOUNT` names (or this channel's)."""
    reading = read_account_of(
        session,
        command,
        text,
        usage=f"/rapport {subcommand}",
        whole=True,
        creates=False,
        missing=f"Name the account: `/rapport {subcommand} ACCOUNT`.",
    )
    return AccountShown.of(get_account(session, team_id=team_of(command), name=reading.name))


def governance_plan(ack: Ack, command: dict[str, str], context: BoltContext, args: str) -> None:
    team_id = team_of(command)
    with deps_of(context).db.begin() as session:
        found = _named(session, command, args, "governance")
        view = governance.governance_view(session, team_id=team_id, account=found)
        fit = cadence_fit(session, team_id=team_id, account_id=found.id)
    message = render(
        "governance_plan",
        view=view,
        fit=fit,
        edit_action=Action.GOVERNANCE_EDIT,
        align_action=Action.QBR_ALIGN,
    )
    ack(**ephemeral(message))


def debrief(ack: Ack, command: dict[str, str], context: BoltContext, args: str) -> None:
    with deps_of(context).db.begin() as session:
        found = _named(session, command, args, "debrief")
    ack(**ephemeral(render("debrief_start", account=found, start_action=Action.DEBRIEF_START)))


def edit_governance(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    def build(session: Session, account: AccountShown) -> dict[str, Any]:
        plan = governance.plan_of(session, team_id=account.team_id, account_id=account.id)
        return plan_modal(account, plan)

    open_about_account(body, context, client, build)


def start_debrief(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    open_about_account(body, context, client, lambda _session, account: debrief_modal(account))


# The modal's inputs carry max_length too; this guards what reaches the database.
MAX_PLAN_TEXT = 1000
_USER = re.compile(r"[UW][A-Z0-9]{2,31}")


def plan_modal(account: AccountShown, plan: governance.Plan | None) -> dict[str, Any]:
    return account_modal(
        "governance_modal",
        callback_id=View.GOVERNANCE_PLAN,
        account=account,
        plan=plan,
        blocks=GovernanceBlock,
        max_text=MAX_PLAN_TEXT,
        max_owners=governance.MAX_OWNERS,
    )


def _text(form: Form, block: GovernanceBlock, label: str) -> str | None:
    too_long = f"{label} can be up to {MAX_PLAN_TEXT} characters."
    return form.text(block, limit=MAX_PLAN_TEXT, too_long=too_long, lines=True)


def parse_plan(form: Form) -> governance.PlanFields:
    """The submitted form as plan fields; a problem is shown under its input."""
    owner_ids = tuple(form.users(GovernanceBlock.OWNERS))
    if any(not _USER.fullmatch(user) for user in owner_ids):
        raise UsageError("Pick the owners from the list of people.", field=GovernanceBlock.OWNERS)
    if not owner_ids:
        raise UsageError("Name at least one owner on our side.", field=GovernanceBlock.OWNERS)
    if len(owner_ids) > governance.MAX_OWNERS:
        raise UsageError(
            f"Up to {governance.MAX_OWNERS} owners; a plan everyone owns, nobody owns.",
            field=GovernanceBlock.OWNERS,
        )
    try:
        cadence = ReviewCadence(form.option(GovernanceBlock.CADENCE) or "")
    except ValueError:
        raise UsageError(
            "Pick how often you will review the plan together.", field=GovernanceBlock.CADENCE
        ) from None
    kpis = _text(form, GovernanceBlock.KPIS, "KPIs")
    if not kpis:
        raise UsageError(
            "Name at least one number both sides will watch, with its threshold.",
            field=GovernanceBlock.KPIS,
        )
    escalation_owner = form.user(GovernanceBlock.ESCALATION_OWNER)
    if escalation_owner is not None and not _USER.fullmatch(escalation_owner):
        raise UsageError(
            "Pick the first person to call from the list.", field=GovernanceBlock.ESCALATION_OWNER
        )
    return governance.PlanFields(
        cadence=cadence,
        owner_ids=owner_ids,
        kpis=kpis,
        credits=_text(form, GovernanceBlock.CREDITS, "Credits"),
        escalation_owner_id=escalation_owner or None,
        escalation=_text(form, GovernanceBlock.ESCALATION, "The escalation path"),
        exit_ramps=_text(form, GovernanceBlock.EXIT_RAMPS, "Exit ramps"),
        reopeners=_text(form, GovernanceBlock.REOPENERS, "Reopener triggers"),
    )


def save_plan(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    target = AccountTarget.parse(view.get("private_metadata", ""))
    fields = parse_plan(Form.of(view))
    team_id = team_of(body)

    def save(session: Session) -> tuple[governance.GovernanceView, CadenceFit | None]:
        saved = governance.save_plan(
            session,
            team_id=team_id,
            account_id=target.account_id,
            user_id=body["user"]["id"],
            fields=fields,
            now=utcnow(),
        )
        return saved, cadence_fit(session, team_id=team_id, account_id=saved.account.id)

    saved, fit = saved_about_account(context, save, field=GovernanceBlock.KPIS)
    # The modal turns into the confirmation: no extra Slack call, nothing to clean up.
    ack(response_action="update", view=plan_saved(saved, fit))


def plan_saved(view: governance.GovernanceView, fit: CadenceFit | None) -> dict[str, Any]:
    """The saved plan's modal, with its cadence beside the QBR rhythm."""
    return render("governance_saved", view=view, fit=fit, actions=Action)


MAX_ANSWER = 2000


def debrief_modal(account: AccountShown) -> dict[str, Any]:
    return account_modal(
        "debrief_modal",
        callback_id=View.DEBRIEF,
        account=account,
        blocks=DebriefBlock,
        max_text=MAX_ANSWER,
    )


def _answer(form: Form, block: DebriefBlock) -> str | None:
    too_long = f"Answers can be up to {MAX_ANSWER} characters."
    return form.text(block, limit=MAX_ANSWER, too_long=too_long, lines=True)


def parse_debrief(form: Form) -> governance.DebriefAnswers:
    answers = governance.DebriefAnswers(
        trust=_answer(form, DebriefBlock.TRUST),
        trades=_answer(form, DebriefBlock.TRADES),
        metrics=_answer(form, DebriefBlock.METRICS),
        governance=_answer(form, DebriefBlock.GOVERNANCE),
        next_meso=_answer(form, DebriefBlock.NEXT_MESO),
    )
    if answers.is_empty:
        raise UsageError(
            "Answer at least one question to save a debrief.", field=DebriefBlock.TRUST
        )
    return answers


def save_debrief(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext
) -> None:
    target = AccountTarget.parse(view.get("private_metadata", ""))
    answers = parse_debrief(Form.of(view))
    team_id = team_of(body)

    def save(session: Session) -> tuple[governance.SavedDebrief, debrief_steps.DebriefSteps]:
        saved = governance.record_debrief(
            session,
            team_id=team_id,
            account_id=target.account_id,
            user_id=body["user"]["id"],
            answers=answers,
            view_id=str(view.get("id", ""))[:40],
            now=utcnow(),
        )
        steps = debrief_steps.debrief_steps(session, team_id=team_id, debrief_id=saved.debrief.id)
        return saved, steps

    saved, steps = saved_about_account(context, save, field=DebriefBlock.TRUST)
    ack(response_action="update", view=debrief_saved(saved, steps))


def debrief_saved(
    saved: governance.SavedDebrief, steps: debrief_steps.DebriefSteps
) -> dict[str, Any]:
    """The debrief's modal once saved, ending with its improvement steps."""
    return render("debrief_saved", saved=saved, steps=steps, actions=Action)


def accept_step(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """One of a debrief's improvement steps, recorded as the clicker's follow-up (once);
    said where it was clicked: the debrief's modal is redrawn, the account card gets a
    reply under it."""
    clicked = StepButton.parse(action_value(body))
    deps, team_id, user_id = deps_of(context), team_of(body), body["user"]["id"]
    in_modal = bool(body.get("view"))
    with deps.db.begin() as session:
        recorded = debrief_steps.record_step(
            session,
            team_id=team_id,
            debrief_id=clicked.debrief_id,
            step=clicked.step,
            user_id=user_id,
            # The clicker owns the follow-up: it falls on their working days.
            calendar=deps.calendar_of(session, team_id=team_id, user_id=user_id),
            now=utcnow(),
        )
        if in_modal:
            saved = debrief_steps.saved_debrief(
                session, team_id=team_id, debrief_id=clicked.debrief_id
            )
    if in_modal:
        client.views_update(view_id=body["view"]["id"], view=debrief_saved(saved, recorded.steps))
    elif context.respond is not None:
        message = render("debrief_step_recorded", recorded=recorded)
        reply_below(context.respond, message)
    refresh_home(context, team_id=team_id, user_id=user_id)


# /rapport subcommand -> listener (handlers/rapport.py routes them).
SUBCOMMANDS = {"governance": governance_plan, "debrief": debrief}


def register(app: App) -> None:
    clicks_after_ack(
        app,
        {
            Action.GOVERNANCE_EDIT: edit_governance,
            Action.DEBRIEF_START: start_debrief,
            Action.DEBRIEF_STEP: accept_step,
        },
    )
    app.view(View.GOVERNANCE_PLAN.value)(save_plan)
    app.view(View.DEBRIEF.value)(save_debrief)
