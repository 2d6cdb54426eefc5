"""Every line the product shows is in our own words: nothing under messages/ (the
templates, the coaching library, the help) repeats a run of eight words from the
articles the domain was taken from (../shared/seeds/, beside the checkout when it is
there).

Eight words is the bar the coaching issue set: long enough that common phrases ("the
account manager can", "at the end of the") never trip it, short enough that a copied
sentence always does, even with its punctuation or capitals changed.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT.parent / "shared" / "seeds"
RUN = 8
# Words, with an apostrophe inside one ("can't", "buyer's"); typographic quotes count
# as the plain one, so a curly apostrophe hides nothing.
WORD = re.compile(r"[a-z0-9]+(?:'[a-z0-9]+)*")
PRODUCT_TEXT = (".py", ".yaml", ".yml", ".j2", ".json", ".md", ".txt")


def words(text: str) -> list[str]:
    return WORD.findall(text.lower().replace("\u2019", "'").replace("\u2018", "'"))


def runs(text: str) -> set[tuple[str, ...]]:
    found = words(text)
    return {tuple(found[i : i + RUN]) for i in range(len(found) - RUN + 1)}


def shared_runs(product: str, seeds: dict[tuple[str, ...], str]) -> list[str]:
    """The runs of `product` found in a seed (run -> the seed's file name)."""
    return [
        f"{' '.join(run)!r} (from {seeds[run]})" for run in sorted(runs(product) & seeds.keys())
    ]


def test_a_copied_run_is_found_whatever_its_case_and_punctuation() -> None:
    seeds = dict.fromkeys(
        runs("Customers expect responses to their queries within four hours."), "a"
    )
    assert shared_runs("customers EXPECT responses, to their queries: within four", seeds)
    assert not shared_runs("Customers expect an answer to their queries within four hours", seeds)


@pytest.mark.skipif(not SEEDS.is_dir(), reason="the seed articles are not beside this checkout")
def test_messages_share_no_run_of_eight_words_with_the_seed_articles() -> None:
    seeds = {
        run: path.name for path in sorted(SEEDS.glob("*.txt")) for run in runs(path.read_text())
    }
    copied = {
        str(path.relative_to(ROOT)): found
        for path in sorted((ROOT / "messages").rglob("*"))
        if path.is_file() and path.suffix in PRODUCT_TEXT
        if (found := shared_runs(path.read_text(), seeds))
    }
    assert not copied, copied
