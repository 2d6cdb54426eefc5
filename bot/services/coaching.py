"""Which playbook entry helps at a given moment: after a buyer's answer, and when one
part of an account's health falls.

The words are the playbook's (messages/library/playbook.yaml, or a team's own file
merged over it); this module only chooses. Each moment names the entries that fit,
best first, so a team file that removes one (`key: null`) falls back to the next, and
to no advice at all rather than a wrong one.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.services.buyer_scores import Next
from messages.playbook import Playbook

# The best move for each part of the health score (bot.services.health.PARTS) when it
# falls, and why that one:
PART_MOVES: dict[str, tuple[tuple[str, str], ...]] = {
    # Promises slipping: trust is rebuilt by small promises kept, unchased.
    "kept": (("pitfalls", "liked-not-trusted"), ("checklist", "keep-promises")),
    # Going quiet: a useful note (a result, an insight) beats a "just checking in".
    "touch": (("checklist", "value-after-sale"), ("moves", "relationship-care")),
    # The buyer marked us down: find out what went wrong and fix one thing.
    "ratings": (("moves", "recovery"), ("situations", "objection")),
    # Gives handed over one way: ask for something back each time.
    "balance": (("pitfalls", "no-reciprocity"), ("checklist", "free-gives")),
    # Reviews slipping: agree who owns the rhythm and book the next one.
    "qbr": (("moves", "owners-cadence"), ("pitfalls", "vague-governance")),
    # Check-ins missed: put the reviews in the calendar rather than hoping.
    "checkins": (("pitfalls", "gone-after-sale"), ("moves", "relationship-care")),
    # Client questions answered late: answer within the norm, or say when you will.
    "replies": (("checklist", "reply-on-time"), ("pitfalls", "liked-not-trusted")),
}

ANSWER_MOVES: dict[Next, tuple[tuple[str, str], ...]] = {
    Next.REFERRAL: (("moves", "referral-ask"),),
    Next.RECOVERY: (("moves", "recovery"), ("situations", "objection")),
}


@dataclass(frozen=True)
class Advice:
    """One playbook entry as a suggestion shows it: its title (a checklist line has
    none, or "Avoid"), and either the line to say (a situation or a move: `say` true) or what to
    do (a pitfall's fix, a checklist line)."""

    key: str
    title: str | None
    text: str
    say: bool


def _entry(playbook: Playbook, section: str, key: str) -> Advice | None:
    if section in ("situations", "moves"):
        for prompt in playbook.prompts:
            if prompt.key == key:
                return Advice(key, prompt.title, prompt.line, say=True)
    elif section == "pitfalls":
        for pitfall in playbook.pitfalls:
            if pitfall.key == key:
                return Advice(key, pitfall.title, pitfall.fix, say=False)
    elif section == "checklist":
        for item in playbook.checklist:
            if item.key == key:
                # A thing to avoid says so; a thing to do reads as advice on its own.
                return Advice(key, "Avoid" if item.kind == "avoid" else None, item.text, say=False)
    return None


def _first(playbook: Playbook, choices: tuple[tuple[str, str], ...]) -> Advice | None:
    for section, key in choices:
        advice = _entry(playbook, section, key)
        if advice is not None:
            return advice
    return None


def for_part(playbook: Playbook, part: str) -> Advice | None:
    """The move most likely to lift `part` of the health score."""
    return _first(playbook, PART_MOVES.get(part, ()))


def for_answer(playbook: Playbook, move: Next | None) -> Advice | None:
    """What to do after an answer that calls for `move` (a referral ask, recovery)."""
    return None if move is None else _first(playbook, ANSWER_MOVES[move])
