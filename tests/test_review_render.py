"""The review side of coaching (the plan's cadence beside the QBR rhythm; what a debrief
leads to) stays valid Block Kit inside Slack's sizes at its largest, with hostile text:
the saved plan, the answer to lining QBRs up, and the account card with everything it
can carry at once (plan, cadence, the last debrief, the prep, client questions, KPIs)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest

from bot.services import account_kpis
from bot.services.account_kpis import AccountKpis, Done
from bot.services.account_overview import AccountOverview, MesoOption, MesoSummary
from bot.services.debrief_steps import STEPS, DebriefSteps, StepRecorded, StepShown
from bot.services.governance import GovernanceView, SavedDebrief
from bot.services.questions import AccountReplies, ReplyTally
from bot.services.review_cadence import CadenceFit
from handlers.governance import debrief_saved, plan_saved
from messages import render
from messages.ids import Action
from messages.playbook import load_playbook
from tests.test_coaching_render import largest_prep
from tests.test_playbook_render import HOSTILE, check, fill, plan
from tests.test_reply_render import question

NOW = datetime(2026, 12, 3, 10, tzinfo=UTC)


def fits() -> list[CadenceFit | None]:
    """The plan beside the QBR rhythm in each of its states, and no plan at all."""
    base = CadenceFit(
        account_id=7,
        plan_cadence="fortnightly",
        fitting="month",
        qbr_cadence="quarter",
        next_on=date(2027, 1, 4),
        can_align=True,
    )
    return [
        base,
        replace(base, qbr_cadence=None, next_on=None),
        replace(base, qbr_cadence="month"),
        replace(base, plan_cadence="quarterly", fitting="quarter", qbr_cadence="quarter"),
        replace(base, can_align=False),
        replace(base, plan_cadence="something older", fitting="quarter"),
        None,
    ]


def debrief(text: str) -> SimpleNamespace:
    answer = (text * 2000)[:2000] or None
    return SimpleNamespace(
        at=NOW,
        by_user="U0BOB",
        trust=answer,
        trades=answer,
        metrics=answer,
        governance=answer,
        next_meso=answer,
    )


def steps_of(account: SimpleNamespace, *, taken: int, lost: bool = False) -> DebriefSteps:
    """A debrief's steps with the first `taken` of them recorded, at the longest."""
    shown = []
    for n, step in enumerate(STEPS):
        recorded = n < taken
        shown.append(
            StepShown(
                step=step,
                what=fill(500),
                due_on=date(2027, 1, 19) if recorded else None,
                accepted_by="U0BOB" if recorded else None,
                accepted_at=NOW if recorded else None,
                done=n == 0,
                again=n == 1,
            )
        )
    if lost:
        account = SimpleNamespace(**{**vars(account), "stage": "lost"})
    return DebriefSteps(debrief_id=9, account=account, steps=tuple(shown))  # type: ignore[arg-type]


def largest_card(
    text: str, fit: CadenceFit | None, steps: DebriefSteps | None = None
) -> AccountOverview:
    """The account card with every part at its largest."""
    account = SimpleNamespace(
        id=7,
        team_id="T0ACME",
        name=fill(80),
        owner_id="U0ALICE",
        relationship_type="personal",
        expectations=fill(500),
        stage="open",
        paused_until=date(2026, 12, 7),
        lost_at=None,
        channel_id="C0ACMEDEAL",
    )
    many = [question(text or "x", n, answered=True, late=n % 2 == 0) for n in range(1, 6)]
    tally = ReplyTally(answered=120, within=100, waiting_late=7, median_minutes=299)
    return AccountOverview(
        account=account,  # type: ignore[arg-type]
        balance=SimpleNamespace(traded=3, one_way=9, is_drifting=True),  # type: ignore[arg-type]
        plan=plan(fill(1000)),  # type: ignore[arg-type]
        latest_debrief=debrief(text),  # type: ignore[arg-type]
        meso=MesoSummary(
            offered_at=NOW,
            offered_by="U0BOB",
            options=tuple(MesoOption(fill(20), (fill(1000),) * 4) for _ in range(3)),
            chosen=None,
        ),
        open_commitments=tuple(
            SimpleNamespace(what=fill(1000), due_on=date(2026, 12, 1), owner_id="U0ALICE")  # type: ignore[misc]
            for _ in range(5)
        ),
        open_count=40,
        changed=("type", "owner", "expects"),
        prep=largest_prep(text or "x"),
        replies=AccountReplies(tally, tuple(many), 3, 240, NOW),
        kpis=AccountKpis(
            next_renewal=date(2026, 11, 30),
            last_outcome="not_renewed",
            last_renewed_on=date(2025, 11, 30),
            renewals_decided=12,
            renewed=11,
            repeats=9999,
            last_repeat=Done(date(2026, 12, 1), fill(account_kpis.MAX_NOTE)),
            referrals=40,
            last_referral=Done(None, fill(account_kpis.MAX_NOTE)),
        ),
        cadence=fit,
        debrief_steps=steps,
    )


def every_template(text: str) -> None:
    """Each template of the review side at its largest (and its emptiest) with `text`."""
    account = SimpleNamespace(id=7, team_id="T0ACME", name=fill(80), stage="open")
    view = GovernanceView(account=account, plan=plan((text * 1000)[:1000]))  # type: ignore[arg-type]
    step_states = [steps_of(account, taken=n) for n in range(4)]
    step_states.append(steps_of(account, taken=1, lost=True))
    for fit, steps in zip(fits(), [*step_states, None, step_states[0]], strict=True):
        saved = plan_saved(view, fit)
        assert saved["type"] == "modal" and len(saved["blocks"]) <= 100
        card = largest_card(text, fit, steps)
        check(render("account_view", view=card, playbook=load_playbook(), actions=Action))
    saved_debrief = SavedDebrief(account=account, debrief=debrief(text), count=40)  # type: ignore[arg-type]
    for steps in step_states:
        modal = debrief_saved(saved_debrief, steps)
        assert modal["type"] == "modal" and len(modal["blocks"]) <= 100
        for step in steps.steps:
            if not step.accepted:
                continue  # a click always leaves its step accepted
            recorded = StepRecorded(steps=steps, step=step, created=not step.again)
            check(render("debrief_step_recorded", recorded=recorded))
    scheduled = {
        "text": "x",
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "x"}}],
    }
    for was, changed in (("quarter", True), (None, True), ("month", False)):
        fit = fits()[2]
        check(
            render(
                "qbr_aligned",
                fit=fit,
                was=was,
                changed=changed,
                account=account,
                scheduled=scheduled,
            )
        )


@pytest.mark.parametrize("text", [fill(2000), "x", HOSTILE, ""])
def test_review_templates_at_their_largest(text: str) -> None:
    every_template(text)
