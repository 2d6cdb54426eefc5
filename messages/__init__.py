"""Every word a user sees: the Jinja2 templates that render Slack Block Kit
(`render`), the slash-command reference (`commands`), the playbook (`playbook`), how
values and a give are worded (`formats`, `phrases`), the ids and button values that
templates, listeners and the sweep share (`ids`, on the typed payloads of `payloads`),
and Block Kit as terminal text (`plaintext`).

Templates are YAML with every interpolated value JSON-encoded (`|json`) and all
user text Slack-escaped first (`|esc`). YAML rather than raw JSON because a
conditional block or a loop cannot leave a dangling comma; JSON-encoding every value
means user text can never change the structure. `render()` then checks the result
with slack_sdk's Block Kit models, so a broken or over-limit message fails in tests,
not in front of a user.
"""

from __future__ import annotations

from messages.render import escape, render, render_in_parts

__all__ = ["escape", "render", "render_in_parts"]
