"""Reading an amount of money as reps type it: `120000`, `$120k`, `1.2m`, `$1,200/mo`,
`EUR 14k per year`, `10k pm`, `120k p.a.`, `82 pts`. The one reading of amounts:
/meso's offer values and a negotiation prep's target, walk-away point and anchor both
go through it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.services.errors import UsageError

# An amount as reps write it: a sign, a currency (symbol or code), k/m/bn, and what it
# is counted per (`$1,200/mo`, `EUR 14k per year`, `10k pm`, `120k p.a.`, `−5k`, `82 pts`).
_LEADING = (
    r"^(?P<sign>[-−–+])?\s*(?:[$€£¥]|[a-z]{3}\s)?\s*(?P<number>\d[\d,_]*(?:\.\d+)?|\.\d+)\s*"
    r"(?P<scale>k|m|mm|bn|b)?\s*"
)
_UNIT = r"mo|mth|mnth|months?|yrs?|years?|annum|qtrs?|quarters?"
_NUMBER = re.compile(
    _LEADING + r"(?:[$€£¥]|(?!arr|mrr)[a-z]{3}(?![a-z]))?\s*"
    rf"(?:/\s*(?P<per>{_UNIT}|m|y|q)|(?:per|a|an|each|every)\s+(?P<per_word>{_UNIT})"
    r"|(?P<every>monthly|yearly|annually|annual|quarterly|p\.?\s?[am]\.?|p\s?/\s?[am]|arr|mrr)"
    r"|pts|points)?$",
    re.I,
)
_NUMBER_FIRST = re.compile(_LEADING, re.I)
_SCALES = {"": 1.0, "k": 1e3, "m": 1e6, "mm": 1e6, "b": 1e9, "bn": 1e9}
# What each way of writing a period means, once dots, slashes and spaces are gone.
_PERIODS = {
    "mo": "month", "mth": "month", "mnth": "month", "month": "month", "months": "month",
    "m": "month", "monthly": "month", "mrr": "month", "pm": "month",
    "yr": "year", "yrs": "year", "year": "year", "years": "year", "y": "year", "annum": "year",
    "yearly": "year", "annually": "year", "annual": "year", "pa": "year", "arr": "year",
    "qtr": "quarter", "qtrs": "quarter", "quarter": "quarter", "quarters": "quarter",
    "q": "quarter", "quarterly": "quarter",
}  # fmt: skip
# Ends a hurried line may leave on a value: `120k/yr.`, `10k/mo,`.
_TRAILING = " .,;"


@dataclass(frozen=True)
class AmountWords:
    """How the caller's answers word a problem: `example` (how to write one, in
    backticks) and `what` (the amount's name in "… is a number from 0 up")."""

    example: str
    what: str
    usage: str | None = None
    key: str | None = None


def read_amount(text: str, words: AmountWords, *, maximum: float) -> tuple[float, str]:
    """The number `text` reads as, and what it is counted per (`month`, `year`,
    `quarter`, or ""). A problem says what was read and how to write it."""
    typed = text[:40]
    match = _NUMBER.match(text.strip().rstrip(_TRAILING))
    if match is None:
        number_first = _NUMBER_FIRST.match(text.strip())
        if number_first is not None:
            rest = text.strip()[number_first.end() :][:20]
            raise UsageError(
                f"“{typed}”: I read {_number_of(number_first):,.0f}, then “{rest}”, which is "
                "no period I know. Write it as `/mo`, `/qtr` or `/yr`, or leave it out for a "
                f"total; e.g. {words.example}.",
                usage=words.usage,
                key=words.key,
            )
        raise UsageError(
            f"“{typed}” is not a number; write e.g. {words.example}.",
            usage=words.usage,
            key=words.key,
        )
    number = _number_of(match)
    period = (match["per"] or match["per_word"] or match["every"] or "").lower()
    if match["sign"] in ("-", "−", "–") and number:
        raise UsageError(
            f"“{typed}” reads as -{number:,.0f}: {words.what} is a number from 0 up.",
            usage=words.usage,
            key=words.key,
        )
    if number > maximum:
        raise UsageError(
            f"“{typed}” reads as {number:,.0f}: that value is too large.",
            usage=words.usage,
            key=words.key,
        )
    return number, _PERIODS.get(re.sub(r"[\s./]", "", period), "")


def _number_of(match: re.Match[str]) -> float:
    number = float(match["number"].replace(",", "").replace("_", ""))
    return number * _SCALES[(match["scale"] or "").lower()]
