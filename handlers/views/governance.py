"""The governance plan modal: built from the account's plan, saved on submit."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, BoltContext

from bot.services import governance
from bot.services.errors import NotFound, UsageError
from handlers.caller import team_of
from handlers.context import deps_of, utcnow
from handlers.views.account_target import AccountTarget, without_nul
from messages import render
from messages.ids import GovernanceBlock, View
from storage.models import Account, GovernancePlan, ReviewCadence

# The modal's inputs carry max_length too; this guards what reaches the database.
MAX_PLAN_TEXT = 1000
_ID = "value"  # the action_id of the element inside every input block
_USER = re.compile(r"[UW][A-Z0-9]{2,31}")


def plan_modal(account: Account, plan: GovernancePlan | None) -> dict[str, Any]:
    return render(
        "governance_modal",
        callback_id=View.GOVERNANCE_PLAN,
        metadata=AccountTarget(account.id).to_metadata(),
        account=account,
        plan=plan,
        blocks=GovernanceBlock,
        max_text=MAX_PLAN_TEXT,
        max_owners=governance.MAX_OWNERS,
    )


def _element(values: dict[str, Any], block: GovernanceBlock) -> dict[str, Any]:
    element = (values.get(block.value) or {}).get(_ID) or {}
    return element if isinstance(element, dict) else {}


def _text(values: dict[str, Any], block: GovernanceBlock, label: str) -> str | None:
    raw = _element(values, block).get("value")
    text = without_nul(raw).strip() if isinstance(raw, str) else ""
    if len(text) > MAX_PLAN_TEXT:
        raise UsageError(f"{label} can be up to {MAX_PLAN_TEXT} characters.", field=block.value)
    return text or None


def parse_plan(values: dict[str, Any]) -> governance.PlanFields:
    """The submitted form as plan fields; a problem is shown under its input."""
    owners = _element(values, GovernanceBlock.OWNERS).get("selected_users") or []
    owner_ids = tuple(str(user) for user in owners)
    if any(not _USER.fullmatch(user) for user in owner_ids):
        raise UsageError("Pick the owners from the list of people.", field=GovernanceBlock.OWNERS)
    if not owner_ids:
        raise UsageError("Name at least one owner on our side.", field=GovernanceBlock.OWNERS)
    if len(owner_ids) > governance.MAX_OWNERS:
        raise UsageError(
            f"Up to {governance.MAX_OWNERS} owners; a plan everyone owns, nobody owns.",
            field=GovernanceBlock.OWNERS,
        )
    option = _element(values, GovernanceBlock.CADENCE).get("selected_option") or {}
    try:
        cadence = ReviewCadence(str(option.get("value")) if isinstance(option, dict) else "")
    except ValueError:
        raise UsageError(
            "Pick how often you will review the plan together.", field=GovernanceBlock.CADENCE
        ) from None
    kpis = _text(values, GovernanceBlock.KPIS, "KPIs")
    if not kpis:
        raise UsageError(
            "Name at least one number both sides will watch, with its threshold.",
            field=GovernanceBlock.KPIS,
        )
    escalation_owner = _element(values, GovernanceBlock.ESCALATION_OWNER).get("selected_user")
    if escalation_owner is not None and not _USER.fullmatch(str(escalation_owner)):
        raise UsageError(
            "Pick the first person to call from the list.", field=GovernanceBlock.ESCALATION_OWNER
        )
    return governance.PlanFields(
        cadence=cadence,
        owner_ids=owner_ids,
        kpis=kpis,
        credits=_text(values, GovernanceBlock.CREDITS, "Credits"),
        escalation_owner_id=escalation_owner or None,
        escalation=_text(values, GovernanceBlock.ESCALATION, "The escalation path"),
        exit_ramps=_text(values, GovernanceBlock.EXIT_RAMPS, "Exit ramps"),
        reopeners=_text(values, GovernanceBlock.REOPENERS, "Reopener triggers"),
    )


def save_plan(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    target = AccountTarget.from_metadata(view.get("private_metadata", ""))
    fields = parse_plan((view.get("state") or {}).get("values") or {})
    try:
        with deps_of(context).db.begin() as session:
            saved = governance.save_plan(
                session,
                team_id=team_of(body),
                account_id=target.account_id,
                user_id=body["user"]["id"],
                fields=fields,
                now=utcnow(),
            )
    except NotFound as gone:
        # Shown in the open modal; an empty answer would just close it.
        raise NotFound(gone.problem, field=GovernanceBlock.KPIS) from gone
    # The modal turns into the confirmation: no extra Slack call, nothing to clean up.
    ack(response_action="update", view=render("governance_saved", view=saved))
