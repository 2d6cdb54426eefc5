"""Posting an entry to the account's channel, so the team sees what was traded."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.services.errors import UserFacingError

log = logging.getLogger("rapport.sharing")


@dataclass(frozen=True)
class Shared:
    """Where a post went, or why it could not go (the personal reply says which)."""

    channel: str
    ok: bool
    error: str | None = None


def share_channel(account_channel: str | None, origin_channel: str | None) -> str | None:
    """The account's own channel when it has one, else where the request came from."""
    return account_channel or origin_channel or None


def post(client: WebClient, channel: str | None, message: dict[str, Any]) -> Shared:
    if not channel:
        return Shared(channel="", ok=False, error="no channel to post to")
    try:
        client.chat_postMessage(channel=channel, text=message["text"], blocks=message["blocks"])
    except SlackApiError as error:
        return Shared(channel=channel, ok=False, error=str(error.response.get("error", "error")))
    except SlackClientError:
        # The personal reply still goes out and says the post did not.
        log.exception("could not post to %s", channel)
        return Shared(channel=channel, ok=False, error="Slack did not answer")
    return Shared(channel=channel, ok=True)


def planned_post(channel: str | None) -> Shared:
    """What the reply says of a post that goes out right after it (see after_ack)."""
    if not channel:
        return Shared(channel="", ok=False, error="no channel to post to")
    return Shared(channel=channel, ok=True)


def report_post(shared: Shared) -> None:
    """A post that failed after the reply went out: tell the user in a second reply."""
    if not shared.ok:
        raise UserFacingError(
            f"I logged it, but could not post it to the channel ({shared.error}). "
            "Invite me to that channel, or share it by hand."
        )
