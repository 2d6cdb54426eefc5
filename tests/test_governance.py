"""/rapport governance and /rapport debrief: the reply, the button, the modal, the save."""

from __future__ import annotations

import time
from typing import Any

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select

from bot.devtools.localslack import LocalSlack
from messages.ids import Action, DebriefBlock, GovernanceBlock, View
from storage.db import SessionFactory
from storage.models import Account, Debrief, GovernancePlan
from tests.slackkit import (
    ALICE,
    BOB,
    OTHER_TEAM,
    SlackSender,
    block_action,
    view_submission,
)

NOW = "2026-11-23T10:00:00Z"


def wait_for(slack: LocalSlack, method: str, count: int = 1) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        calls = slack.calls(method)
        if len(calls) >= count:
            return [c.args for c in calls]
        time.sleep(0.02)
    raise AssertionError(f"{method} was not called {count} times")


def count(db: SessionFactory, model: type) -> int:
    with db() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def button(reply_body: dict[str, Any], action_id: str) -> dict[str, Any]:
    for block in reply_body["blocks"]:
        for element in block.get("elements", []):
            if element.get("action_id") == action_id:
                return dict(element)
    raise AssertionError(f"no {action_id} button")


def text_value(text: str | None) -> dict[str, Any]:
    return {"value": {"type": "plain_text_input", "value": text}}


def plan_values(
    *,
    owners: list[str] | None = None,
    cadence: str | None = "monthly",
    kpis: str | None = "Uptime 99.9% monthly; first response under 4 hours",
    exit_ramps: str | None = "Either side may pause if volume drops 30% for a quarter",
) -> dict[str, dict[str, Any]]:
    values: dict[str, dict[str, Any]] = {
        GovernanceBlock.OWNERS: {
            "value": {"type": "multi_users_select", "selected_users": owners or []}
        },
        GovernanceBlock.CADENCE: {
            "value": {
                "type": "static_select",
                "selected_option": {"value": cadence} if cadence else None,
            }
        },
        GovernanceBlock.KPIS: text_value(kpis),
        GovernanceBlock.CREDITS: text_value("5% credit per missed month"),
        GovernanceBlock.ESCALATION_OWNER: {"value": {"type": "users_select", "selected_user": BOB}},
        GovernanceBlock.ESCALATION: text_value(None),
        GovernanceBlock.EXIT_RAMPS: text_value(exit_ramps),
        GovernanceBlock.REOPENERS: text_value(None),
    }
    return {str(key): value for key, value in values.items()}


def account_id(db: SessionFactory, name: str = "acme") -> int:
    with db() as session:
        return session.scalars(select(Account.id).where(Account.key == name)).one()


@pytest.fixture
def acme(slack_user: SlackSender, db: SessionFactory) -> int:
    slack_user.command("/rapport", "account acme type: strategic")
    return account_id(db)


def open_plan_modal(slack_user: SlackSender, slack: LocalSlack, acme: int) -> dict[str, Any]:
    reply = slack_user.command("/rapport", "governance acme")
    edit = button(reply.body, Action.GOVERNANCE_EDIT)
    assert edit["value"] == str(acme)
    before = len(slack.calls("views.open"))
    clicked = slack_user.interact(block_action(Action.GOVERNANCE_EDIT, edit["value"]))
    assert clicked.status == 200
    opened = wait_for(slack, "views.open", before + 1)[-1]
    assert opened["trigger_id"] == "1337.42.trigger"
    view: dict[str, Any] = opened["view"]
    return view


def test_governance_without_a_plan_explains_it_and_offers_the_modal(
    slack_user: SlackSender, acme: int
) -> None:
    reply = slack_user.command("/rapport", "governance acme")

    assert reply.status == 200 and reply.ephemeral
    assert "has no governance plan yet" in reply.text
    assert "attach it to every option" in reply.text
    assert button(reply.body, Action.GOVERNANCE_EDIT)["text"]["text"] == "Write the plan"


def test_governance_of_an_unknown_account_says_so(slack_user: SlackSender) -> None:
    reply = slack_user.command("/rapport", "governance nowhere")
    assert reply.ephemeral and "no account called “nowhere”" in reply.text


def test_edit_plan_button_opens_the_modal_with_user_pickers(
    slack_user: SlackSender, slack: LocalSlack, acme: int
) -> None:
    view = open_plan_modal(slack_user, slack, acme)

    assert view["callback_id"] == View.GOVERNANCE_PLAN
    elements = {block.get("block_id"): block.get("element", {}) for block in view["blocks"]}
    assert elements[GovernanceBlock.OWNERS]["type"] == "multi_users_select"
    assert elements[GovernanceBlock.ESCALATION_OWNER]["type"] == "users_select"
    assert set(GovernanceBlock) <= set(elements)


