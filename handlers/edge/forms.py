"""Reading what a modal's inputs hold, the one way every submission does.

Slack sends a submitted modal's inputs as `view.state.values`: block_id -> action_id
-> the element's state (`value`, `selected_option`, `selected_users`, …). Rapport's
inputs use the action_id "value" unless a template says otherwise. A block or element
that is missing or not shaped as Slack shapes it reads as empty: the checks that
follow (a required field, a pick from a list) answer it under its input. NUL never
reaches here (handlers/edge/middleware.py drops it from every payload).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.services.errors import UsageError
from handlers.edge.after_ack import later
from handlers.edge.replies import ephemeral

# The action_id of the element inside every input block, unless a template names another.
VALUE = "value"


def open_form(client: WebClient, *, trigger_id: str, view: dict[str, Any], usage: str) -> None:
    """Open a modal that stands for a one-line command; if Slack will not (an expired
    trigger, say), the answer says so and points to the command (`usage`)."""
    try:
        client.views_open(trigger_id=trigger_id, view=view)
    except SlackApiError as error:
        raise UsageError(
            f"Slack would not open the form ({error.response.get('error', 'error')}). "
            "Write it as one line instead.",
            usage=usage,
        ) from None


class OpensForm(Protocol):
    """Opens a command's form (open_concession_form, open_meso_form)."""

    def __call__(self, client: WebClient, *, trigger_id: str, channel_id: str | None) -> None: ...


def open_form_for(
    ack: Ack,
    context: BoltContext,
    command: dict[str, str],
    opens: OpensForm,
    opening: dict[str, Any],
) -> None:
    """A command typed with nothing after it: its form, opened right after the ack (the
    trigger_id is good for 3 s, the ack takes milliseconds), which says so (`opening`)."""
    trigger_id, channel_id = command["trigger_id"], command.get("channel_id")
    later(
        context, command, lambda client: opens(client, trigger_id=trigger_id, channel_id=channel_id)
    )
    ack(**ephemeral(opening))


@dataclass(frozen=True)
class Form:
    """The inputs of one submitted modal."""

    values: dict[str, Any]

    @classmethod
    def of(cls, view: dict[str, Any]) -> Form:
        state = view.get("state")
        values = state.get("values") if isinstance(state, dict) else None
        return cls(values if isinstance(values, dict) else {})

    def element(self, block: str, action: str = VALUE) -> dict[str, Any]:
        """The state of one input; empty if it was not sent."""
        found = self.values.get(block)
        element = found.get(action) if isinstance(found, dict) else None
        return element if isinstance(element, dict) else {}

    def _string(self, block: str, key: str, action: str = VALUE) -> str | None:
        raw = self.element(block, action).get(key)
        return raw if isinstance(raw, str) else None

    def text(
        self,
        block: str,
        *,
        limit: int | None = None,
        too_long: str | None = None,
        lines: bool = False,
        action: str = VALUE,
    ) -> str | None:
        """A text input: its spaces collapsed (or, with `lines`, only the ends trimmed,
        for the multi-line inputs); None if empty. Longer than `limit`: a UsageError
        under the input (`too_long`, or "This can be up to N characters.")."""
        raw = self._string(block, "value", action) or ""
        text = raw.strip() if lines else " ".join(raw.split())
        if limit is not None and len(text) > limit:
            raise UsageError(too_long or f"This can be up to {limit} characters.", field=block)
        return text or None

    def option(self, block: str, action: str = VALUE) -> str | None:
        """The value of the option chosen in a select or radio buttons."""
        option = self.element(block, action).get("selected_option")
        value = option.get("value") if isinstance(option, dict) else None
        return value if isinstance(value, str) else None

    def options(self, block: str, action: str = VALUE) -> list[str]:
        """The values of the options ticked in checkboxes or a multi-select."""
        selected = self.element(block, action).get("selected_options")
        if not isinstance(selected, list):
            return []
        return [
            o["value"] for o in selected if isinstance(o, dict) and isinstance(o.get("value"), str)
        ]

    def ticked(self, block: str, value: str, action: str = VALUE) -> bool:
        """Whether the checkbox whose value is `value` was ticked."""
        return value in self.options(block, action)

    def user(self, block: str, action: str = VALUE) -> str | None:
        """The person picked in a users_select."""
        user = self.element(block, action).get("selected_user")
        return None if user is None else str(user)

    def users(self, block: str, action: str = VALUE) -> list[str]:
        """The people picked in a multi_users_select."""
        users = self.element(block, action).get("selected_users")
        return [str(user) for user in users] if isinstance(users, list) else []

    def date(self, block: str, action: str = VALUE) -> str | None:
        """The day picked in a datepicker, as Slack writes it (YYYY-MM-DD)."""
        return self._string(block, "selected_date", action)

    def time(self, block: str, action: str = VALUE) -> str | None:
        """The time picked in a timepicker, as Slack writes it (HH:MM)."""
        return self._string(block, "selected_time", action)
