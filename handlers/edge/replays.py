"""A command, form or event that Slack delivers twice is done once (issue 13, item 6).

Slack may send the same request again: a client retrying after a time-out, a signed
request replayed within its 5-minute window, the Events API's own retries (marked
`X-Slack-Retry-Num`). One middleware covers every listener. It claims the request's
key (storage/replays.py) and keeps the reply it acks; a later delivery of the same
request gets that reply instead of running again, or, if the first has not answered
yet, waits for it within its budget and then says it is still being handled.

Where the claim is written:
- Slash commands: inside the first transaction the command begins
  (storage.db.at_first_transaction), so it commits or rolls back with the command's
  own writes, and costs no transaction of its own on the busiest path. A repeat finds
  the key taken there, before writing anything, and is answered by the error
  handler. A command that never touches the database (`/rapport help`) claims
  nothing and is simply run again, which is harmless, and waits for no lock.
- Form submissions and events, and commands outside a request budget (`rapport try`,
  Socket Mode): in a transaction of its own before any listener runs, because some
  forms and every event do their work after the ack, off the request. If such a
  request fails, its key is let go, so that a later delivery runs it again: it saved
  nothing.

Keeping the reply and letting a key go happen after the ack, on the after-ack pool:
the request thread may still hold the database connection (SQLite has one) or have
no time left.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, BoltContext, BoltRequest, BoltResponse
from slack_bolt.middleware import Middleware

from handlers.edge.context import deps_of, utcnow
from handlers.edge.pool import AFTER_ACK
from messages import render
from storage import replays
from storage.db import SessionFactory, at_first_transaction, request_budget, request_time_left

if TYPE_CHECKING:
    from sqlalchemy import Connection

log = logging.getLogger("rapport.replays")

# In the request's context: its key, claimed before the listener ran, to let go of
# if the listener fails.
CLAIMED_KEY = "rapport_request_key"
# How often a repeat looks whether the first delivery has answered.
POLL_S = 0.05
# How long it waits for that outside a request budget (rapport try, Socket Mode).
WAIT_WITHOUT_BUDGET_S = 1.0
# Stop waiting this long before the budget ends: answering still takes a moment.
ANSWER_MARGIN_S = 0.2
# How often each process deletes keys past the replay window.
CLEAN_EVERY_S = 60.0


class AlreadyAnswered(Exception):
    """This request is a repeat: another delivery of it holds its key."""

    def __init__(self, key: str) -> None:
        super().__init__("a repeat of a request that another delivery holds")
        self.key = key


def request_key(body: dict[str, Any]) -> str | None:
    """What makes two deliveries one request; None for kinds that are not deduplicated
    (button clicks and the like) or that lack the id Slack gives each one."""
    if isinstance(body.get("command"), str):
        unique = body.get("trigger_id")  # Slack's own, new for every invocation
        parts = ["command", body.get("team_id"), body.get("user_id"), body["command"]]
        parts += [body.get("text"), unique]
    elif body.get("type") == "view_submission":
        view = body.get("view") or {}
        unique = view.get("id")
        # A form sent back with an error under a field keeps its id and hash; what
        # was typed makes the corrected one a new request.
        typed = json.dumps((view.get("state") or {}).get("values"), sort_keys=True)
        parts = ["view", view.get("team_id"), (body.get("user") or {}).get("id"), unique]
        parts += [view.get("hash"), typed]
    elif body.get("type") == "event_callback":
        unique = body.get("event_id")
        parts = ["event", body.get("team_id"), unique]
    else:
        return None
    if not unique:
        return None
    return hashlib.sha256("\x1f".join(str(part or "") for part in parts).encode()).hexdigest()


class AnswerRepeatsOnce(Middleware):
    """Runs the listeners for the first delivery of a request only (see the module)."""

    def process(
        self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]
    ) -> BoltResponse | None:
        key = request_key(req.body)
        if key is None:
            return next()
        retry = req.headers.get("x-slack-retry-num")
        if retry:
            # An event Slack sends again; its event_id makes it the same request.
            log.info("Slack's retry %s of event %s", retry[0], req.body.get("event_id"))
        db = deps_of(req.context).db
        req.context["ack"] = RememberingAck(db, key)
        is_command = isinstance(req.body.get("command"), str)
        if is_command and at_first_transaction(partial(_claim_or_refuse, key)):
            return next()
        first = _claim_or_first_reply(db, key)
        if first is None:
            req.context[CLAIMED_KEY] = key
            return next()
        return _repeat_answer(first, req.body)


def answer_repeat(
    error: AlreadyAnswered, context: BoltContext, body: dict[str, Any]
) -> BoltResponse:
    """For the error handler: the first delivery's reply, once it has one."""
    left = request_time_left()
    # A budget of its own: the request's transactions are refused from here on.
    with request_budget(WAIT_WITHOUT_BUDGET_S if left is None else max(0.0, left)):
        first = _wait_for_first_reply(deps_of(context).db, error.key)
    return _repeat_answer(first, body)


