"""/rapport tradeables: the tradeables library, browsable, with what each side costs us
and is worth to them, narrowed by loose words and paged."""

from __future__ import annotations

import pytest

from bot.services.concessions import tradeables
from bot.services.tradeables import tradeables_page
from tests.slackkit import SlackSender

# What a side's texts may hold and still keep a page of pairs inside one message
# (tests/test_coaching_render.py renders pairs this long).
MAX_SIDE_TEXT = 160


def test_every_side_says_what_it_costs_us_and_is_worth_to_them() -> None:
    for pair in tradeables():
        for side in pair.sides:
            assert side.costs_us and side.worth_to_them, (pair.id, side.name)
            assert len(side.costs_us) <= MAX_SIDE_TEXT and len(side.worth_to_them) <= MAX_SIDE_TEXT
            assert len(side.name) <= 40 and len(side.ask) <= MAX_SIDE_TEXT


@pytest.mark.parametrize(
    ("words", "pairs"),
    [
        ("", {"term-sla", "volume-price", "pilot-exclusivity", "marketing-references",
              "escalation-credits", "notice-flexibility"}),  # the first page
        ("sla", {"term-sla"}),
        ("net 60", {"payment-start"}),
        ("SLA", {"term-sla"}),
        ("exclusivty", {"pilot-exclusivity"}),  # a typo
        ("discount", {"volume-price"}),  # one of the words a give is matched by
        ("price discount", {"volume-price"}),
        ("refrence", {"marketing-references"}),
        ("exclusiv", {"pilot-exclusivity"}),  # the start of a word
        # Two words of two pairs: both pairs, not nothing.
        ("pilot escalation", {"pilot-exclusivity", "escalation-credits"}),
        ("zzzz", set()),
    ],
)  # fmt: skip
def test_words_narrow_the_list_as_loosely_as_a_rep_types_them(words: str, pairs: set[str]) -> None:
    assert {pair.id for pair in tradeables_page(words).items} == pairs


def test_tradeables_lists_every_pair_with_cost_and_worth(slack_user: SlackSender) -> None:
    reply = slack_user.command("/rapport", "tradeables")

    assert reply.status == 200 and reply.ephemeral
    assert "*Contract length  ⇄  SLA tier*" in reply.text
    assert "_Costs us:_ Support staffing" in reply.text
    assert "_Worth to them:_ Budget certainty" in reply.text
    # Giving one side, ask for the other: the SLA tier given, a longer term asked.
    assert "_Giving it? Ask them to_ sign for a longer term" in reply.text
    assert "`/rapport tradeables price`" in reply.text


def test_tradeables_narrowed_by_a_word(slack_user: SlackSender) -> None:
    reply = slack_user.command("/rapport", "tradeables exclusivty")
    assert "Pilot scope  ⇄  exclusivity window" in reply.text
    assert "Contract length" not in reply.text
    assert "Showing what matches “exclusivty”" in reply.text


def test_tradeables_with_nothing_matching_says_so(slack_user: SlackSender) -> None:
    reply = slack_user.command("/rapport", "tradeables <!channel> banana")
    assert reply.ephemeral and "No tradeable mentions" in reply.text
    assert "<!channel>" not in str(reply.body)


def test_a_page_past_the_end_says_how_many(slack_user: SlackSender) -> None:
    reply = slack_user.command("/rapport", "tradeables 5")
    assert reply.status == 200 and "I read page 5, but there are 2 pages" in reply.text


def test_help_lists_tradeables(slack_user: SlackSender) -> None:
    assert "`/rapport tradeables [WORD|PAGE]`" in slack_user.command("/rapport", "help").text
