"""The one renderer: `render(template, **context) -> dict` for messages, modals and Home."""

from __future__ import annotations

import json
import os
import re
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import fields, is_dataclass
from functools import cache, lru_cache
from typing import Any

import yaml
from jinja2 import Environment, PackageLoader, StrictUndefined, pass_context
from jinja2.runtime import Context
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from messages import phrases
from messages.formats import day_time, duration, full_day, norm_words, relative_day, reply_took
from messages.ids import WRITTEN_BY_TEMPLATES, NudgeRef
from storage.models import STAGE_WORDS

# Block Kit limits (https://api.slack.com/reference/block-kit/blocks) that slack_sdk's
# models do not check themselves.
MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_FALLBACK_TEXT = 3000
# Slack refuses a message whose blocks add up to much more than this, though no limit
# is documented (`msg_blocks_too_long` near 13.2k characters, slackapi/bolt-js#2509):
# a message rendered in parts keeps each part's blocks under it.
MAX_MESSAGE_BLOCK_CHARS = 12_000

# Full validation through slack_sdk's models costs about a third of a millisecond a
# message. The test suite turns it on and renders every template with hostile and
# oversized input; at run time the structural checks below are enough.
STRICT_VALIDATION = os.environ.get("RAPPORT_STRICT_BLOCKS", "") == "1"

_YAML_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_BROADCASTS = re.compile(r"@(channel|here|everyone)\b", re.IGNORECASE)
# Characters YAML will not take raw inside a double-quoted scalar, or reads as a
# line break (NEL, LS, PS), and lone surrogates: all written as escapes instead.
_YAML_UNSAFE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]"
)


def escape(text: object) -> str:
    """Slack-escape user text: no `<!channel>`, no `<url|fake label>`, no `@here`."""
    value = str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    # A word joiner after "@" keeps the text readable but never a broadcast.
    return _BROADCASTS.sub(lambda m: "@\u2060" + m.group(1), value)


def _json(value: object) -> str:
    encoded = json.dumps(value, ensure_ascii=False, default=str)
    return _YAML_UNSAFE.sub(lambda m: _escape_char(m.group(0)), encoded)


# Parsing the YAML a template renders cost more than rendering it, and on a hot
# template the YAML differs from call to call only in the `|json` strings. So
# `render()` has the filter put a numbered slot in place of each string, parses the
# rendered text once per distinct shape (cached), and puts the strings back into a
# fresh copy. A slot is a private-use character, a per-process nonce and a number:
# no template contains one and no user can guess one. Anything that would not
# round-trip (a slot inside a longer string, `|json` of a `|json`) falls back to
# parsing the full text. With STRICT_VALIDATION every render is also compared with
# the full parse; tests/test_render_cache.py compares them under hostile text.
# Kept for the weekly digest, whose step takes about 40% more CPU without it
# (bench/README.md, "Issue 14: what each speed-up buys").
_SLOT = f"\ue000{secrets.token_hex(4)}:"
_SLOTS: ContextVar[list[str] | None] = ContextVar("rapport_render_slots", default=None)
_SURROGATES = re.compile("[\ud800-\udfff]")
_FULL_PARSE_ONLY: set[str] = set()  # templates whose shape did not round-trip


@pass_context  # never folded at compile time, where a slot would outlive its render
def _json_filter(_context: Context, value: object) -> str:
    slots = _SLOTS.get()
    if slots is None or type(value) is not str or _SLOT in value:
        return _json(value)
    # What YAML reads back from `_json(value)`: the same text, lone surrogates replaced.
    slots.append(_SURROGATES.sub("\ufffd", value))
    return f'"{_SLOT}{len(slots) - 1}"'


class _Unfillable(Exception):
    """This render's text does not fit its template's cached shape: parse it in full."""


def _fill(node: Any, slots: list[str]) -> Any:
    """A fresh copy of a cached parse with this render's strings in their slots."""
    kind = type(node)
    if kind is str:
        if _SLOT not in node:
            return node
        number = node[len(_SLOT) :]
        if not (node.startswith(_SLOT) and number.isascii() and number.isdigit()):
            raise _Unfillable(node)
        return slots[int(number)]
    if kind is dict:
        return {_fill(key, slots): _fill(value, slots) for key, value in node.items()}
    if kind is list:
        return [_fill(item, slots) for item in node]
    return node  # numbers, booleans, None, dates: immutable


