"""Posting an entry to the account's channel, so the team sees what was traded.

The post is a Slack call, so it goes after the ack (`share_later`): the reply says it
is on its way (`planned_post`), and a post that then fails is told to the user, in a
second reply, or however the caller says (a modal's done view is updated).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.services.errors import UserFacingError
from handlers.edge.after_ack import later

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


def share_later(
    context: BoltContext,
    body: dict[str, Any],
    channel: str | None,
    message: dict[str, Any],
    *,
    failed: Callable[[WebClient, Shared], None] | None = None,
) -> Shared:
    """Post `message` to `channel` after the ack; what the reply says of it meanwhile.

    A post that fails is told to the user by `failed`, or else in a second reply."""

    def work(client: WebClient) -> None:
        shared = post(client, channel, message)
        if not shared.ok:
            (failed or report_post)(client, shared)

    if channel:
        later(context, body, work)
    return planned_post(channel)


def close_form_and_share(
    ack: Ack,
    context: BoltContext,
    body: dict[str, Any],
    view: dict[str, Any],
    done: Callable[[Shared | None], dict[str, Any]],
    *,
    channel: str | None,
    message: dict[str, Any] | None,
) -> None:
    """Ack a submitted form with its done view (`done`), and post `message`, if any, to
    `channel` after the ack: the done view says it is on its way, and if the post fails,
    the view says so instead."""

    def failed(client: WebClient, failure: Shared) -> None:
        # Acked with `response_action: update`, the modal keeps its id.
        client.views_update(view_id=view["id"], view=done(failure))

    ack(response_action="update", view=done(planned_post(channel) if message is not None else None))
    if message is not None:
        share_later(context, body, channel, message, failed=failed)


def report_post(client: WebClient, shared: Shared) -> None:
    """A post that failed after the reply went out: tell the user in a second reply."""
    if not shared.ok:
        raise UserFacingError(
            f"I logged it, but could not post it to the channel ({shared.error}). "
            "Invite me to that channel, or share it by hand."
        )
