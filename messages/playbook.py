"""The playbook, Rapport's coaching library (prompt lines, moves, pitfalls, checklist,
templates), as typed data; `bot/services/playbook_search.py` searches it and pages it.

The built-in playbook is messages/library/playbook.yaml. A team may point PLAYBOOK_FILE
at its own YAML file of the same shape: its entries are merged over the built-in ones
by key, field by field; a new key adds an entry and `key: null` removes one. Both are
checked once, when the settings load, so a bad team file stops Rapport at startup
with the file and the entry named instead of failing in front of a user later.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml

BUILT_IN = "messages/library/playbook.yaml"

# Long enough for a real coaching line, short enough that a page of entries stays
# well inside Slack's 3000-character section and ~13k-character message sizes.
MAX_TEXT = 500
MAX_TITLE = 80
MAX_ALIAS = 40
MAX_ALIASES = 20
MAX_ENTRIES = 40
# A checklist item is one line; a page of them must fit one message.
MAX_CHECKLIST_TEXT = 200
_KEY = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")


class PlaybookError(ValueError):
    """A playbook file that cannot be used, with the file and the entry named."""


@dataclass(frozen=True)
class Prompt:
    """A situation (say this, why, risk) or a negotiation move (also: when, signal)."""

    key: str
    kind: str  # "situation" or "move"
    title: str
    aliases: tuple[str, ...]
    line: str
    why: str
    risk: str
    when: str | None = None
    signal: str | None = None
    # When the relationship approach is the wrong tool for this moment.
    not_when: str | None = None
    # A reaction rather than a topic (an objection, pushback): when the same words
    # also name a topic ("price pushback"), the topic's line is the one to give.
    broad: bool = False

    @property
    def is_move(self) -> bool:
        return self.kind == "move"


@dataclass(frozen=True)
class Pitfall:
    key: str
    title: str
    why: str
    fix: str


@dataclass(frozen=True)
class ChecklistItem:
    key: str
    kind: str  # "do" or "avoid"
    text: str


@dataclass(frozen=True)
class FillIn:
    """A fill-in-the-blank line: the [bracketed] parts are the rep's to fill."""

    key: str
    title: str
    text: str


@dataclass(frozen=True)
class RelationshipKind:
    key: str
    label: str
    description: str


@dataclass(frozen=True)
class Playbook:
    prompts: tuple[Prompt, ...]
    pitfalls: tuple[Pitfall, ...]
    checklist: tuple[ChecklistItem, ...]
    templates: tuple[FillIn, ...]
    relationship_types: tuple[RelationshipKind, ...]

    @property
    def situations(self) -> tuple[Prompt, ...]:
        return tuple(p for p in self.prompts if not p.is_move)

    @property
    def moves(self) -> tuple[Prompt, ...]:
        return tuple(p for p in self.prompts if p.is_move)

    def relationship_kind(self, key: str | None) -> RelationshipKind | None:
        return next((kind for kind in self.relationship_types if kind.key == key), None)


@dataclass(frozen=True)
class _Section:
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()


_SECTIONS: dict[str, _Section] = {
    "situations": _Section(("title", "line", "why", "risk"), ("aliases", "broad", "not_when")),
    "moves": _Section(
        ("title", "when", "line", "why", "signal", "risk"), ("aliases", "broad", "not_when")
    ),
    "pitfalls": _Section(("title", "why", "fix")),
    "checklist": _Section(("kind", "text")),
    "templates": _Section(("title", "text")),
    "relationship_types": _Section(("label", "description")),
}


def _read(path: Path | str, text: str) -> dict[str, dict[str, Any]]:
    try:
        loaded = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PlaybookError(f"playbook file {path}: not valid YAML: {exc}") from exc
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise PlaybookError(f"playbook file {path}: the top level must be a mapping of sections")
    for section, entries in loaded.items():
        if section not in _SECTIONS:
            known = ", ".join(_SECTIONS)
            raise PlaybookError(
                f"playbook file {path}: unknown section {section!r} (sections: {known})"
            )
        if entries is None:
            loaded[section] = {}
        elif not isinstance(entries, dict):
            raise PlaybookError(
                f"playbook file {path}: {section} must be a mapping of key -> entry"
            )
    return loaded


def _merge(
    base: dict[str, dict[str, Any]], team: dict[str, dict[str, Any]], team_path: Path
) -> tuple[dict[str, dict[str, Any]], set[tuple[str, str]]]:
    """`base` with `team` merged over it; also which (section, key) the team touched."""
    merged = {section: dict(entries) for section, entries in base.items()}
    touched: set[tuple[str, str]] = set()
    for section, entries in team.items():
        target = merged.setdefault(section, {})
        for key, entry in entries.items():
            where = f"playbook file {team_path}: {section}.{key}"
            if entry is None:
                target.pop(key, None)
                continue
            if not isinstance(entry, dict):
                raise PlaybookError(f"{where}: an entry must be a mapping of fields")
            current = target.get(key)
            target[key] = {**current, **entry} if isinstance(current, dict) else dict(entry)
            touched.add((section, str(key)))
    return merged, touched