@lru_cache(maxsize=512)
def _parse_shape(source: str) -> Any:
    return yaml.load(source, Loader=_YAML_LOADER)


def _escape_char(char: str) -> str:
    code = ord(char)
    if 0xD800 <= code <= 0xDFFF:
        return "\\ufffd"
    return f"\\u{code:04x}"


def clip(text: object, limit: int) -> str:
    """Shorten to `limit` characters, marking the cut with an ellipsis."""
    value = str(text)
    return value if len(value) <= limit else value[: max(limit - 1, 0)].rstrip() + "…"


_SLACK_ID = re.compile(r"[UWBCGD][A-Z0-9]{2,31}")


def _mention(user_id: str) -> str:
    """`<@U…>` for a real Slack id; anything else is shown as escaped text."""
    return f"<@{user_id}>" if _SLACK_ID.fullmatch(user_id) else escape(user_id)


_CHANNEL_ID = re.compile(r"[CG][A-Z0-9]{2,31}")


def _channel(channel_id: str) -> str:
    """`<#C…>` for a real channel id; anything else is shown as escaped text."""
    return f"<#{channel_id}>" if _CHANNEL_ID.fullmatch(channel_id) else escape(channel_id)


def lines(items: Iterable[object]) -> str:
    """One item a line, empty ones left out.

    Templates build lists with this rather than with a loop's own line breaks:
    trim_blocks drops the newline after a closing tag, which once ran a list's rows
    together ("…log• Open commitments").
    """
    return "\n".join(text for text in map(str, items) if text.strip())


def bullets(items: Iterable[object]) -> str:
    """`• item` a line, empty ones left out."""
    return lines(f"• {text}" for text in map(str, items) if text.strip())


def _stage(stage: str | None) -> str:
    """An account's stage as people say it (storage.models.STAGE_WORDS)."""
    return STAGE_WORDS.get(stage or "open", stage or "")


def _plural(count: int, singular: str, plural: str | None = None) -> str:
    return f"{count} {singular if count == 1 else (plural or singular + 's')}"


# Every filter a template may use, by the name templates write: `{{ name|esc }}`.
FILTERS: dict[str, Callable[..., Any]] = {
    "json": _json_filter,
    "esc": escape,
    "clip": clip,
    "day": full_day,
    "plural": _plural,
    "mention": _mention,
    "channel": _channel,
    "we_can": phrases.we_can,
    "lines": lines,
    "bullets": bullets,
    "day_time": day_time,
    # Working time, as a reply's clock counts it: `minutes|duration`, `norm|norm_words`.
    "duration": duration,
    "reply_took": reply_took,
    "norm_words": norm_words,
    "gave": phrases.gave,
    # `day|when(today)`: "today", "on Monday", "in 12 days", worded as it is read.
    "when": relative_day,
    "stage": _stage,
    # `outbox_id|nudge_block(nudge.subject, nudge.id)`: a reminder item's block id.
    "nudge_block": NudgeRef.block_id,
}


@cache
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("messages", "templates"),
        undefined=StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,  # templates ship with the package; no stat() per render
    )
    env.filters.update(FILTERS)
    # A button's value is its model's `dump()`: `{{ UndoButton(change_id=c.id).dump()|json }}`.
    env.globals.update({model.__name__: model for model in WRITTEN_BY_TEMPLATES})
    return env


def render_source(template_name: str, **context: Any) -> str:
    return _environment().get_template(f"{template_name}.yaml.j2").render(**context)


def _parse_rendered(template_name: str, context: dict[str, Any]) -> Any:
    if template_name not in _FULL_PARSE_ONLY:
        template = _environment().get_template(f"{template_name}.yaml.j2")
        slots: list[str] = []
        token = _SLOTS.set(slots)
        try:
            shape = template.render(**context)
        finally:
            _SLOTS.reset(token)
        try:
            document = _fill(_parse_shape(shape), slots)
        except (_Unfillable, IndexError, yaml.YAMLError):
            _FULL_PARSE_ONLY.add(template_name)
        else:
            if STRICT_VALIDATION:
                full = yaml.load(render_source(template_name, **context), Loader=_YAML_LOADER)
                if document != full:
                    raise AssertionError(f"{template_name}: cached parse differs from full parse")
            return document
    return yaml.load(render_source(template_name, **context), Loader=_YAML_LOADER)


