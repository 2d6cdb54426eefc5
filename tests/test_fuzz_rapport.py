"""Random text into every /rapport parser and modal: always an answer, never half-written."""

from __future__ import annotations

from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st
from sqlalchemy import select

from messages.ids import DebriefBlock, GovernanceBlock, View
from storage.db import SessionFactory
from storage.models import Account, Debrief, GovernancePlan
from tests.fuzzing import FUZZ, command_text, row_counts
from tests.slackkit import SlackSender, view_submission

SUBCOMMANDS = ["prompt", "pitfalls", "checklist", "templates", "account", "governance", "debrief"]
WORDS = [
    "type:",
    "owner:",
    "expects:",
    "<@U0BOB|bob>",
    "<@U0BOB>",
    "@bob",
    "strategic",
    "page",
    "2",
    "999999",
    "price",
    "acme",
    '"',
    "“",
    " ",
    "<!channel>",
    "\x00",
]
rapport_text = st.tuples(st.sampled_from(SUBCOMMANDS), command_text(WORDS, max_words=10))


def counts(db: SessionFactory) -> tuple[int, ...]:
    return row_counts(db, Account, GovernancePlan, Debrief)


def assert_answered(reply: Any) -> None:
    assert reply.status == 200
    assert reply.ephemeral
    assert reply.text
    assert "<!channel>" not in reply.parsed
    assert "Something went wrong" not in reply.text


@FUZZ
@given(case=rapport_text)
@example(case=("account", "acme type: strategic owner: @bob"))
@example(case=("account", "x" * 81 + " type: strategic"))
@example(case=("account", "acme expects: " + "y" * 501))
@example(case=("pitfalls", "page 0"))
@example(case=("prompt", "\x00\u2028"))
@example(case=("governance", "<!channel>"))
def test_rapport_subcommands_answer_any_text(
    slack_user: SlackSender, db: SessionFactory, case: tuple[str, str]
) -> None:
    subcommand, text = case
    before = counts(db)
    reply = slack_user.command("/rapport", f"{subcommand} {text}")
    after = counts(db)

    assert_answered(reply)
    assert after[1:] == before[1:], "commands never write plans or debriefs"
    created = after[0] - before[0]
    assert created in ((0, 1) if subcommand == "account" else (0,))
    if reply.body["blocks"][0]["text"]["text"].startswith(":warning:"):
        assert after == before, "a refused command writes nothing"


maybe_text = st.one_of(st.none(), st.text(max_size=1100))


@FUZZ
@given(
    owners=st.lists(st.one_of(st.just("U0BOB"), st.text(max_size=8)), max_size=12),
    cadence=st.one_of(st.none(), st.sampled_from(["monthly", "weekly", "hourly", ""])),
    kpis=maybe_text,
    other=maybe_text,
    metadata=st.one_of(st.just("ACCOUNT"), st.text(max_size=30)),
)
def test_governance_modal_answers_any_input(
    slack_user: SlackSender,
    db: SessionFactory,
    owners: list[str],
    cadence: str | None,
    kpis: str | None,
    other: str | None,
    metadata: str,
) -> None:
    slack_user.command("/rapport", "account acme type: strategic")
    with db() as session:
        account_id = session.scalars(select(Account.id)).one()
    values = {
        GovernanceBlock.OWNERS: {"value": {"selected_users": owners}},
        GovernanceBlock.CADENCE: {"value": {"selected_option": {"value": cadence}}},
        GovernanceBlock.KPIS: {"value": {"value": kpis}},
        GovernanceBlock.EXIT_RAMPS: {"value": {"value": other}},
        GovernanceBlock.ESCALATION_OWNER: {"value": {"selected_user": other}},
    }
    meta = f'{{"account_id": {account_id}}}' if metadata == "ACCOUNT" else metadata
    before = counts(db)
    reply = slack_user.interact(
        view_submission(
            View.GOVERNANCE_PLAN, {str(k): v for k, v in values.items()}, private_metadata=meta
        )
    )
    after = counts(db)

    assert reply.status == 200
    if reply.body.get("response_action") == "update":
        assert after[1] == 1
    else:
        assert after == before


@FUZZ
@given(answers=st.lists(maybe_text, min_size=5, max_size=5), view_id=st.text(max_size=50))
def test_debrief_modal_answers_any_input(
    slack_user: SlackSender, db: SessionFactory, answers: list[str | None], view_id: str
) -> None:
    slack_user.command("/rapport", "account acme type: strategic")
    with db() as session:
        account_id = session.scalars(select(Account.id)).one()
    values = {
        str(block): {"value": {"value": answer}}
        for block, answer in zip(DebriefBlock, answers, strict=True)
    }
    before = counts(db)
    reply = slack_user.interact(
        view_submission(
            View.DEBRIEF,
            values,
            private_metadata=f'{{"account_id": {account_id}}}',
            view_id=view_id,
        )
    )
    after = counts(db)

    assert reply.status == 200
    if reply.body.get("response_action") == "update":
        assert after[2] - before[2] in (0, 1)
    else:
        assert reply.body.get("response_action") == "errors"
        assert after == before
