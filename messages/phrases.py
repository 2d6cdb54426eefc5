"""Sentences built around a give as the rep typed it, grammatical whatever its form.

A give is typed either as a thing ("a 5% discount", "rush delivery") or as an action
("waive the implementation fee"). Templates once glued either form onto "We can do …",
which read "We can do waive the fee". Here the verb is kept apart from the phrase: an
action keeps its own verb ("We can waive …", "agreed to waive …"), a thing gets one
("We can offer …", "gave …").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Verbs a give starts with when it is written as an action. Words that are at least as
# often a noun at the start of a give ("discount", "credit", "rush", "pilot") are left
# out: "We can offer rush delivery" reads well either way, "We can discount" would not.
ACTION_VERBS = frozenset(
    """
    absorb accept add agree allow assign backdate be bring bundle cap co-author commit cover
    cut defer delay deliver double drop expedite extend fast-track fix freeze give grant
    guarantee halve
    hold honor honour host include increase keep let lock lower match move offer onboard
    open pay provide raise reduce remove run ship shorten skip split sponsor supply swap
    sign take throw train upgrade waive widen
    """.split()
)

# What a rep may write before the action itself: "we'll waive", "to waive", "can waive".
_LEAD_IN = re.compile(
    r"^(?:(?:we|i)(?:'ll|’ll| will| can| could| would)?\s+|(?:can|could|will)\s+|to\s+)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Give:
    """A give split into its own verb (None when written as a thing) and the rest."""

    verb: str | None
    rest: str

    @property
    def text(self) -> str:
        return f"{self.verb} {self.rest}".strip() if self.verb else self.rest


def read_give(text: str) -> Give:
    words = " ".join(text.split())
    stripped = _LEAD_IN.sub("", words, count=1)
    first, _, rest = stripped.partition(" ")
    if first.casefold() in ACTION_VERBS:
        return Give(verb=first.casefold(), rest=rest)
    return Give(verb=None, rest=words)


def we_can(text: str) -> str:
    """ "We can waive the fee" / "We can offer a 5% discount"."""
    give = read_give(text)
    return f"We can {give.text}" if give.verb else f"We can offer {give.rest}"


def gave(text: str) -> str:
    """What we did, for a log line: "agreed to waive the fee" / "gave a 5% discount"."""
    give = read_give(text)
    return f"agreed to {give.text}" if give.verb else f"gave {give.rest}"