def _database_row_in(value: object, depth: int = 3) -> str | None:
    """The type of a database row found in `value` (a template's argument, the
    dataclasses, lists and mappings in it), or None. SQLAlchemy marks its mapped
    instances with `_sa_instance_state`; messages does not import storage."""
    if hasattr(value, "_sa_instance_state"):
        return type(value).__name__
    if depth == 0 or isinstance(value, str | bytes | int | float | None):
        return None
    if is_dataclass(value) and not isinstance(value, type):
        parts: Iterable[object] = (getattr(value, f.name) for f in fields(value))
    elif isinstance(value, Mapping):
        parts = value.values()
    elif isinstance(value, list | tuple | set | frozenset):
        parts = value
    else:
        return None
    for part in parts:
        if (found := _database_row_in(part, depth - 1)) is not None:
            return found
    return None


def render(template_name: str, /, **context: Any) -> dict[str, Any]:
    """Render a template to a Slack message (`text` + `blocks`) or a view (`type`)."""
    if STRICT_VALIDATION:  # templates get plain values, so a reply renders outside its session
        for name, value in context.items():
            if (row := _database_row_in(value)) is not None:
                raise AssertionError(f"{template_name}: {name} holds a database row ({row})")
    document = _parse_rendered(template_name, context)
    if not isinstance(document, dict):
        raise ValueError(f"template {template_name} did not render a mapping")
    if "type" in document:
        _check_view(template_name, document)
    else:
        _check_message(template_name, document)
    return document


def render_in_parts(
    template_name: str,
    pieces: Sequence[Any],
    /,
    *,
    max_blocks: int = MAX_MESSAGE_BLOCKS,
    max_chars: int = MAX_MESSAGE_BLOCK_CHARS,
    **context: Any,
) -> list[dict[str, Any]]:
    """Render `pieces` (a digest's sections, say) over as many messages as they need, in
    order, as few as fit: each part is the template rendered with `pieces` (its share),
    `part` and `parts` (its number and how many; the first may carry more, a summary,
    and is measured as it is), within `max_blocks` blocks and `max_chars` characters
    of blocks. A piece too big for a part of its own still gets one (the template's
    own clipping keeps it within Slack's limits)."""
    groups: list[list[Any]] = []
    for piece in pieces:
        if groups:
            # Measured as the part it is, of many: its part marker counts as sent.
            part = len(groups)
            if _fits(template_name, [*groups[-1], piece], part, max_blocks, max_chars, context):
                groups[-1].append(piece)
                continue
        groups.append([piece])
    # No pieces at all: the template still says so, in one message.
    groups = groups or [[]]
    return [
        render(template_name, pieces=group, part=number, parts=len(groups), **context)
        for number, group in enumerate(groups, 1)
    ]


def _fits(
    template_name: str,
    pieces: list[Any],
    part: int,
    max_blocks: int,
    max_chars: int,
    context: dict[str, Any],
) -> bool:
    try:
        trial = render(template_name, pieces=pieces, part=part, parts=99, **context)
    except ValueError:  # more blocks than any message may hold
        return False
    size = len(json.dumps(trial["blocks"], ensure_ascii=False))
    return len(trial["blocks"]) <= max_blocks and size <= max_chars


def _check_blocks(template_name: str, blocks: list[dict[str, Any]], limit: int) -> None:
    if len(blocks) > limit:
        raise ValueError(f"{template_name}: {len(blocks)} blocks, Slack allows {limit}")
    if STRICT_VALIDATION:
        for block in Block.parse_all(blocks):
            block.to_dict()  # runs slack_sdk's validators; raises SlackObjectFormationError


def _check_message(template_name: str, message: dict[str, Any]) -> None:
    text = message.get("text")
    if not isinstance(text, str) or not text:
        raise ValueError(f"{template_name}: every message needs a fallback `text`")
    message["text"] = clip(text, MAX_FALLBACK_TEXT)
    _check_blocks(template_name, message.setdefault("blocks", []), MAX_MESSAGE_BLOCKS)


def _check_view(template_name: str, view: dict[str, Any]) -> None:
    _check_blocks(template_name, view.get("blocks", []), MAX_VIEW_BLOCKS)
    if STRICT_VALIDATION:
        View(**view).to_dict()
