"""Issue 15's templates (the tradeables list; the negotiation prep) stay valid Block Kit
and inside Slack's sizes at their largest, with hostile text."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest

from bot.services import prep as prep_service
from bot.services.account_overview import AccountOverview, MesoOption, MesoSummary
from bot.services.concessions import Side, Tradeable
from bot.services.playbook_search import paginate
from bot.services.prep import Person, Points, Prep, PrepView, SavedPrep
from bot.services.tradeables import TRADEABLES_PAGE, tradeables_page
from handlers.prep import prep_modal
from messages import render
from messages.ids import Action
from messages.playbook import load_playbook
from tests.test_playbook_render import DEBRIEF_ANSWERS, HOSTILE, check, fill, plan
from tests.test_tradeables import MAX_SIDE_TEXT


def largest_pairs(text: str) -> list[Tradeable]:
    def side(n: int) -> Side:
        return Side(
            name=text[:40] or f"side {n}",
            ask=text[:MAX_SIDE_TEXT],
            words=(text[:40],),
            costs_us=text[:MAX_SIDE_TEXT],
            worth_to_them=text[:MAX_SIDE_TEXT],
        )

    return [Tradeable(id=f"pair-{n}", sides=(side(1), side(2))) for n in range(TRADEABLES_PAGE * 2)]


NOW = datetime(2026, 12, 4, 10, tzinfo=UTC)


def largest_prep(text: str) -> Prep:
    """A prep with every field at the most the form lets through."""
    item = (text * prep_service.MAX_ITEM)[: prep_service.MAX_ITEM] or "x"
    items = (item,) * prep_service.MAX_ITEMS
    long = (text * prep_service.MAX_TEXT)[: prep_service.MAX_TEXT] or None
    return Prep(
        id=9,
        account_id=7,
        number=12,
        question=(text * prep_service.MAX_QUESTION)[: prep_service.MAX_QUESTION] or "x",
        our_batna=long,
        their_batna=long,
        points=Points(target=9.99e11, reservation=1.5, anchor=1e12, period="quarter"),
        value_notes=long,
        people=tuple(
            Person(
                role=(text * 80)[: prep_service.MAX_ROLE] or "x",
                cares=(text * 300)[: prep_service.MAX_CARES] or None,
                decides=n % 2 == 0,
            )
            for n in range(prep_service.MAX_PEOPLE)
        ),
        our_issues=items,
        their_issues=items,
        we_can_give=items,
        we_want=items,
        opened_by="U0ALICE",
        opened_at=NOW,
        updated_by="U0BOB",
        updated_at=NOW,
        closed_at=None,
    )


def every_prep_template(text: str) -> None:
    account = SimpleNamespace(id=7, team_id="T0ACME", name=fill(80), stage="lost", lost_at=NOW)
    answer = (text * 2000)[:2000] or None
    debrief = SimpleNamespace(
        at=NOW,
        by_user="U0BOB",
        trust=answer,
        trades=answer,
        metrics=answer,
        governance=answer,
        next_meso=answer,
    )
    largest = largest_prep(text)
    bare = replace(
        largest,
        our_batna=None,
        their_batna=None,
        points=Points(),
        value_notes=None,
        people=(),
        our_issues=(),
        their_issues=(),
        we_can_give=(),
        we_want=(),
    )
    for prep in (largest, bare, None):
        for last in (debrief, None):
            view = PrepView(account=account, prep=prep, last_debrief=last)  # type: ignore[arg-type]
            check(render("prep_view", view=view, actions=Action))
            for new in (True, False):
                modal = prep_modal(view, new=new)
                assert modal["type"] == "modal" and len(modal["blocks"]) <= 100
                check(render("prep_form_opened", view=view, new=new))
    for closed in (largest, None):
        saved = SavedPrep(
            view=PrepView(account=account, prep=largest, last_debrief=debrief),  # type: ignore[arg-type]
            started=closed is not None,
            closed=closed,
        )
        render("prep_saved", saved=saved)
        render("prep_saved", saved=replace(saved, view=replace(saved.view, prep=bare)))


def card_with_prep(text: str) -> None:
    """The account card at its largest (as tests/test_playbook_render.py draws it), with
    the largest prep's line added."""
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
        plan=plan(fill(1000)),  # type: ignore[arg-type]
        latest_debrief=SimpleNamespace(  # type: ignore[arg-type]
            at=NOW, by_user="U0BOB", **dict.fromkeys(DEBRIEF_ANSWERS, fill(2000))
        ),
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
        prep=largest_prep(text),
    )
    check(render("account_view", view=overview, playbook=load_playbook(), actions=Action))


def every_template(text: str) -> None:
    """Each of these templates at its largest (and its emptiest) with `text`."""
    every_prep_template(text)
    card_with_prep(text)
    pairs = largest_pairs(text)
    for number in (1, 2):
        check(
            render(
                "playbook_tradeables",
                page=paginate(
                    pairs, number=number, size=TRADEABLES_PAGE, search=text[:200] or None
                ),
            )
        )
    check(render("playbook_tradeables", page=tradeables_page("")))
    check(
        render(
            "playbook_tradeables",
            page=paginate([], number=1, size=TRADEABLES_PAGE, search=text[:200] or "x"),
        )
    )


@pytest.mark.parametrize("text", [fill(MAX_SIDE_TEXT), "x", HOSTILE, ""])
def test_coaching_templates_at_their_largest(text: str) -> None:
    every_template(text)
