"""Sending outbox rows through the Slack Web API, and settling each row's fate."""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import OperationalError

from bot.slackapi.client import retry_after, without_rate_limit_waits
from storage import outbox, pacing
from storage.db import SessionFactory
from storage.models import OutboxMessage, OutboxStatus

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

log = logging.getLogger("rapport.delivery")
_T = TypeVar("_T")

ClientForTeam = Callable[[str], WebClient]
# Builds the message an outbox row stands for when it is sent; None: nothing to send.
Composer = Callable[["Session", OutboxMessage, datetime], "dict[str, Any] | None"]

# A refused token: nothing for the team can go until it is fixed, and nothing is lost
# meanwhile. The team is put on hold (storage/outbox.py) and its rows wait.
# token_expired: token rotation is on and the token could not be renewed in time.
TOKEN_ERRORS = frozenset(
    {
        "invalid_auth",
        "token_revoked",
        "token_expired",
        "account_inactive",
        "not_authed",
        "team_not_found",
    }
)
# The channel is gone or shut to the bot: a digest pauses its subscription
# (bot/scheduler/digests.py).
CHANNEL_GONE = frozenset({"channel_not_found", "is_archived", "not_in_channel"})
# Errors that no retry will fix: the row is marked failed with the error.
PERMANENT_ERRORS = CHANNEL_GONE | {
    "invalid_blocks",
    "msg_too_long",
    "no_text",
    "restricted_action",
    "user_not_found",
    "user_disabled",
    "cannot_dm_bot",
}
# `ok: false` answers after which Slack may still have posted (its docs say so of
# fatal_error): the next attempt looks for the message before posting again.
UNSURE_ERRORS = frozenset({"fatal_error", "internal_error", "request_timeout"})
# Upload errors that mean "not allowed here": the chart falls back to text.
UPLOAD_REFUSED = frozenset(
    {"missing_scope", "not_allowed_token_type", "restricted_action", "no_permission"}
)
MAX_ATTEMPTS = 8
# A thread reply waits this long between looks at whether its parent has gone out.
THREAD_WAIT = timedelta(minutes=1)
# How long a claim holds a row, from the wall clock when it is taken; a run renews it
# every RENEW_EVERY while it sends, so only a run that died or stalled loses its rows.
LEASE = timedelta(minutes=5)
RENEW_EVERY = timedelta(minutes=1)
# The longest a run sleeps for a 429's Retry-After, well inside the lease; a longer
# wait gives the row back with not_before instead.
MAX_RATE_LIMIT_WAIT = 20.0
RATE_LIMIT_TRIES = 3
# How often a team on hold has its token tried again (auth.test).
HOLD_CHECK_EVERY = timedelta(minutes=1)
# How long a write that settles a row keeps trying through a locked database.
DB_BUSY_PATIENCE = timedelta(seconds=30)
# Looking for a post that may have gone out: from the attempt's start less this (our
# clock against Slack's), at most this many pages of 200 messages.
LOOKUP_SKEW = timedelta(seconds=60)
LOOKUP_PAGES = 5
# The message metadata every outbox post carries, so that it can be found again.
METADATA_EVENT = "rapport_outbox"
BATCH = 50
PER_CHANNEL_INTERVAL_S = 1.0
# Senders queue at most one slot each; a channel's next slot further ahead than this
# comes from a clock that stepped back (see storage/pacing.py).
MAX_PACING_LEAD_S = 60.0

WallClock = Callable[[], datetime]
# Called in the transaction that marks a row failed for good (digests pause here).
OnFailure = Callable[["Session", OutboxMessage, str, datetime], None]


