"""Reading command text: `ACCOUNT rest… key: value key: value`, and the correction
when a key is written without its colon."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.services.errors import DidYouMean, Suggestion, UsageError

MAX_FIELD_LENGTH = 500


@dataclass(frozen=True)
class KeyedText:
    """Text split at its `key:` markers: what came before them, and each key's value."""

    head: str
    fields: dict[str, str]


def split_keyed(text: str, keys: tuple[str, ...], *, command: str) -> KeyedText:
    """Split `text` at the first `key:` of each known key (case-insensitive).

    Unknown `word:` pairs stay part of the surrounding value, so "give: 5% off: annual"
    keeps its colon. A key given twice is an error, not a silent overwrite.
    """
    pattern = re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, keys)) + r")\s*:", re.I)
    matches = list(pattern.finditer(text))
    head = text[: matches[0].start()] if matches else text
    fields: dict[str, str] = {}
    for index, match in enumerate(matches):
        key = match.group(1).lower()
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        if key in fields:
            raise UsageError(f"`{key}:` appears twice.", usage=command, key=key)
        value = " ".join(text[match.end() : end].split())
        if len(value) > MAX_FIELD_LENGTH:
            raise UsageError(
                f"`{key}:` can be up to {MAX_FIELD_LENGTH} characters.", usage=command, key=key
            )
        fields[key] = value
    return KeyedText(head=" ".join(head.split()), fields=fields)


def colons_added(
    text: str, keys: tuple[str, ...], *, past_first_word: bool = True
) -> tuple[str, str] | None:
    """`text` with a colon after the first bare word of each key, past the first word
    (the account; from the start where the caller has read the account off already):
    `Globex give 10% get 2 years` -> `Globex give: 10% get: 2 years`. Returns the
    corrected text and its part from the first key on (`give: 10% get: 2 years`), or
    None when no key is written bare."""
    bare = re.compile(
        # "to get them live" is a phrase, not the key.
        r"(?<![\w:-])(?<!\bto\s)(" + "|".join(map(re.escape, keys)) + r")(?!\s*:)(?=\s+\S)",
        re.I,
    )
    first_word = re.match(r"\s*\S+", text) if past_first_word else None
    start = first_word.end() if first_word else 0
    seen: set[str] = set()
    inserts: list[int] = []
    for match in bare.finditer(text, start):
        if match.group(1).lower() not in seen:
            seen.add(match.group(1).lower())
            inserts.append(match.end())
    if not inserts:
        return None
    corrected = text
    for at in reversed(inserts):
        corrected = corrected[:at] + ":" + corrected[at:]
    tail_start = inserts[0] - len(text[: inserts[0]].split()[-1])
    return corrected, " ".join(corrected[tail_start:].split())


def ask_for_colons(
    subcommand: str, args: str, keys: tuple[str, ...], usage: str, *, account: str | None = None
) -> None:
    """`qbr Globex next 20 Jan`: answer with the exact correction and a button to run it.

    `account`: the account as typed at the start of `args` (empty: left out, in the
    account's channel), read off by the resolver, so that a name with a key word in
    it ("Right Next Door") is not corrected. None: the first word is the account."""
    args = " ".join(args.split())
    corrected = (
        colons_added(args, keys)
        if account is None
        else colons_added(args[len(account) :], keys, past_first_word=False)
    )
    if corrected is not None:
        whole = corrected[0] if account is None else f"{account} {corrected[0].strip()}".strip()
        raise DidYouMean(
            f"Did you mean `{corrected[1]}`? Each part takes a colon after its name.",
            (Suggestion("Run it", f"{subcommand} {whole}"),),
            usage=usage,
        )


# Words before a last `share` that make it part of a phrase (`get: market share`,
# `a bigger share`), not the flag that posts the entry to the channel.
_SHARE_PHRASES = frozenset(
    {
        "market", "revenue", "profit", "wallet", "mind", "voice", "cost", "risk", "gain",
        "data", "screen", "file", "equity", "stock", "time", "pie", "fair", "equal",
        "bigger", "larger", "greater", "higher", "more", "their", "our", "your", "a", "the",
        "of", "to", "and", "or", "per", "in", "its", "his", "her", "my",
    }
)  # fmt: skip
_LAST_SHARE = re.compile(r"(?:^|\s)share\s*$", re.I)


def split_share_flag(text: str) -> tuple[str, bool]:
    """A last word `share` asks for the entry to be posted to the channel too, unless
    it ends a phrase of a field (`get: market share`) or is a field's whole value."""
    found = _LAST_SHARE.search(text)
    if found is None:
        return text, False
    before = text[: found.start()].split()
    word = before[-1].casefold() if before else ""
    if word.endswith((":", "'s", "s'")) or word in _SHARE_PHRASES:
        return text, False
    return text[: found.start()], True


def replace_last(text: str, typed: str, replacement: str) -> str | None:
    """`text` with its last `typed` (any case and spacing) replaced; None if not there."""
    pattern = r"\s+".join(map(re.escape, typed.split()))
    found = list(re.finditer(pattern, text, re.IGNORECASE)) if pattern else []
    if not found:
        return None
    last = found[-1]
    return text[: last.start()] + replacement + text[last.end() :]