def test_submitting_the_plan_saves_it_and_shows_it_everywhere(
    slack_user: SlackSender, slack: LocalSlack, db: SessionFactory, acme: int
) -> None:
    view = open_plan_modal(slack_user, slack, acme)
    with freeze_time(NOW, real_asyncio=True):
        saved = slack_user.interact(
            view_submission(
                View.GOVERNANCE_PLAN,
                plan_values(owners=[ALICE, BOB]),
                private_metadata=view["private_metadata"],
            )
        )

    assert saved.status == 200
    assert saved.body["response_action"] == "update"
    assert "Saved the governance plan for *acme*" in saved.text
    assert "Still open: an escalation path, reopener triggers" in saved.text
    with db() as session:
        plan = session.scalars(select(GovernancePlan)).one()
        assert plan.owner_ids == [ALICE, BOB]
        assert (plan.cadence, plan.escalation_owner_id, plan.updated_by) == ("monthly", BOB, ALICE)
        assert plan.reopeners is None

    shown = slack_user.command("/rapport", "governance acme")
    assert "Monthly" in shown.text and f"<@{ALICE}>, <@{BOB}>" in shown.text
    assert "Uptime 99.9%" in shown.text and "5% credit per missed month" in shown.text
    assert "Edit plan" in shown.text
    summary = slack_user.command("/rapport", "account acme")
    assert "Monthly reviews" in summary.text and "Uptime 99.9%" in summary.text


def test_editing_the_plan_prefills_the_modal_and_updates_one_row(
    slack_user: SlackSender, slack: LocalSlack, db: SessionFactory, acme: int
) -> None:
    view = open_plan_modal(slack_user, slack, acme)
    meta = view["private_metadata"]
    slack_user.interact(
        view_submission(View.GOVERNANCE_PLAN, plan_values(owners=[ALICE]), private_metadata=meta)
    )

    again = open_plan_modal(slack_user, slack, acme)
    elements = {block.get("block_id"): block.get("element", {}) for block in again["blocks"]}
    assert elements[GovernanceBlock.OWNERS]["initial_users"] == [ALICE]
    assert elements[GovernanceBlock.CADENCE]["initial_option"]["value"] == "monthly"
    assert elements[GovernanceBlock.KPIS]["initial_value"].startswith("Uptime")

    slack_user.interact(
        view_submission(
            View.GOVERNANCE_PLAN,
            plan_values(owners=[BOB], cadence="quarterly", exit_ramps=None),
            private_metadata=meta,
            user=BOB,
        )
    )
    assert count(db, GovernancePlan) == 1
    with db() as session:
        plan = session.scalars(select(GovernancePlan)).one()
        assert (plan.owner_ids, plan.cadence, plan.exit_ramps) == ([BOB], "quarterly", None)
        assert (plan.created_by, plan.updated_by) == (ALICE, BOB)


@pytest.mark.parametrize(
    ("values", "field", "phrase"),
    [
        (plan_values(owners=[]), GovernanceBlock.OWNERS, "at least one owner"),
        (plan_values(owners=[ALICE], cadence=None), GovernanceBlock.CADENCE, "how often"),
        (plan_values(owners=[ALICE], cadence="hourly"), GovernanceBlock.CADENCE, "how often"),
        (plan_values(owners=[ALICE], kpis="  "), GovernanceBlock.KPIS, "number both sides"),
        (plan_values(owners=[ALICE], kpis="x" * 1001), GovernanceBlock.KPIS, "up to 1000"),
    ],
)
def test_bad_plan_shows_the_problem_under_its_field_and_saves_nothing(
    slack_user: SlackSender,
    db: SessionFactory,
    acme: int,
    values: dict[str, Any],
    field: str,
    phrase: str,
) -> None:
    meta = f'{{"account_id": {acme}}}'
    reply = slack_user.interact(
        view_submission(View.GOVERNANCE_PLAN, values, private_metadata=meta)
    )

    assert reply.status == 200
    assert reply.body["response_action"] == "errors"
    assert list(reply.body["errors"]) == [field]
    assert phrase in reply.body["errors"][field]
    assert count(db, GovernancePlan) == 0


