"""Sentences built around a give as the rep typed it, grammatical whatever its form.

A give is typed either as a thing ("a 5% discount", "rush delivery") or as an action
("waive the implementation fee"). Templates once glued either form onto "We can do …",
which read "We can do waive the fee". Here the verb is kept apart from the phrase: an
action keeps its own verb ("We can waive …", "agreed to waive …"), a thing gets one
("We can offer …", "gave …").

A thing is kept as typed, with two repairs so that it reads as a sentence: a single
countable thing without its article gets one ("12-month term" → "We can offer a
12-month term"), and an amount on its own, which names no thing to offer, is given
("10%", "2 months free" → "We can give you 10%", "We can give you 2 months free"),
never dressed up as something it may not be (a discount, a credit).
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


# Words that already say which or how many: no article goes before them.
_DETERMINERS = frozenset(
    """
    a an the our your their its my his her this that these those some any more less
    another one no every each all both half either neither several many much few such
    what which whatever
    """.split()
)
# Singular things a give can be: "discount", "a two-year term", "case study". Without
# a determiner they want "a"/"an" ("We can offer a discount", not "offer discount").
_COUNTABLE = frozenset(
    """
    band bonus call cap commitment concession contract credit date discount downgrade
    engineer evaluation extension freeze guarantee hotline intro introduction licence
    license lock logo minimum month path period pilot poc price proof quote rate rebate
    reference referral refund release review sandbox seat session slot sla study swap
    term testimonial tier trial upgrade user waiver webinar week window workshop year
    """.split()
)
# The head of "discount of 10%" or "credit on the next invoice" comes before these.
_PREPOSITIONS = frozenset(
    "of for on in with to off from per at until through over during after before by".split()
)
# An amount: "10%", "$12,000", "2", "2.5k", "12-month", "24/7".
_AMOUNT = re.compile(r"[$€£¥]?\d[\d,.]*(?:%|k|m|bn)?(?:[-/][\w-]+)?", re.IGNORECASE)
# A plain count ("1", "5", "1,000"), which says how many as "a" would.
_COUNT = re.compile(r"\d{1,3}(?:,\d{3})*|\d+")
# Letters whose names start with a vowel sound: "an SLA", "an NDA", but "a POC".
_VOWEL_LETTERS = frozenset("AEFHILMNORSX")
# … also when typed in lower case.
_ACRONYMS = frozenset("sla nda msa sow poc roi kpi api sso".split())


def _article(word: str) -> str:
    """ "a" or "an", by how `word` is said."""
    amount = re.match(r"[$€£¥]?(\d[\d,]*)", word)
    if amount is not None:
        digits = amount.group(1).rstrip(",")
        lead = digits.split(",")[0] if "," in digits else digits
        # "an 8-week pilot", "an 11% discount", "an 18,000 credit"; "a 110-day term".
        spoken_vowel = lead.startswith("8") or (len(lead) % 3 == 2 and lead[:2] in ("11", "18"))
        return "an" if spoken_vowel else "a"
    letters = word.strip("\"'“‘(")
    if letters.casefold() in _ACRONYMS:
        letters = letters.upper()
    if len(letters) > 1 and letters.isupper() and letters.isalpha():
        return "an" if letters[0] in _VOWEL_LETTERS else "a"
    lower = letters.casefold()
    if lower.startswith(("uni", "use", "usu", "eu", "one", "once")):
        return "a"
    if lower.startswith(("hour", "honest", "honor", "honour")):
        return "an"
    return "an" if lower[:1] in set("aeiou") else "a"


def _head(words: list[str]) -> str:
    """The word a thing is about: the last one before a preposition ("discount of 10%")."""
    head = words[-1]
    for word in words:
        if word.casefold() in _PREPOSITIONS:
            break
        head = word
    return head.strip(".,;:!?)\"'”’").casefold()


def _thing(text: str) -> tuple[str, bool]:
    """The thing as it reads after a verb, and whether it is an amount on its own
    (nothing countable named: "10%", "2 months free", "$12,000 off")."""
    words = text.split()
    if not words or words[0].casefold() in _DETERMINERS:
        return text, False
    if _COUNT.fullmatch(words[0]):
        return text, True  # a count is its own determiner: "1 free month", "5 seats"
    if _head(words) in _COUNTABLE:
        return f"{_article(words[0])} {text}", False
    return text, _AMOUNT.fullmatch(words[0]) is not None


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
    """ "We can waive the fee" / "We can offer a 5% discount" / "We can give you 10%"."""
    give = read_give(text)
    if give.verb:
        return f"We can {give.text}"
    thing, amount = _thing(give.rest)
    return f"We can give you {thing}" if amount else f"We can offer {thing}"


def gave(text: str) -> str:
    """What we did, for a log line: "agreed to waive the fee" / "gave a 5% discount" /
    "gave them 10%"."""
    give = read_give(text)
    if give.verb:
        return f"agreed to {give.text}"
    thing, amount = _thing(give.rest)
    return f"gave them {thing}" if amount else f"gave {thing}"


def recovery_followup(kind: str, score: int) -> str:
    """The follow-up a low score records with one click (bot.services.ratings)."""
    return f"Hear what is behind their {kind.upper()} of {score}/10 and agree one fix, with a date"


# The improvement steps a debrief suggests, as the follow-up each becomes with one
# click (bot.services.debrief_steps), keyed by step.
DEBRIEF_FOLLOWUPS = {
    "readout": "Rehearse the QBR readout out loud with a colleague: results first, then the asks",
    "red_team": (
        "Red-team the credit and price-band rules: have a colleague try to game each one, "
        "then close the gaps they find"
    ),
    "role_reversal": (
        "Role reversal: write the fairness test their side will hold our offer to, "
        "then check the offer against it"
    ),
}


def debrief_followup(step: str) -> str:
    """The follow-up a debrief's improvement step records (bot.services.debrief_steps)."""
    return DEBRIEF_FOLLOWUPS[step]
