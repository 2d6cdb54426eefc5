"""Block Kit as readable terminal text, for `rapport try`."""

from __future__ import annotations

import html
import re
from typing import Any

_MENTION = re.compile(r"<@([A-Z0-9]+)>")
_LINK = re.compile(r"<([^|>]+)\|([^>]+)>")


def _mrkdwn(text: str) -> str:
    text = _MENTION.sub(r"@\1", text)
    text = _LINK.sub(r"\2 (\1)", text)
    return html.unescape(text).replace("\u2060", "")


def _text_of(obj: dict[str, Any] | None) -> str:
    if not obj:
        return ""
    return _mrkdwn(str(obj.get("text", "")))


def _element(element: dict[str, Any]) -> str:
    kind = element.get("type")
    if kind == "button":
        return f"[{_text_of(element.get('text'))}]"
    if kind in ("mrkdwn", "plain_text"):
        return _mrkdwn(str(element.get("text", "")))
    if kind == "image":
        return f"(image: {element.get('alt_text', '')})"
    placeholder = _text_of(element.get("placeholder"))
    return f"<{kind}{': ' + placeholder if placeholder else ''}>"


def _block(block: dict[str, Any]) -> list[str]:
    kind = block.get("type")
    if kind == "header":
        title = _text_of(block.get("text"))
        return [title, "=" * len(title)]
    if kind == "divider":
        return ["-" * 40]
    if kind == "section":
        lines = [_text_of(block.get("text"))] if block.get("text") else []
        lines += [_text_of(field) for field in block.get("fields", [])]
        if block.get("accessory"):
            lines.append(_element(block["accessory"]))
        return lines
    if kind == "context":
        return ["  " + "  ".join(_element(e) for e in block.get("elements", []))]
    if kind == "actions":
        return [" ".join(_element(e) for e in block.get("elements", []))]
    if kind == "input":
        label = _text_of(block.get("label"))
        return [f"{label}: {_element(block.get('element', {}))}"]
    if kind == "image":
        return [f"(image: {block.get('alt_text', '')})"]
    return [f"({kind} block)"]


def to_text(document: dict[str, Any]) -> str:
    """A message (`text`, `blocks`) or a view (`title`, `blocks`) as plain lines."""
    lines: list[str] = []
    if document.get("type") in ("modal", "home"):
        title = _text_of(document.get("title")) or document["type"].title()
        lines += [f"[{title}]"]
    blocks = document.get("blocks") or []
    if not blocks and document.get("text"):
        lines.append(_mrkdwn(str(document["text"])))
    for block in blocks:
        lines.extend(_block(block))
    return "\n".join(line for line in lines if line is not None)
