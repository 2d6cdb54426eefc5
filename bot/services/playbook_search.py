"""Searching the playbook (`messages/playbook.py`): the right coaching line for loose
words, and the long lists (pitfalls, checklist, templates) a page at a time."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from bot.services.errors import UsageError
from messages.playbook import ChecklistItem, FillIn, Pitfall, Playbook, Prompt

T = TypeVar("T")

# Close enough to forgive a typo ("renwal", "stakeholdrs"), far enough apart that
# unrelated words ("prize" for "price" is fine, "pipe" is not) fall through to the list.
FUZZY_CUTOFF = 0.75
MAX_QUERY = 200
# The score of a declared phrase found whole inside the query (fuzzy matches score
# below 1, an exact query 3).
PHRASE_FOUND = 2.0
_WORD = re.compile(r"[\w']+")


@dataclass(frozen=True)
class PromptMatch:
    """The best prompt for a query (None when nothing is close), and other near ones."""

    query: str
    prompt: Prompt | None
    related: tuple[Prompt, ...] = ()


def _normal(text: str) -> str:
    return " ".join(_WORD.findall(text.casefold().replace("-", " ")))


def normal_words(text: str) -> list[str]:
    """The words of `text` as searches compare them: folded, hyphens as spaces."""
    return _normal(text).split()


def _phrases(prompt: Prompt) -> tuple[str, ...]:
    return tuple(
        dict.fromkeys(_normal(p) for p in (prompt.key, prompt.title, *prompt.aliases) if _normal(p))
    )


def find_prompt(playbook: Playbook, query: str) -> PromptMatch:
    """Exact key, title or alias first; then a declared phrase inside the query; then
    the closest spelling of a phrase or of one of the query's words."""
    wanted = _normal(query[:MAX_QUERY])
    if not wanted:
        return PromptMatch(query="", prompt=None)
    scored: dict[str, tuple[float, Prompt]] = {}

    def consider(prompt: Prompt, score: float) -> None:
        if score > scored.get(prompt.key, (0.0, prompt))[0]:
            scored[prompt.key] = (score, prompt)

    padded = f" {wanted} "
    words = wanted.split()
    for prompt in playbook.prompts:
        for phrase in _phrases(prompt):
            if phrase == wanted:
                consider(prompt, 3.0)
            elif f" {phrase} " in padded:
                # Longer declared phrases are more specific: "price negotiation" beats "price".
                consider(prompt, PHRASE_FOUND + min(len(phrase), 40) / 100)
            else:
                ratio = difflib.SequenceMatcher(None, wanted, phrase).ratio()
                if len(phrase.split()) == 1:
                    ratio = max(
                        [ratio]
                        + [
                            difflib.SequenceMatcher(None, word, phrase).ratio()
                            for word in words
                            if len(word) >= 4
                        ]
                    )
                if ratio >= FUZZY_CUTOFF:
                    consider(prompt, ratio)
    if not scored:
        return PromptMatch(query=query.strip()[:MAX_QUERY], prompt=None)
    ranked = sorted(scored.values(), key=lambda pair: -pair[0])
    # A reaction gives way to a topic named in the same words ("price pushback").
    topics = [pair for pair in ranked if not pair[1].broad and pair[0] >= PHRASE_FOUND]
    if ranked[0][1].broad and topics:
        ranked.remove(topics[0])
        ranked.insert(0, topics[0])
    best_score, best = ranked[0]
    related = tuple(
        p for score, p in ranked[1:4] if score >= PHRASE_FOUND or best_score < PHRASE_FOUND
    )
    return PromptMatch(query=query.strip()[:MAX_QUERY], prompt=best, related=related)


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a long list, and where it sits in the whole."""

    items: tuple[T, ...]
    number: int
    pages: int
    total: int
    # The words the list was narrowed to, if any.
    search: str | None = None

    @property
    def next_number(self) -> int | None:
        return self.number + 1 if self.number < self.pages else None


_PAGE_ARG = re.compile(r"(?:page\s*)?(\d{1,6})", re.I)


def page_request(args: str) -> tuple[int, str | None]:
    """`""` -> page 1; `2` or `page 2` -> page 2; other words -> a search, page 1."""
    text = " ".join(args.split())
    if not text:
        return 1, None
    match = _PAGE_ARG.fullmatch(text)
    if match:
        return int(match.group(1)), None
    return 1, text[:MAX_QUERY]


def paginate(
    items: Sequence[T],
    *,
    number: int,
    size: int,
    search: str | None = None,
) -> Page[T]:
    pages = max(1, -(-len(items) // size))
    if number < 1 or number > pages:
        there = (
            "it all fits on one page: leave the number out"
            if pages == 1
            else f"there are {pages} pages: ask for a page from 1 to {pages}"
        )
        raise UsageError(
            f"I read page {number}, but {there}, or give a word to search for.", key="PAGE"
        )
    start = (number - 1) * size
    return Page(
        items=tuple(items[start : start + size]),
        number=number,
        pages=pages,
        total=len(items),
        search=search,
    )


PITFALLS_PAGE = 8
TEMPLATES_PAGE = 8
CHECKLIST_PAGE = 24


def _page_of(items: Sequence[T], args: str, size: int, text_of: Callable[[T], str]) -> Page[T]:
    """The page `args` asks for, of the items whose text has every word it searches for."""
    number, search = page_request(args)
    if search:
        wanted = _normal(search).split()
        items = [i for i in items if all(word in _normal(text_of(i)) for word in wanted)]
    return paginate(items, number=number, size=size, search=search)


def pitfalls_page(playbook: Playbook, args: str) -> Page[Pitfall]:
    return _page_of(
        playbook.pitfalls, args, PITFALLS_PAGE, lambda p: f"{p.key} {p.title} {p.why} {p.fix}"
    )


def templates_page(playbook: Playbook, args: str) -> Page[FillIn]:
    return _page_of(
        playbook.templates, args, TEMPLATES_PAGE, lambda t: f"{t.key} {t.title} {t.text}"
    )


def checklist_page(playbook: Playbook, args: str) -> Page[ChecklistItem]:
    # "Do" first, then "avoid", whatever order a team file added them in.
    items = sorted(playbook.checklist, key=lambda i: i.kind != "do")
    return _page_of(items, args, CHECKLIST_PAGE, lambda i: f"{i.kind} {i.text}")
