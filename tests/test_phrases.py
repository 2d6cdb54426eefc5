"""Sentences around a give: grammatical for every give in the tradeables library."""

from __future__ import annotations

import pytest

from bot.services.concessions import fits_for_give, tradeables
from messages.phrases import ACTION_VERBS, gave, read_give, we_can
from messages.render import _environment


@pytest.mark.parametrize(
    ("give", "offer", "logged"),
    [
        (
            "waive the implementation fee of $12,000",
            "We can waive the implementation fee of $12,000",
            "agreed to waive the implementation fee of $12,000",
        ),
        ("a 5% discount", "We can offer a 5% discount", "gave a 5% discount"),
        ("rush delivery", "We can offer rush delivery", "gave rush delivery"),
        ("we'll extend the pilot", "We can extend the pilot", "agreed to extend the pilot"),
        ("to throw in training", "We can throw in training", "agreed to throw in training"),
        ("Waive setup", "We can waive setup", "agreed to waive setup"),
    ],
)
def test_a_give_reads_well_in_either_form(give: str, offer: str, logged: str) -> None:
    assert (we_can(give), gave(give)) == (offer, logged)


def every_tradeable_word() -> list[str]:
    return [word for t in tradeables() for side in t.sides for word in (side.name, *side.words)]


@pytest.mark.parametrize("word", every_tradeable_word())
def test_every_tradeable_reads_well_as_a_thing_and_as_an_action(word: str) -> None:
    thing = f"a better {word}"
    assert we_can(thing) == f"We can offer {thing}"
    assert gave(thing) == f"gave {thing}"
    for verb in ("extend", "waive", "add"):
        action = f"{verb} the {word}"
        assert we_can(action) == f"We can {action}"
        assert gave(action) == f"agreed to {action}"


def test_every_ask_is_an_action_that_follows_could_you() -> None:
    for tradeable in tradeables():
        for side in tradeable.sides:
            assert read_give(side.ask).verb in ACTION_VERBS, side.ask


def test_the_ask_back_line_is_grammatical_for_every_tradeable() -> None:
    ask_back = _environment().from_string(
        '{% from "_concession.j2" import ask_back %}{{ ask_back(give, fits) }}'
    )
    for word in every_tradeable_word():
        for give, opening in ((f"waive the {word}", "We can waive"), (f"a {word}", "We can offer")):
            text = ask_back.render(give=give, fits=fits_for_give(give)[:2])
            assert f"“{opening} " in text, text
            assert "We can do" not in text
