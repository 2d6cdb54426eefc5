"""The post-negotiation debrief modal: the questions, and the answers saved on submit."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext

from bot.services import governance
from bot.services.errors import NotFound, UsageError
from handlers.caller import team_of
from handlers.context import deps_of, utcnow
from handlers.views.account_target import AccountTarget, without_nul
from messages import render
from messages.ids import DebriefBlock, View
from storage.models import Account

MAX_ANSWER = 2000


def debrief_modal(account: Account) -> dict[str, Any]:
    return render(
        "debrief_modal",
        callback_id=View.DEBRIEF,
        metadata=AccountTarget(account.id).to_metadata(),
        account=account,
        blocks=DebriefBlock,
        max_text=MAX_ANSWER,
    )


def _answer(values: dict[str, Any], block: DebriefBlock) -> str | None:
    element = (values.get(block.value) or {}).get("value") or {}
    raw = element.get("value") if isinstance(element, dict) else None
    text = without_nul(raw).strip() if isinstance(raw, str) else ""
    if len(text) > MAX_ANSWER:
        raise UsageError(f"Answers can be up to {MAX_ANSWER} characters.", field=block.value)
    return text or None


def parse_debrief(values: dict[str, Any]) -> governance.DebriefAnswers:
    answers = governance.DebriefAnswers(
        trust=_answer(values, DebriefBlock.TRUST),
        trades=_answer(values, DebriefBlock.TRADES),
        metrics=_answer(values, DebriefBlock.METRICS),
        governance=_answer(values, DebriefBlock.GOVERNANCE),
        next_meso=_answer(values, DebriefBlock.NEXT_MESO),
    )
    if answers.is_empty:
        raise UsageError(
            "Answer at least one question to save a debrief.", field=DebriefBlock.TRUST
        )
    return answers


def save_debrief(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext
) -> None:
    target = AccountTarget.from_metadata(view.get("private_metadata", ""))
    answers = parse_debrief((view.get("state") or {}).get("values") or {})
    try:
        with deps_of(context).db.begin() as session:
            saved = governance.record_debrief(
                session,
                team_id=team_of(body),
                account_id=target.account_id,
                user_id=body["user"]["id"],
                answers=answers,
                view_id=without_nul(str(view.get("id", "")))[:40],
                now=utcnow(),
            )
    except NotFound as gone:
        # Shown in the open modal; an empty answer would just close it.
        raise NotFound(gone.problem, field=DebriefBlock.TRUST) from gone
    ack(response_action="update", view=render("debrief_saved", saved=saved))
