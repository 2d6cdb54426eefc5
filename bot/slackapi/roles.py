"""A person's role in their Slack workspace, as users.info tells it."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.services.errors import UserFacingError

log = logging.getLogger("rapport.roles")


def is_workspace_admin(client: WebClient, user_id: str) -> bool:
    """Admins and owners (the primary owner too): whom the workspace trusts with its settings.

    Asked of Slack each time rather than cached: it guards a team-wide rule, someone
    who stops being an admin must lose the right at once, and such changes are rare.
    """
    try:
        user = client.users_info(user=user_id)["user"]
    except SlackClientError as exc:
        # Fail closed: without Slack's word, nobody is an admin.
        reason = exc.response.get("error") if isinstance(exc, SlackApiError) else None
        log.info("users.info failed for %s: %s", user_id, reason or exc)
        raise UserFacingError(
            f"Slack would not say whether you are a workspace admin ({reason or 'no answer'}), "
            "so nothing was changed. Try again in a moment."
        ) from None
    return bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))
