"""A person's role in their Slack workspace, or in its Enterprise Grid org, as
users.info tells it."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.services.errors import UserFacingError

log = logging.getLogger("rapport.roles")


def _user(client: WebClient, user_id: str, *, admin_of: str) -> dict[str, Any]:
    """users.info's user; without Slack's word, a refusal naming `admin_of` (fail
    closed: nobody is an admin then)."""
    try:
        user: dict[str, Any] = client.users_info(user=user_id)["user"]
    except SlackClientError as exc:
        reason = exc.response.get("error") if isinstance(exc, SlackApiError) else None
        log.info("users.info failed for %s: %s", user_id, reason or exc)
        raise UserFacingError(
            f"Slack would not say whether you are {admin_of} ({reason or 'no answer'}), "
            "so nothing was changed. Try again in a moment."
        ) from None
    return user


def is_workspace_admin(client: WebClient, user_id: str) -> bool:
    """Admins and owners (the primary owner too): whom the workspace trusts with its settings.

    Asked of Slack each time rather than cached: it guards a team-wide rule, someone
    who stops being an admin must lose the right at once, and such changes are rare.
    """
    user = _user(client, user_id, admin_of="a workspace admin")
    return bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))


def is_org_admin(client: WebClient, user_id: str, *, enterprise_id: str) -> bool:
    """Admins and owners of the Enterprise Grid org `enterprise_id`: whom the org trusts
    with what its workspaces see of each other. A workspace admin is not one: users.info
    gives the org's roles apart, under `enterprise_user`, and only that org's count.

    Asked each time, failing closed, as `is_workspace_admin` is.
    """
    user = _user(client, user_id, admin_of="an admin of your org")
    org_role = user.get("enterprise_user") or {}
    if org_role.get("enterprise_id") != enterprise_id:
        return False
    return bool(org_role.get("is_admin") or org_role.get("is_owner"))
