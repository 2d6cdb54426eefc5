"""The new templates stay valid Block Kit, and inside Slack's sizes, at their largest."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from bot.services import playbook_search as coach
from bot.services.account_overview import AccountOverview, MesoOption, MesoSummary
from bot.services.governance import GovernanceView, SavedDebrief
from bot.services.review_cadence import CadenceFit
from messages import render
from messages.ids import Action, DebriefBlock, GovernanceBlock, View
from messages.playbook import (
    MAX_ALIAS,
    MAX_CHECKLIST_TEXT,
    MAX_ENTRIES,
    MAX_TEXT,
    MAX_TITLE,
    ChecklistItem,
    FillIn,
    Pitfall,
    Playbook,
    Prompt,
    load_playbook,
)
from tests.slackkit import mrkdwn_texts

# The answers of a debrief (bot.services.governance.DebriefShown).
DEBRIEF_ANSWERS = ("trust", "trades", "metrics", "governance", "next_meso")
NOW = datetime(2026, 11, 22, 10, tzinfo=UTC)
HOSTILE = "<!channel> @here & <https://evil.test|invoice> \u2028 *bold* \"q\" 'a' : - # _x_ "
# Slack refuses messages whose blocks add up to about 13.2k characters (bolt-js#2509).
MAX_MESSAGE_CHARS = 13_000


def fill(limit: int) -> str:
    return (HOSTILE * (limit // len(HOSTILE) + 1))[:limit]


def largest_playbook() -> Playbook:
    def prompt(i: int, kind: str) -> Prompt:
        text = fill(MAX_TEXT)
        return Prompt(
            key=f"{kind[:3]}-{i:02d}-" + "k" * 30,
            kind=kind,
            title=fill(MAX_TITLE),
            aliases=(fill(MAX_ALIAS),),
            line=text,
            why=text,
            risk=text,
            when=text if kind == "move" else None,
            signal=text if kind == "move" else None,
            not_when=text,
        )

    built_in = load_playbook()
    return Playbook(
        prompts=tuple(prompt(i, "situation") for i in range(MAX_ENTRIES))
        + tuple(prompt(i, "move") for i in range(MAX_ENTRIES)),
        pitfalls=tuple(
            Pitfall(f"p{i}", fill(MAX_TITLE), fill(MAX_TEXT), fill(MAX_TEXT))
            for i in range(MAX_ENTRIES)
        ),
        checklist=tuple(
            ChecklistItem(f"c{i}", "do" if i % 2 else "avoid", fill(MAX_CHECKLIST_TEXT))
            for i in range(MAX_ENTRIES)
        ),
        templates=tuple(
            FillIn(f"t{i}", fill(MAX_TITLE), fill(MAX_TEXT)) for i in range(MAX_ENTRIES)
        ),
        relationship_types=built_in.relationship_types,
    )


def check(message: dict[str, Any]) -> None:
    assert len(message["blocks"]) <= 50
    size = len(json.dumps(message["blocks"], ensure_ascii=False))
    assert size <= MAX_MESSAGE_CHARS, f"{size} characters of blocks"
    # plain_text (headers, buttons) is never parsed for mentions; mrkdwn and `text` are.
    for text in [message["text"], *mrkdwn_texts(message["blocks"])]:
        assert "<!channel>" not in text and "<https://evil" not in text and "@here" not in text


@pytest.mark.parametrize("library", [load_playbook(), largest_playbook()], ids=["built-in", "max"])
def test_every_playbook_page_fits_one_message(library: Playbook) -> None:
    check(render("playbook_index", query=fill(300), playbook=library))
    for prompt in library.prompts[:3] + library.prompts[-3:]:
        check(render("playbook_prompt", prompt=prompt, related=library.prompts[:3]))
    for pager, template in (
        (coach.pitfalls_page, "playbook_pitfalls"),
        (coach.checklist_page, "playbook_checklist"),
        (coach.templates_page, "playbook_templates"),
    ):
        pages = pager(library, "").pages
        for number in range(1, pages + 1):
            check(render(template, page=pager(library, str(number))))
        check(render(template, page=pager(library, fill(300))))


def plan(text: str) -> SimpleNamespace:
    return SimpleNamespace(
        cadence="monthly",
        owner_ids=["U0ALICE"] * 10,
        kpis=text,
        credits=text,
        escalation_owner_id="U0BOB",
        escalation=text,
        exit_ramps=text,
        reopeners=None,
        updated_by="U0ALICE",
        updated_at=NOW,
    )


@pytest.mark.parametrize("text", [fill(1000), "x", HOSTILE])
def test_account_and_governance_templates_at_their_largest(text: str) -> None:
    account = SimpleNamespace(
        id=7,
        name=fill(80),
        owner_id="U0ALICE",
        relationship_type="personal",
        expectations=fill(500),
        stage="open",
        paused_until=date(2026, 12, 7),
        channel_id="C0ACMEDEAL",
    )
    overview = AccountOverview(
        account=account,  # type: ignore[arg-type]
        balance=SimpleNamespace(traded=3, one_way=9, is_drifting=True),  # type: ignore[arg-type]
        plan=plan(text),  # type: ignore[arg-type]
        latest_debrief=SimpleNamespace(  # type: ignore[arg-type]
            at=NOW, by_user="U0BOB", **dict.fromkeys(DEBRIEF_ANSWERS, text)
        ),
        meso=MesoSummary(
            offered_at=NOW,
            offered_by="U0BOB",
            options=tuple(MesoOption(text[:20], (text,) * 4) for _ in range(3)),
            chosen=text[:20],
        ),
        open_commitments=tuple(
            SimpleNamespace(what=text, due_on=date(2026, 12, 1), owner_id="U0ALICE")  # type: ignore[misc]
            for _ in range(5)
        ),
        open_count=40,
        changed=("type", "owner", "expects"),
    )
    check(render("account_view", view=overview, playbook=load_playbook(), actions=Action))
    bare = AccountOverview(
        account=SimpleNamespace(
            **{**vars(account), "relationship_type": None, "expectations": None}
        ),  # type: ignore[arg-type]
        balance=SimpleNamespace(traded=0, one_way=0, is_drifting=False),  # type: ignore[arg-type]
        plan=None,
        latest_debrief=None,
        meso=None,
        open_commitments=(),
        open_count=0,
    )
    check(render("account_view", view=bare, playbook=load_playbook(), actions=Action))
    apart = CadenceFit(7, "weekly", "month", "quarter", date(2027, 1, 4), can_align=True)
    for with_plan in (plan(text), None):
        view = GovernanceView(account=account, plan=with_plan)  # type: ignore[arg-type]
        shown = render(
            "governance_plan",
            view=view,
            fit=apart if with_plan else None,
            edit_action=Action.GOVERNANCE_EDIT,
            align_action=Action.QBR_ALIGN,
        )
        check(shown)
        aligns = [b for b in shown["blocks"] if "qbr_align" in json.dumps(b.get("accessory"))]
        assert len(aligns) == (1 if with_plan else 0)
        modal = render(
            "governance_modal",
            callback_id=View.GOVERNANCE_PLAN,
            metadata='{"account_id": 7}',
            account=account,
            plan=with_plan,
            blocks=GovernanceBlock,
            max_text=1000,
            max_owners=10,
        )
        assert modal["type"] == "modal" and len(modal["blocks"]) <= 100
    render(
        "governance_saved",
        view=GovernanceView(account=account, plan=plan(text)),  # type: ignore[arg-type]
        fit=None,
        actions=Action,
    )
    render(
        "debrief_modal",
        callback_id=View.DEBRIEF,
        metadata="{}",
        account=account,
        blocks=DebriefBlock,
        max_text=2000,
    )
    debrief = SimpleNamespace(at=NOW, next_meso=fill(2000))
    render(
        "debrief_saved",
        saved=SavedDebrief(account=account, debrief=debrief, count=3),  # type: ignore[arg-type]
        steps=None,
        actions=Action,
    )
    check(render("debrief_start", account=account, start_action=Action.DEBRIEF_START))
