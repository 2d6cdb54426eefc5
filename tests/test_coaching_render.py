"""Issue 15's templates (the tradeables list; the negotiation prep) stay valid Block Kit
and inside Slack's sizes at their largest, with hostile text."""

from __future__ import annotations

import pytest

from bot.services.concessions import Side, Tradeable
from bot.services.playbook_search import paginate
from bot.services.tradeables import TRADEABLES_PAGE, tradeables_page
from messages import render
from tests.test_playbook_render import HOSTILE, check, fill
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


def every_template(text: str) -> None:
    """Each of these templates at its largest (and its emptiest) with `text`."""
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