def _claim_or_refuse(key: str, conn: Connection) -> None:
    if not replays.try_claim(conn, key=key, now=utcnow()):
        raise AlreadyAnswered(key)


def _polls() -> int:
    """How many times a repeat may look, within what its request has left. Counted,
    not timed: the tests freeze the clock."""
    left = request_time_left()
    waiting = WAIT_WITHOUT_BUDGET_S if left is None else left - ANSWER_MARGIN_S
    return max(1, int(waiting / POLL_S))


def _claim_or_first_reply(
    db: SessionFactory, key: str
) -> replays.Reply | replays.StillRunning | None:
    """None once this delivery holds the key; else what the one holding it answered."""
    for _ in range(_polls()):
        with db.begin() as session:
            if replays.try_claim(session.connection(), key=key, now=utcnow()):
                return None
            found = replays.first_reply(session, key=key)
        if isinstance(found, replays.Reply):
            return found
        time.sleep(POLL_S)
    return replays.STILL_RUNNING


def _wait_for_first_reply(db: SessionFactory, key: str) -> replays.Reply | replays.StillRunning:
    for _ in range(_polls()):
        with db() as session:
            found = replays.first_reply(session, key=key)
        if isinstance(found, replays.Reply):
            return found
        time.sleep(POLL_S)
    return replays.STILL_RUNNING


def _repeat_answer(
    first: replays.Reply | replays.StillRunning, body: dict[str, Any]
) -> BoltResponse:
    if isinstance(first, replays.Reply):
        headers: dict[str, str | Sequence[str]] = {}
        if first.content_type:
            headers["content-type"] = first.content_type
        return BoltResponse(status=first.status, body=first.body, headers=headers)
    if body.get("type") == "event_callback":
        return BoltResponse(status=200, body="")
    message = render("request_pending")
    if body.get("type") == "view_submission":
        view = render("notice_modal", title="Still saving", message=message)
        payload: dict[str, Any] = {"response_action": "push", "view": view}
    else:
        payload = {"response_type": "ephemeral", **message}
    return BoltResponse(
        status=200, body=json.dumps(payload), headers={"content-type": "application/json"}
    )


class RememberingAck(Ack):
    """Bolt's ack, which also keeps the reply for later deliveries of the request."""

    def __init__(self, db: SessionFactory, key: str) -> None:
        super().__init__()
        self._db = db
        self._key = key

    def __call__(self, *args: Any, **kwargs: Any) -> BoltResponse:
        response = super().__call__(*args, **kwargs)
        content_type = next(iter(response.headers.get("content-type") or ()), None)
        reply = replays.Reply(status=response.status, body=response.body, content_type=content_type)
        _KEEPER.keep(self._db, self._key, reply)
        return response

    def __deepcopy__(self, memo: dict[int, Any]) -> Ack:
        # Bolt copies the request for lazy listeners, whose ack goes nowhere.
        return Ack()


def let_go_of_failed(context: BoltContext) -> None:
    """The listener failed: a later delivery of the request runs it again. (A key
    claimed inside the request's transaction went when that rolled back.)"""
    key = context.get(CLAIMED_KEY)
    if key:
        _after_ack(_release, deps_of(context).db, key)


def _after_ack(work: Callable[..., None], *args: Any) -> None:
    AFTER_ACK.submit(work, *args)


class _Keeper:
    """Writes kept replies in batches: one transaction for every reply acked while
    the last one waited for the database, instead of one each, so that under load
    they take the (on SQLite, single) connection from requests as little as they can."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: dict[SessionFactory, list[tuple[str, replays.Reply]]] = {}
        self._last_clean = float("-inf")

    def keep(self, db: SessionFactory, key: str, reply: replays.Reply) -> None:
        with self._lock:
            batch = self._waiting.setdefault(db, [])
            batch.append((key, reply))
            first = len(batch) == 1
        if first:  # the others ride along with it
            _after_ack(self._write, db)

    def _write(self, db: SessionFactory) -> None:
        with self._lock:
            batch = self._waiting.pop(db, [])
            clean = time.monotonic() - self._last_clean >= CLEAN_EVERY_S
            if clean:
                self._last_clean = time.monotonic()
        try:
            with db.begin() as session:
                for key, reply in batch:
                    replays.remember(session, key=key, reply=reply)
                if clean:
                    replays.forget_expired(session, now=utcnow())
        except Exception:
            # The requests' own work is done; a repeat is told it is still being handled.
            log.warning("could not keep %d replies for their repeats", len(batch), exc_info=True)


_KEEPER = _Keeper()


def _release(db: SessionFactory, key: str) -> None:
    try:
        with db.begin() as session:
            replays.release(session, key=key)
    except Exception:
        log.warning("could not let a failed request's key go", exc_info=True)
