"""Reading an amount of money as reps type it: `120000`, `$120k`, `1.2m`, `$1,200/mo`,
`EUR 14k per year`, `82 pts`. The one reading of amounts: /meso's offer values and a
negotiation prep's target, walk-away point and anchor both go through it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.services.errors import UsageError

# An amount as reps write it: a sign, a currency (symbol or code), k/m/bn, and what it
# is counted per (`$1,200/mo`, `EUR 14k per year`, `−5k`, `82 pts`).
_NUMBER = re.compile(
    r"^(?P<sign>[-−–+])?\s*(?:[$€£¥]|[a-z]{3}\s)?\s*(?P<number>\d[\d,_]*(?:\.\d+)?|\.\d+)\s*"
    r"(?P<scale>k|m|mm|bn|b)?\s*(?:[$€£¥]|(?!arr|mrr)[a-z]{3}(?![a-z]))?\s*"
    r"(?:/\s*(?P<per>mo|month|yr|year|y|qtr|quarter)|(?:per|a|an)\s+(?P<per_word>month|year|quarter)"
    r"|(?P<every>monthly|yearly|annually|annual|quarterly|p\.?a\.?|arr|mrr)|pts|points)?$",
    re.I,
)
_SCALES = {"": 1.0, "k": 1e3, "m": 1e6, "mm": 1e6, "b": 1e9, "bn": 1e9}
_PERIODS = {
    "mo": "month", "month": "month", "monthly": "month", "mrr": "month",
    "yr": "year", "year": "year", "y": "year", "yearly": "year", "annually": "year",
    "annual": "year", "pa": "year", "p.a.": "year", "p.a": "year", "pa.": "year",
    "arr": "year", "qtr": "quarter", "quarter": "quarter", "quarterly": "quarter",
}  # fmt: skip


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
    match = _NUMBER.match(text.strip())
    if match is None:
        raise UsageError(
            f"“{typed}” is not a number; write e.g. {words.example}.",
            usage=words.usage,
            key=words.key,
        )
    number = float(match["number"].replace(",", "").replace("_", ""))
    number *= _SCALES[(match["scale"] or "").lower()]
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
    return number, _PERIODS.get(period, "")
