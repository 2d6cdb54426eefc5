"""Near misses: which known names a mistyped word most likely meant."""

from __future__ import annotations

from collections.abc import Iterable

from rapidfuzz import fuzz, process

# Below this similarity (0-100) a name is not offered: `hlep` is 75 from `help`,
# `pitfall` 93 from `pitfalls`, while unrelated words score under 50.
MIN_SIMILARITY = 60
# Names close to the best one are offered beside it; a clear winner is offered alone.
CLOSE_TO_BEST = 15


def closest(word: str, names: Iterable[str], *, limit: int = 3) -> list[str]:
    """The names `word` most likely meant, best first; none when nothing is close."""
    found = process.extract(
        word.casefold(),
        list(names),
        scorer=fuzz.ratio,
        processor=str.casefold,
        limit=limit,
        score_cutoff=MIN_SIMILARITY,
    )
    if not found:
        return []
    best = found[0][1]
    return [name for name, score, _ in found if score >= best - CLOSE_TO_BEST]