def wall_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    held: int = 0  # left pending, untried, for a team whose token Slack refuses

    def __add__(self, other: DeliveryReport) -> DeliveryReport:
        return DeliveryReport(
            sent=self.sent + other.sent,
            retrying=self.retrying + other.retrying,
            failed=self.failed + other.failed,
            held=self.held + other.held,
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


def _post(
    client: WebClient,
    channel: str,
    message: dict[str, Any],
    *,
    row_id: int,
    thread_ts: str | None = None,
) -> tuple[str, str]:
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
        metadata={"event_type": METADATA_EVENT, "event_payload": {"outbox_id": row_id}},
    )
    return str(response["channel"]), str(response["ts"])


def _upload(
    client: WebClient, channel: str, upload: dict[str, Any], thread_ts: str | None
) -> tuple[str, str] | None:
    """Upload a chart (files.getUploadURLExternal flow); None: post the text instead.

    A workspace may forbid file uploads by apps, or the app may lack files:write;
    the numbers then go out as words rather than not at all.
    """
    from bot.scheduler import charts

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


def find_posted(
    client: WebClient, channel: str, row: OutboxMessage, *, since: datetime, thread_ts: str | None
) -> str | None:
    """The ts of this row's message if Slack already has it (by its metadata), else None.

    Reads the conversation (or the thread) from `since`; a conversation the bot may
    not read (no history scope for it) counts as not found.
    """
    oldest = f"{(since - LOOKUP_SKEW).timestamp():.6f}"
    cursor: str | None = None
    for _ in range(LOOKUP_PAGES):
        try:
            if thread_ts is not None:
                page = client.conversations_replies(
                    channel=channel,
                    ts=thread_ts,
                    oldest=oldest,
                    cursor=cursor,
                    include_all_metadata=True,
                    limit=200,
                )
            else:
                page = client.conversations_history(
                    channel=channel,
                    oldest=oldest,
                    cursor=cursor,
                    include_all_metadata=True,
                    limit=200,
                )
        except SlackApiError as exc:
            error = exc.response.get("error")
            if exc.response.status_code == 429 or error in TOKEN_ERRORS:
                raise
            log.info("outbox row %s: cannot look for an earlier post (%s)", row.id, error)
            return None
        for message in page.get("messages") or []:
            meta = message.get("metadata") or {}
            payload = meta.get("event_payload") or {}
            if meta.get("event_type") == METADATA_EVENT and payload.get("outbox_id") == row.id:
                return str(message["ts"])
        cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
        if cursor is None:
            return None
    return None


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


class _RateLimited(Exception):
    def __init__(self, seconds: float) -> None:
        super().__init__(f"rate limited for {seconds:g} s")
        self.seconds = seconds


@dataclass(frozen=True)
class _Outcome:
    """What a failed attempt means for its row."""

    error: str
    permanent: bool = False
    token: bool = False
    unsure: bool = False  # Slack may have posted it
    wait: float | None = None  # rate limited: try again after this many seconds


def _outcome(exc: SlackApiError | OSError | _RateLimited, *, posting: bool) -> _Outcome:
    if isinstance(exc, _RateLimited):
        return _Outcome(f"ratelimited ({exc.seconds:g} s)", wait=exc.seconds)
    if isinstance(exc, SlackApiError):
        status = exc.response.status_code
        error = str(exc.response.get("error") or f"http_{status}")
        if error in TOKEN_ERRORS:
            return _Outcome(error, token=True)
        if error in PERMANENT_ERRORS:
            return _Outcome(error, permanent=True)
        return _Outcome(error, unsure=posting and (status >= 500 or error in UNSURE_ERRORS))
    # A refused connection never reached Slack; a reset or a timeout may have.
    refused = isinstance(getattr(exc, "reason", exc), ConnectionRefusedError)
    return _Outcome(f"network: {exc}", unsure=posting and not refused)


