"""What people type into a field to say there is nothing to put there: one reading for
every field that takes free text (`get: none`, a prep's `n/a`, `referral: none`)."""

from __future__ import annotations

NOTHING = frozenset(
    {
        "nothing", "nothing yet", "nothing back", "nothing in return", "none", "none yet",
        "no", "nope", "nil", "nada", "zero", "0", "n/a", "na", "n.a.", "-", "--", "—", "–",
        "tbd", "tba", "tbc", "not yet", "?", "??", "x", "unknown", "not sure",
    }
)  # fmt: skip


def reads_as_nothing(text: str | None) -> bool:
    """True when `text` says there is nothing (`none`, `n/a`, `TBD`, empty…)."""
    words = " ".join((text or "").casefold().split())
    return words.strip(" .!") in NOTHING | {""} or words in NOTHING
