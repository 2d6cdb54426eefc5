"""Sentences around a give: grammatical for every give in the tradeables library."""

from __future__ import annotations

import re

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


@pytest.mark.parametrize(
    ("give", "offer", "logged"),
    [
        # An amount on its own names no thing: it is given, never called a discount.
        ("10%", "We can give you 10%", "gave them 10%"),
        ("$12,000", "We can give you $12,000", "gave them $12,000"),
        ("2 months free", "We can give you 2 months free", "gave them 2 months free"),
        ("10% off", "We can give you 10% off", "gave them 10% off"),
        ("1 free month", "We can give you 1 free month", "gave them 1 free month"),
        ("$12,000 off the licence", "We can give you $12,000 off the licence", None),
        ("24/7 support", "We can give you 24/7 support", None),
        # One countable thing typed without its article gets it, said as it is read.
        ("10% discount", "We can offer a 10% discount", "gave a 10% discount"),
        ("discount of 10%", "We can offer a discount of 10%", None),
        ("12-month term", "We can offer a 12-month term", None),
        ("8-week pilot", "We can offer an 8-week pilot", None),
        ("11% discount", "We can offer an 11% discount", None),
        ("$500 credit", "We can offer a $500 credit", None),
        ("110-day trial", "We can offer a 110-day trial", None),
        ("SLA upgrade", "We can offer an SLA upgrade", None),
        ("exclusivity window", "We can offer an exclusivity window", None),
        ("case study", "We can offer a case study", None),
        ("proof of concept", "We can offer a proof of concept", None),
        ("full refund", "We can offer a full refund", None),
        # Already with its determiner, uncountable or plural: as typed.
        ("the 5% loyalty discount", "We can offer the 5% loyalty discount", None),
        ("premium support", "We can offer premium support", None),
        ("unlimited users", "We can offer unlimited users", None),
        ("one free month", "We can offer one free month", None),
    ],
)
def test_amounts_and_bare_things_read_as_sentences(
    give: str, offer: str, logged: str | None
) -> None:
    assert we_can(give) == offer
    if logged is not None:
        assert gave(give) == logged


AMOUNTS = ("10%", "$12,000", "2 months free")


@pytest.mark.parametrize("word", every_tradeable_word())
def test_every_tradeable_and_amount_makes_a_sentence(word: str) -> None:
    """Over the whole list, each give typed bare, after an amount and before one: an
    amount never follows "offer" bare, and no single thing goes without its article."""
    gives = [word, *(f"{amount} {word}" for amount in AMOUNTS), f"{word} of 10%", *AMOUNTS]
    for give in gives:
        if read_give(give).verb:
            continue  # an action ("swap", "pause"): its own verb, tested above
        sentence = we_can(give)
        assert sentence.startswith(("We can offer ", "We can give you ")), sentence
        assert re.search(r"We can offer [$€£]?\d", sentence) is None, sentence
        assert re.search(r"\b(?:a|an) (?:a|an|the)\b", sentence) is None, sentence
        said = sentence.removeprefix("We can offer ").removeprefix("We can give you ")
        assert said in (give, f"a {give}", f"an {give}"), "the give stays as typed"
        assert gave(give) in (f"gave {said}", f"gave them {said}"), gave(give)


def test_tradeable_words_are_words_as_written() -> None:
    """YAML reads a bare `off` or `no` as a boolean: "10% off" once matched no pair."""
    assert all(w not in ("True", "False", "None") for w in every_tradeable_word())
    assert [fit.tradeable for fit in fits_for_give("10% off")] == ["volume-price"]
    assert we_can("sla upgrade") == "We can offer an sla upgrade"
