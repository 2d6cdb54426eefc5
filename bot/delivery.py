"""Sending outbox rows through the Slack Web API, and settling each row's fate."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session

from storage import outbox, pacing
from storage.db import SessionFactory
from storage.models import OutboxMessage, OutboxStatus

log = logging.getLogger("rapport.delivery")

ClientForTeam = Callable[[str], WebClient]
# Builds the message an outbox row stands for when it is sent; None: nothing to send.
Composer = Callable[[Session, OutboxMessage, datetime], "dict[str, Any] | None"]

# Errors that no retry will fix: the row is marked failed with the error.
PERMANENT_ERRORS = frozenset(
    {
        "account_inactive",
        "channel_not_found",
        "invalid_auth",
        "invalid_blocks",
        "is_archived",
        "msg_too_long",
        "no_text",
        "not_authed",
        "not_in_channel",
        "restricted_action",
        "token_revoked",
        "user_not_found",
        "user_disabled",
        "cannot_dm_bot",
    }
)
# Upload errors that mean "not allowed here": the chart falls back to text.
UPLOAD_REFUSED = frozenset(
    {"missing_scope", "not_allowed_token_type", "restricted_action", "no_permission"}
)
MAX_ATTEMPTS = 8
# A thread reply waits this long between looks at whether its parent has gone out.
THREAD_WAIT = timedelta(minutes=1)
# How long a claim holds a row; a worker killed mid-send frees it after this.
LEASE = timedelta(minutes=5)
BATCH = 50
PER_CHANNEL_INTERVAL_S = 1.0
# Senders queue at most one slot each; a channel's next slot further ahead than this
# comes from a clock that stepped back (see storage/pacing.py).
MAX_PACING_LEAD_S = 60.0


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0

    def __add__(self, other: DeliveryReport) -> DeliveryReport:
        return DeliveryReport(
            sent=self.sent + other.sent,
            retrying=self.retrying + other.retrying,
            failed=self.failed + other.failed,
        )


def retry_delay(attempts: int) -> timedelta:
    """Back off 1, 2, 4 … minutes, capped at an hour."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 60))


def _destination(client: WebClient, recipient: str) -> str:
    if recipient.startswith(("U", "W")):
        # A bot's DM with a user lives in a D… channel that conversations.open returns.
        opened = client.conversations_open(users=recipient)
        return str(opened["channel"]["id"])
    return recipient


def _send(
    client: WebClient, recipient: str, message: dict[str, Any], thread_ts: str | None = None
) -> tuple[str, str]:
    channel = _destination(client, recipient)
    if "upload" in message:
        uploaded = _upload(client, channel, message["upload"], thread_ts)
        if uploaded is not None:
            return uploaded
    response = client.chat_postMessage(
        channel=channel,
        text=message["text"],
        blocks=message.get("blocks"),
        thread_ts=thread_ts,
        unfurl_links=False,
        unfurl_media=False,
    )
    return str(response["channel"]), str(response["ts"])


def _upload(
    client: WebClient, channel: str, upload: dict[str, Any], thread_ts: str | None
) -> tuple[str, str] | None:
    """Upload a chart (files.getUploadURLExternal flow); None: post the text instead.

    A workspace may forbid file uploads by apps, or the app may lack files:write;
    the numbers then go out as words rather than not at all.
    """
    from bot import charts

    try:
        response = client.files_upload_v2(
            channel=channel,
            thread_ts=thread_ts,
            content=charts.render_png(upload["data"]),
            filename=charts.CHART_FILENAME,
            title=upload["title"],
            alt_txt=charts.alt_text(upload["data"]),
        )
    except SlackApiError as exc:
        if exc.response.get("error") in UPLOAD_REFUSED:
            log.info("chart upload refused (%s): sending it as text", exc.response.get("error"))
            return None
        raise
    return channel, str(response["file"]["id"])


def as_stored(session: Session, row: OutboxMessage, now: datetime) -> dict[str, Any] | None:
    """The default composer: the payload is the message."""
    return row.payload


