"""Browsing the tradeables library (messages/library/tradeables.yaml, read by
`concessions.tradeables`): `/rapport tradeables [WORD]`, every pair with what moving
each side costs us and what it is worth to them, narrowed by loose words and paged
like the playbook's lists."""

from __future__ import annotations

import difflib

from bot.services.concessions import Tradeable, tradeables
from bot.services.playbook_search import Page, normal_words, page_request, paginate

# A page of pairs stays well inside one message: each pair is one section of at most
# about 1,400 characters (tests/test_coaching_render.py renders the largest).
TRADEABLES_PAGE = 6
# A typo is read only from four letters up ("sla" must be typed as is), and only for
# a word found nowhere as typed: "escalation" is that pair's, not a typo of "evaluation".
FUZZY_MIN = 4
# Stricter than the prompt search's FUZZY_CUTOFF, which compares whole phrases: one word
# against another, 0.75 reads "channel" as "change"; a dropped or swapped letter in a
# word of four letters or more ("exclusivty", "refrence", "prcie") still scores 0.8.
WORD_CUTOFF = 0.8


def _words(tradeable: Tradeable) -> set[str]:
    text = " ".join(
        part
        for side in tradeable.sides
        for part in (side.name, side.ask, side.costs_us, side.worth_to_them, *side.words)
    )
    return set(normal_words(f"{tradeable.id.replace('-', ' ')} {text}"))


def _found(wanted: str, words: set[str]) -> bool:
    """A searched word as typed, or as the start of a word (`exclusiv`, from 3 letters)."""
    return wanted in words or (len(wanted) >= 3 and any(w.startswith(wanted) for w in words))


def _close(wanted: str, words: set[str]) -> bool:
    """A searched word read as a typo of one of `words`."""
    if len(wanted) < FUZZY_MIN:
        return False
    return bool(difflib.get_close_matches(wanted, words, n=1, cutoff=WORD_CUTOFF))


def tradeables_page(args: str) -> Page[Tradeable]:
    """The page `args` asks for (`2`, `page 2`), or the pairs the searched words are in:
    those with every word, or else those with the most of them (`pilot credits` names
    two pairs, and shows both)."""
    number, search = page_request(args)
    pairs = list(tradeables())
    if search:
        library = [(pair, _words(pair)) for pair in pairs]
        everywhere = set().union(*(words for _, words in library))
        wanted = normal_words(search)
        typed = {word for word in wanted if _found(word, everywhere)}

        def score(words: set[str]) -> int:
            return sum(
                _found(word, words) if word in typed else _close(word, words) for word in wanted
            )

        scored = [(score(words), pair) for pair, words in library]
        best = max((found for found, _ in scored), default=0)
        pairs = [pair for found, pair in scored if best and found == best]
    return paginate(pairs, number=number, size=TRADEABLES_PAGE, search=search)