def test_another_teams_account_is_never_opened_or_written(
    slack_user: SlackSender, slack: LocalSlack, db: SessionFactory, acme: int
) -> None:
    clicked = slack_user.interact(
        block_action(
            Action.GOVERNANCE_EDIT,
            str(acme),
            team=OTHER_TEAM,
            response_url=slack.response_url("other"),
        )
    )
    assert clicked.status == 200
    answer = wait_for(slack, "response_url")[-1]
    assert answer["response_type"] == "ephemeral"
    assert "no longer there" in str(answer)
    assert slack.calls("views.open") == []

    submitted = slack_user.interact(
        view_submission(
            View.GOVERNANCE_PLAN,
            plan_values(owners=[ALICE]),
            private_metadata=f'{{"account_id": {acme}}}',
            team=OTHER_TEAM,
        )
    )
    assert submitted.body["response_action"] == "errors"
    assert count(db, GovernancePlan) == 0


# --- debrief ------------------------------------------------------------------------


def debrief_values(**answers: str) -> dict[str, dict[str, Any]]:
    return {str(block): text_value(answers.get(block.name.lower())) for block in DebriefBlock}


def open_debrief(slack_user: SlackSender, slack: LocalSlack) -> dict[str, Any]:
    reply = slack_user.command("/rapport", "debrief acme")
    assert reply.ephemeral
    assert "Where did trust grow" in reply.text
    start = button(reply.body, Action.DEBRIEF_START)
    slack_user.interact(block_action(Action.DEBRIEF_START, start["value"]))
    view: dict[str, Any] = wait_for(slack, "views.open")[-1]["view"]
    return view


def test_debrief_asks_the_questions_in_a_modal(
    slack_user: SlackSender, slack: LocalSlack, acme: int
) -> None:
    view = open_debrief(slack_user, slack)

    assert view["callback_id"] == View.DEBRIEF
    assert [b["block_id"] for b in view["blocks"] if b["type"] == "input"] == list(DebriefBlock)
    labels = " ".join(b["label"]["text"] for b in view["blocks"] if b["type"] == "input")
    for words in ("trust", "trades", "noisy, or were gamed", "escalations", "next set of options"):
        assert words in labels


def test_debrief_submission_is_stored_once_and_dated_on_the_account(
    slack_user: SlackSender, slack: LocalSlack, db: SessionFactory, acme: int
) -> None:
    view = open_debrief(slack_user, slack)
    submission = view_submission(
        View.DEBRIEF,
        debrief_values(trust="Grew when we owned the outage", next_meso="A pilot-first option"),
        private_metadata=view["private_metadata"],
        view_id="V0DEBRIEF1",
    )
    with freeze_time(NOW, real_asyncio=True):
        first = slack_user.interact(submission)
        second = slack_user.interact(submission)  # Slack delivering it twice

    for reply in (first, second):
        assert reply.body["response_action"] == "update"
        assert "Debrief saved for *acme* on Mon 23 Nov 2026" in reply.text
        assert "A pilot-first option" in reply.text
    assert count(db, Debrief) == 1
    with db() as session:
        debrief = session.scalars(select(Debrief)).one()
        assert (debrief.by_user, debrief.trust, debrief.trades) == (
            ALICE,
            "Grew when we owned the outage",
            None,
        )
    summary = slack_user.command("/rapport", "account acme")
    assert "Latest debrief" in summary.text and "Mon 23 Nov 2026" in summary.text


def test_empty_debrief_asks_for_an_answer(
    slack_user: SlackSender, db: SessionFactory, acme: int
) -> None:
    reply = slack_user.interact(
        view_submission(
            View.DEBRIEF, debrief_values(), private_metadata=f'{{"account_id": {acme}}}'
        )
    )
    assert reply.body["response_action"] == "errors"
    assert "at least one question" in reply.body["errors"][DebriefBlock.TRUST]
    assert count(db, Debrief) == 0


def test_debrief_of_an_unknown_account_says_so(slack_user: SlackSender, slack: LocalSlack) -> None:
    reply = slack_user.command("/rapport", "debrief nowhere")
    assert reply.ephemeral and "no account called" in reply.text
    assert slack.calls("views.open") == []


def test_when_slack_refuses_the_modal_the_user_hears_about_it(
    slack_user: SlackSender, slack: LocalSlack, acme: int
) -> None:
    slack.fail_next("views.open", error="expired_trigger_id")
    slack_user.interact(
        block_action(Action.GOVERNANCE_EDIT, str(acme), response_url=slack.response_url("btn"))
    )

    answer = wait_for(slack, "response_url")[-1]
    assert answer["response_type"] == "ephemeral"
    assert "Something went wrong" in str(answer)