def _text(where: str, field: str, value: object, limit: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise PlaybookError(f"{where}: `{field}` must be non-empty text")
    cleaned = " ".join(value.split())
    if len(cleaned) > limit:
        raise PlaybookError(
            f"{where}: `{field}` is {len(cleaned)} characters; the limit is {limit}"
        )
    return cleaned


def _fields(where: str, section: str, entry: Mapping[str, Any]) -> dict[str, Any]:
    spec = _SECTIONS[section]
    unknown = set(entry) - set(spec.required) - set(spec.optional)
    if unknown:
        allowed = ", ".join(spec.required + spec.optional)
        raise PlaybookError(
            f"{where}: unknown field `{sorted(map(str, unknown))[0]}` (fields: {allowed})"
        )
    for field in spec.required:
        if field not in entry:
            raise PlaybookError(f"{where}: `{field}` is missing")
    values: dict[str, Any] = {}
    for field, value in entry.items():
        if field == "aliases":
            values[field] = _aliases(where, value)
        elif field == "broad":
            if not isinstance(value, bool):
                raise PlaybookError(f"{where}: `broad` must be true or false")
            values[field] = value
        else:
            values[field] = _text(where, field, value, _limit(section, field))
    return values


def _limit(section: str, field: str) -> int:
    if field in ("title", "label"):
        return MAX_TITLE
    return MAX_CHECKLIST_TEXT if section == "checklist" else MAX_TEXT


def _aliases(where: str, value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or len(value) > MAX_ALIASES:
        raise PlaybookError(f"{where}: `aliases` must be a list of up to {MAX_ALIASES} words")
    return tuple(_text(where, "aliases", alias, MAX_ALIAS).casefold() for alias in value)


def _build(
    raw: dict[str, dict[str, Any]], blame: dict[tuple[str, str], str], builtin_types: set[str]
) -> Playbook:
    def where(section: str, key: str) -> str:
        return f"playbook file {blame.get((section, key), BUILT_IN)}: {section}.{key}"

    prompts: list[Prompt] = []
    pitfalls: list[Pitfall] = []
    checklist: list[ChecklistItem] = []
    templates: list[FillIn] = []
    kinds: list[RelationshipKind] = []
    claimed: dict[str, tuple[str, str]] = {}  # lookup word -> (section, key) owning it
    for section, entries in raw.items():
        if len(entries) > MAX_ENTRIES:
            raise PlaybookError(
                f"playbook file {next(iter(blame.values()), BUILT_IN)}: {section} has"
                f" {len(entries)} entries; the limit is {MAX_ENTRIES}"
            )
        for raw_key, entry in entries.items():
            key = str(raw_key)
            here = where(section, key)
            if not _KEY.fullmatch(key):
                raise PlaybookError(
                    f"{here}: keys are lowercase letters, digits and dashes (up to 40)"
                )
            values = _fields(here, section, entry)
            if section in ("situations", "moves"):
                prompt = Prompt(
                    key=key,
                    kind="move" if section == "moves" else "situation",
                    aliases=values.pop("aliases", ()),
                    **values,
                )
                for word in (key, prompt.title.casefold(), *prompt.aliases):
                    owner = claimed.setdefault(word, (section, key))
                    if owner != (section, key):
                        # Name the entry the team file wrote, whichever of the two it is.
                        culprit = (section, key) if (section, key) in blame else owner
                        other = owner[1] if culprit == (section, key) else key
                        raise PlaybookError(
                            f"{where(*culprit)}: `{word}` also leads to {other}; "
                            "each key, title and alias must lead to one entry"
                        )
                prompts.append(prompt)
            elif section == "pitfalls":
                pitfalls.append(Pitfall(key=key, **values))
            elif section == "checklist":
                if values["kind"] not in ("do", "avoid"):
                    raise PlaybookError(f"{here}: `kind` is `do` or `avoid`")
                checklist.append(ChecklistItem(key=key, **values))
            elif section == "templates":
                templates.append(FillIn(key=key, **values))
            else:
                if builtin_types and key not in builtin_types:
                    known = ", ".join(sorted(builtin_types))
                    raise PlaybookError(
                        f"{here}: the relationship types are fixed ({known}); "
                        "a team file may only reword them"
                    )
                kinds.append(RelationshipKind(key=key, **values))
    if builtin_types and {kind.key for kind in kinds} != builtin_types:
        missing = ", ".join(sorted(builtin_types - {kind.key for kind in kinds}))
        raise PlaybookError(f"playbook: relationship_types {missing} cannot be removed")
    return Playbook(
        prompts=tuple(prompts),
        pitfalls=tuple(pitfalls),
        checklist=tuple(checklist),
        templates=tuple(templates),
        relationship_types=tuple(kinds),
    )


@cache
def _built_in_raw() -> dict[str, dict[str, Any]]:
    text = files("messages").joinpath("library/playbook.yaml").read_text("utf-8")
    return _read(BUILT_IN, text)


@cache
def load_playbook(team_file: Path | None = None) -> Playbook:
    """The built-in library, with `team_file` merged over it; loaded once per file."""
    base = _built_in_raw()
    builtin_types = {str(key) for key in base.get("relationship_types", {})}
    if team_file is None:
        return _build(base, {}, builtin_types)
    try:
        text = Path(team_file).read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PlaybookError(f"playbook file {team_file}: cannot be read: {exc}") from exc
    merged, touched = _merge(base, _read(team_file, text), team_file)
    blame = {entry: str(team_file) for entry in touched}
    return _build(merged, blame, builtin_types)
