"""The web pages of an install into a workspace (distributed mode): the page with the
Add to Slack button, and what the installer sees when Slack sends them back, installed
or not and why. HTML, so this Environment escapes every value; Slack's messages are
`render()`'s."""

from __future__ import annotations

from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

# Why an install did not finish, by the reason Bolt's OAuth flow gives (or Slack's own
# `error=` on the redirect), in words for the person who tried: what happened, that
# nothing was kept, and what to do now.
_CANCELLED = (
    "The install was cancelled on Slack's page, so Rapport was not added to your "
    "workspace. If an admin has to approve new apps there, ask them; then start again."
)
_STATE = (
    "This install link has run out or was already used. Each one works once, within 10 "
    "minutes, in the browser that opened the install page. Start again from that page."
)
_NOT_CONFIRMED = (
    "Slack did not confirm the install (its code was missing, used or out of date). "
    "Start again from the install page."
)
_NOT_SAVED = (
    "Slack confirmed the install, but Rapport could not save it. Try again in a minute; "
    "if it keeps failing, tell whoever runs Rapport for you."
)
_OTHER = "Slack did not complete the install. Start again from the install page."
FAILURES = {
    "access_denied": _CANCELLED,
    "invalid_browser": _STATE,
    "invalid_state": _STATE,
    "missing_code": _NOT_CONFIRMED,
    "invalid_code": _NOT_CONFIRMED,
    "storage_error": _NOT_SAVED,
}

# A command or a click from a workspace with no installation of Rapport (Bolt sends
# it to the person as is, to the response_url when there is one).
NOT_INSTALLED = (
    "Rapport is not installed in this workspace, or its install was removed. Ask a "
    "workspace admin to add it again from Rapport's install page (/slack/install on "
    "the address your team runs Rapport at)."
)


@cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("messages", "pages"),
        autoescape=select_autoescape(default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def page(name: str, **context: object) -> str:
    """The HTML of the page `messages/pages/<name>.html.j2`."""
    return _environment().get_template(f"{name}.html.j2").render(**context)


def failure_reason(reason: str) -> str:
    """What to tell an installer whose install stopped for `reason`."""
    return FAILURES.get(reason, _OTHER)