class ChannelPacer:
    """At most one message a second to any one channel: Slack drops faster bot posts.

    With a database, posts to shared channels (escalations, digests) are paced across
    every worker: each post reserves the channel's next free slot in one short upsert
    (storage/pacing.py) and sleeps until it. DMs need no such write: each person has
    their own DM channel and gets one grouped message per sweep, so the per-process
    pacing below is all they ever needed.
    """

    def __init__(
        self,
        db: SessionFactory | None = None,
        interval: float = PER_CHANNEL_INTERVAL_S,
        # Wall-clock time: the slots are compared between processes.
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.db = db
        self.interval = interval
        self.clock = clock
        self.sleep = sleep
        self.last_sent: dict[str, float] = {}

    def wait_for(self, channel: str, team_id: str = "") -> float:
        """Sleep until `channel` may take a post; returns that instant."""
        if self.db is not None and not _is_direct(channel):
            with self.db.begin() as session:
                slot = pacing.reserve_slot(
                    session,
                    team_id=team_id,
                    channel_id=channel,
                    now=self.clock(),
                    interval=self.interval,
                    max_lead=MAX_PACING_LEAD_S,
                )
        else:
            last = self.last_sent.get(channel)
            slot = self.clock() if last is None else last + self.interval
        remaining = slot - self.clock()
        if remaining > 0:
            self.sleep(remaining)
        self.last_sent[channel] = max(slot, self.clock())
        return slot


def _is_direct(recipient: str) -> bool:
    # A user (U…/W…, opened as a DM when sent) or a DM channel (D…).
    return recipient.startswith(("U", "W", "D"))


def deliver_pending(
    db: SessionFactory,
    client_for: ClientForTeam,
    *,
    now: datetime,
    compose: Composer = as_stored,
    pacer: ChannelPacer | None = None,
) -> DeliveryReport:
    report = DeliveryReport()
    pacer = pacer or ChannelPacer(db)
    while True:
        with db.begin() as session:
            rows = outbox.claim(session, now=now, lease=LEASE, limit=BATCH)
        if not rows:
            return report
        for row in rows:
            with db() as session:
                message = compose(session, row, now)
            if message is None:
                with db.begin() as session:
                    outbox.mark_skipped(session, row_id=row.id, now=now)
                continue
            thread_ts = None
            if "thread_of" in message:
                thread_ts = _parent_ts(db, row, message["thread_of"], now=now)
                if thread_ts is None:
                    continue
            pacer.wait_for(row.recipient, team_id=row.team_id)
            _deliver_one(
                db,
                client_for(row.team_id),
                row,
                message,
                now=now,
                report=report,
                thread_ts=thread_ts,
            )


def _parent_ts(
    db: SessionFactory, row: OutboxMessage, parent_id: int, *, now: datetime
) -> str | None:
    """The ts to reply under; None when the reply must wait (or never go: then skipped)."""
    with db.begin() as session:
        parent = session.get(OutboxMessage, parent_id)
        if parent is not None and parent.status == OutboxStatus.SENT and parent.message_ts:
            return parent.message_ts
        if parent is None or parent.status in (OutboxStatus.FAILED, OutboxStatus.SKIPPED):
            outbox.mark_skipped(session, row_id=row.id, now=now)
        else:
            outbox.release_for_retry(
                session,
                row_id=row.id,
                error="waiting for the message it replies to",
                not_before=max(now + THREAD_WAIT, parent.not_before),
            )
        return None


def _deliver_one(
    db: SessionFactory,
    client: WebClient,
    row: OutboxMessage,
    message: dict[str, Any],
    *,
    now: datetime,
    report: DeliveryReport,
    thread_ts: str | None = None,
) -> None:
    try:
        channel_id, ts = _send(client, row.recipient, message, thread_ts)
    except SlackApiError as exc:
        error = str(exc.response.get("error") or f"http_{exc.response.status_code}")
        permanent = error in PERMANENT_ERRORS
    except (URLError, OSError) as exc:
        error, permanent = f"network: {exc}", False
    else:
        with db.begin() as session:
            outbox.mark_sent(session, row_id=row.id, channel_id=channel_id, ts=ts, now=now)
        report.sent += 1
        return
    with db.begin() as session:
        if permanent or row.attempts >= MAX_ATTEMPTS:
            log.warning("outbox row %s failed for good: %s", row.id, error)
            outbox.mark_failed(session, row_id=row.id, error=error)
            report.failed += 1
        else:
            log.info("outbox row %s will be retried: %s", row.id, error)
            outbox.release_for_retry(
                session, row_id=row.id, error=error, not_before=now + retry_delay(row.attempts)
            )
            report.retrying += 1