def deliver_pending(
    db: SessionFactory,
    client_for: ClientForTeam,
    *,
    now: datetime,
    compose: Composer = as_stored,
    pacer: ChannelPacer | None = None,
    on_failure: OnFailure | None = None,
    clock: WallClock = wall_clock,
    sleep: Callable[[float], None] = time.sleep,
) -> DeliveryReport:
    """Send every row due by `now`, batch by batch, until none is left to claim.

    `now` is the sweep's instant (what is due); leases and waits go by `clock`, the
    wall clock, since a run may take far longer than the instant it was started for.
    """
    run = _Run(db, client_for, now, compose, pacer or ChannelPacer(db), on_failure, clock, sleep)
    run.check_holds()
    while True:
        rows = run.claim()
        if not rows:
            return run.report
        for row in rows:
            try:
                run.deliver(row)
            except Exception:
                # One row's trouble never ends the run: it goes back for a later
                # attempt, which looks for it first in case it did go out.
                log.exception("outbox row %s: unexpected error; it will be retried", row.id)
                run.give_back_after_crash(row)


class _Run:
    """One delivery run: its owner id, its lease, and what it learned on the way."""

    def __init__(
        self,
        db: SessionFactory,
        client_for: ClientForTeam,
        now: datetime,
        compose: Composer,
        pacer: ChannelPacer,
        on_failure: OnFailure | None,
        clock: WallClock,
        sleep: Callable[[float], None],
    ) -> None:
        self.db = db
        self.client_for = client_for
        self.now = now
        self.compose = compose
        self.pacer = pacer
        self.on_failure = on_failure
        self.clock = clock
        self.sleep = sleep
        self.owner = f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
        self.renewed_at = clock()
        self.report = DeliveryReport()
        self.clients: dict[str, WebClient] = {}
        self.held: set[str] = set()
        self.limited_until: dict[str, datetime] = {}

    # --- the lease ---------------------------------------------------------------

    def claim(self) -> Sequence[OutboxMessage]:
        claimed_at = self.clock()
        with self.db.begin() as session:
            rows = outbox.claim(
                session,
                now=self.now,
                owner=self.owner,
                wall_now=claimed_at,
                lease=LEASE,
                limit=BATCH,
            )
        self.renewed_at = claimed_at
        return rows

    def keep_lease(self) -> None:
        """Renew the lease on everything this run holds, once every RENEW_EVERY."""
        wall = self.clock()
        if wall - self.renewed_at < RENEW_EVERY:
            return
        self.write(lambda session: outbox.renew(session, owner=self.owner, until=wall + LEASE))
        self.renewed_at = wall

    # --- teams on hold -------------------------------------------------------------

    def check_holds(self) -> None:
        """Try the token of each team on hold (auth.test, once a minute); lift the hold
        when Slack accepts it, so the team's waiting messages go in this run."""
        wall = self.clock()
        with self.db() as session:
            due = [
                hold.team_id
                for hold in outbox.holds_to_check(session, before=wall - HOLD_CHECK_EVERY)
            ]
        for team_id in due:
            try:
                self.client(team_id).auth_test()
            except SlackApiError as exc:
                error = exc.response.get("error")
                with self.db.begin() as session:
                    outbox.checked_hold(session, team_id=team_id, now=wall)
                if error not in TOKEN_ERRORS:
                    log.info("team %s on hold: its token check failed (%s)", team_id, error)
                continue
            except (URLError, OSError) as exc:
                log.info("team %s on hold: could not check its token (%s)", team_id, exc)
                continue
            with self.db.begin() as session:
                lifted = outbox.lift_hold(session, team_id=team_id)
            if lifted:
                log.warning("team %s: Slack accepts its token again; delivery resumes", team_id)

    def hold(self, row: OutboxMessage, error: str) -> None:
        with self.db.begin() as session:
            new = outbox.hold_team(session, team_id=row.team_id, error=error, now=self.clock())
        self.held.add(row.team_id)
        if new:
            log.error(
                "team %s: Slack refuses the bot token (%s). Its messages are kept and wait; "
                "delivery resumes by itself once Slack takes a token for it again: install "
                "Rapport in that workspace again (in one-workspace mode, with its new token "
                "in SLACK_BOT_TOKEN).",
                row.team_id,
                error,
            )

    # --- one row -------------------------------------------------------------------

    def client(self, team_id: str) -> WebClient:
        if team_id not in self.clients:
            # A 429 comes back here, to be waited out within the lease or handed back.
            self.clients[team_id] = without_rate_limit_waits(self.client_for(team_id))
        return self.clients[team_id]

    def deliver(self, row: OutboxMessage) -> None:
        if row.team_id in self.held:
            self.give_back(row, _Outcome("held: the team's token is refused", token=True))
            return
        limited = self.rate_limit_left(row.team_id)
        if limited > MAX_RATE_LIMIT_WAIT:
            self.give_back(row, _Outcome(f"ratelimited ({limited:g} s)", wait=limited))
            return
        self.keep_lease()
        with self.db() as session:
            message = self.compose(session, row, self.now)
        if message is None:
            self.settle(
                row,
                "skipped",
                lambda s: outbox.mark_skipped(s, row_id=row.id, owner=self.owner, now=self.now),
            )
            return
        thread_ts = None
        if "thread_of" in message:
            thread_ts = self.parent_ts(row, message["thread_of"])
            if thread_ts is None:
                return
            # A thread in parts (a digest's details) reads in order: each reply waits
            # for the one before it as it waits for its parent.
            if "after" in message and self.parent_ts(row, message["after"]) is None:
                return
        self.keep_lease()
        self.pacer.wait_for(row.recipient, team_id=row.team_id)
        self.send(row, message, thread_ts)

    def rate_limit_left(self, team_id: str) -> float:
        until = self.limited_until.get(team_id)
        return 0.0 if until is None else max((until - self.clock()).total_seconds(), 0.0)

    def call(self, team_id: str, request: Callable[[], _T]) -> _T:
        """Make one Slack call, sleeping out short rate limits (within the lease)."""
        for _ in range(RATE_LIMIT_TRIES):
            left = self.rate_limit_left(team_id)
            if left > 0:
                self.keep_lease()
                self.sleep(left)
            try:
                return request()
            except SlackApiError as exc:
                if exc.response.status_code != 429:
                    raise
                seconds = retry_after(exc.response.headers)
                self.limited_until[team_id] = self.clock() + timedelta(seconds=seconds)
                if seconds > MAX_RATE_LIMIT_WAIT:
                    raise _RateLimited(seconds) from None
        raise _RateLimited(self.rate_limit_left(team_id))

    def send(self, row: OutboxMessage, message: dict[str, Any], thread_ts: str | None) -> None:
        client = self.client(row.team_id)
        posting = False
        try:
            channel = self.call(row.team_id, lambda: _destination(client, row.recipient))
            if row.unsure_since is not None:
                since = row.unsure_since
                found = self.call(
                    row.team_id,
                    lambda: find_posted(client, channel, row, since=since, thread_ts=thread_ts),
                )
                if found is not None:
                    log.info(
                        "outbox row %s: its earlier attempt did post it; not sent again", row.id
                    )
                    self.sent(row, channel, found)
                    return
            posting = True
            channel_id, ts = self.call(
                row.team_id,
                lambda: _post(client, channel, message, row_id=row.id, thread_ts=thread_ts),
            )
        except (SlackApiError, URLError, OSError, _RateLimited) as exc:
            # Anything else reaches deliver_pending's guard, which gives the row back.
            self.give_back(row, _outcome(exc, posting=posting))
            return
        self.sent(row, channel_id, ts)

    def sent(self, row: OutboxMessage, channel_id: str, ts: str) -> None:
        if self.settle(
            row,
            "sent",
            lambda s: outbox.mark_sent(
                s, row_id=row.id, owner=self.owner, channel_id=channel_id, ts=ts, now=self.now
            ),
        ):
            self.report.sent += 1

    def give_back(self, row: OutboxMessage, outcome: _Outcome) -> None:
        """Settle a row whose attempt failed: wait, retry later, or fail for good."""
        if outcome.token:
            if row.team_id not in self.held:
                self.hold(row, outcome.error)
            # Its not_before stays: it goes as soon as the hold is lifted.
            if self.release(row, "held", outcome, row.not_before, counted=False):
                self.report.held += 1
            return
        if outcome.wait is not None:
            not_before = self.now + timedelta(seconds=outcome.wait)
            if self.release(row, "rate limited", outcome, not_before, counted=False):
                self.report.retrying += 1
            return
        if outcome.permanent or row.attempts >= MAX_ATTEMPTS:
            log.warning("outbox row %s failed for good: %s", row.id, outcome.error)

            def fail(session: Session) -> bool:
                failed = outbox.mark_failed(
                    session, row_id=row.id, owner=self.owner, error=outcome.error
                )
                if failed and self.on_failure is not None:
                    self.on_failure(session, row, outcome.error, self.now)
                return failed

            if self.settle(row, "failed", fail):
                self.report.failed += 1
            return
        log.info("outbox row %s will be retried: %s", row.id, outcome.error)
        if self.release(row, "retrying", outcome, self.now + retry_delay(row.attempts)):
            self.report.retrying += 1

    def release(
        self,
        row: OutboxMessage,
        what: str,
        outcome: _Outcome,
        not_before: datetime,
        *,
        counted: bool = True,
    ) -> bool:
        return self.settle(
            row,
            what,
            lambda session: outbox.release_for_retry(
                session,
                row_id=row.id,
                owner=self.owner,
                error=outcome.error,
                not_before=not_before,
                unsure=outcome.unsure,
                counted=counted,
            ),
        )

    def give_back_after_crash(self, row: OutboxMessage) -> None:
        try:
            self.write(
                lambda session: outbox.release_for_retry(
                    session,
                    row_id=row.id,
                    owner=self.owner,
                    error="unexpected error (see the log)",
                    not_before=self.now + retry_delay(row.attempts),
                    # Wherever it broke, it may have been after the post.
                    unsure=True,
                )
            )
        except Exception:
            # Even the database failed: the row's lease runs out and another run
            # takes it, looking for the message first.
            log.exception("outbox row %s: could not give it back; its lease will", row.id)

    def settle(self, row: OutboxMessage, what: str, change: Callable[[Session], bool]) -> bool:
        """Apply a change of state, which holds only if this run still holds the row."""
        held = self.write(change)
        if not held:
            log.warning(
                "outbox row %s: another run took it over (this one's lease ran out) before "
                "it could be marked %s; that run settles it",
                row.id,
                what,
            )
        return held

    def write(self, change: Callable[[Session], _T]) -> _T:
        """One write transaction, tried again while the database is briefly locked
        (SQLite's busy timeout, a PostgreSQL lock or statement timeout): a message
        already posted is then still marked sent, instead of waiting out its lease."""
        deadline = self.clock() + DB_BUSY_PATIENCE
        while True:
            try:
                with self.db.begin() as session:
                    return change(session)
            except OperationalError as exc:
                if self.clock() >= deadline:
                    raise
                log.warning("the database is busy (%s); trying again in 1 s", exc.orig)
                self.sleep(1.0)

    def parent_ts(self, row: OutboxMessage, parent_id: int) -> str | None:
        """The ts to reply under (or of the reply before); None when the reply must wait
        (or never go: skipped)."""
        with self.db.begin() as session:
            parent = outbox.by_id(session, parent_id)
            if parent is not None and parent.status == OutboxStatus.SENT and parent.message_ts:
                return parent.message_ts
            if parent is None or parent.status in (OutboxStatus.FAILED, OutboxStatus.SKIPPED):
                outbox.mark_skipped(session, row_id=row.id, owner=self.owner, now=self.now)
            else:
                outbox.release_for_retry(
                    session,
                    row_id=row.id,
                    owner=self.owner,
                    error="waiting for the message it replies to",
                    not_before=max(self.now + THREAD_WAIT, parent.not_before),
                    counted=False,
                )
            return None
