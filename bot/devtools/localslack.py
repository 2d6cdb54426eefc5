"""A stand-in for Slack on 127.0.0.1: the Web API, response_url, and signed requests.

`rapport try`, the tests and the benchmarks talk to it through slack_sdk's real
WebClient. It records every call, keeps the messages posted (with their metadata)
for conversations.history and conversations.replies, answers the methods Rapport
uses the way Slack does, and can be told to fail the next calls (429 with any
Retry-After, 5xx, an `ok: false` error, a slow answer, or a post it takes and then
answers with an error), to refuse every call with a token error, or to refuse posts
to a channel (gone, archived), to exercise retries.

Its Socket Mode side (`LocalSlack.socket_mode`, started on first use) is Slack's end
of the WebSocket: apps.connections.open with the app token hands out a ws:// URL, each
connection gets `hello`, and a test sends envelopes (slash commands, events,
interactions) to one connection, reads the acks that come back with their payloads,
and asks a connection to refresh (`disconnect`, reason `refresh_requested`).

For distributed mode it plays Slack's side of an install: an admin's consent gives a
code, `oauth.v2.access` turns it into a workspace's tokens (with or without token
rotation, for one workspace or a whole Enterprise Grid org), and `auth.test` answers
for each token; every call records the token it carried. A rotating token runs out
(`token_expired`) unless it is renewed with its refresh token, which is good once. An
admin's uninstall revokes a workspace's tokens (every call with one is answered
`invalid_auth`) and sends the app `app_uninstalled` and `tokens_revoked`, signed, over
HTTP.

As Slack does, it answers a Web API call that carries no token `not_authed`, and one
with a token it never handed out (nor was given as a one-workspace bot's, `bot_tokens`)
`invalid_auth`, both with HTTP 200; oauth.v2.access authenticates with the app's
client id and secret instead, and apps.connections.open takes only the app token.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import math
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode

from slack_sdk.signature import SignatureVerifier
from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server as WebSocketServer
from websockets.sync.server import ServerConnection, serve

# The app-level token (xapp-…) the local Socket Mode side expects, unless told another.
LOCAL_APP_TOKEN = "xapp-1-A0RAPPORT-local"
# The bot token of the local one-workspace install (T0LOCAL), unless told others.
LOCAL_BOT_TOKEN = "xoxb-local"
# Methods that take no bot or user token: oauth.v2.access authenticates with the app's
# client id and secret, apps.connections.open checks its app token itself, and a
# response_url is a secret URL of its own.
NO_BOT_TOKEN = frozenset({"oauth.v2.access", "apps.connections.open", "response_url"})


@dataclass(frozen=True)
class RecordedCall:
    method: str  # a Web API method such as "chat.postMessage", or "response_url"
    args: dict[str, Any]
    token: str | None
    at: float


@dataclass
class Failure:
    status: int = 200
    error: str | None = None
    retry_after: float | str | None = None
    # Do the call's work (post the message) before answering with the failure.
    accepted: bool = False
    # Seconds to wait before answering (longer than the client's timeout: it gives up).
    delay: float = 0.0
    # How many calls of the method go through untouched before this one fails.
    after: int = 0


@dataclass
class LocalSlackState:
    calls: list[RecordedCall] = field(default_factory=list)
    failures: dict[str, list[Failure]] = field(default_factory=dict)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    # User group id -> member ids, for usergroups.users.list.
    usergroups: dict[str, list[str]] = field(default_factory=dict)
    # Workspace id -> its name, for team.info (a workspace not named: team_not_found).
    team_names: dict[str, str] = field(default_factory=dict)
    # File id -> the bytes uploaded to its upload URL.
    uploads: dict[str, bytes] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    ts_counter: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    delay_seconds: float = 0.0
    # Channel id -> the messages posted in it, oldest first.
    messages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # Set: every Web API call answers `ok: false` with this (a revoked token).
    token_error: str | None = None
    # Channel id -> the error a post to it gets (channel_not_found, is_archived, …).
    refused_channels: dict[str, str] = field(default_factory=dict)
    # The Socket Mode side, once a test or apps.connections.open has asked for it.
    socket_mode: LocalSocketMode | None = None
    # Set: apps.connections.open hands out this URL instead (one nobody answers, say).
    socket_url: str | None = None
    app_token: str = LOCAL_APP_TOKEN
    # An install's code (given at consent, good once) -> the oauth.v2.access answer.
    grants: dict[str, dict[str, Any]] = field(default_factory=dict)
    # A token handed out by oauth.v2.access -> the auth.test answer for it.
    tokens: dict[str, dict[str, Any]] = field(default_factory=dict)
    # A refresh token (token rotation) -> the grant it renews.
    refreshes: dict[str, dict[str, Any]] = field(default_factory=dict)
    # A rotating token -> when it runs out (epoch seconds); calls after get token_expired.
    expiry: dict[str, float] = field(default_factory=dict)
    # Tokens revoked (the app uninstalled): every call carrying one gets invalid_auth.
    revoked: set[str] = field(default_factory=set)
    # Bot tokens of one-workspace installs (pasted into SLACK_BOT_TOKEN), good for
    # every call, auth.test answering for T0LOCAL; any other token not handed out by
    # oauth.v2.access gets invalid_auth.
    bot_tokens: set[str] = field(default_factory=lambda: {LOCAL_BOT_TOKEN})


POSTING = ("chat.postMessage", "chat.postEphemeral", "files.completeUploadExternal")


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        if self.path.startswith("/upload/"):
            # files.getUploadURLExternal hands out this URL; the file's bytes come here.
            self._receive_upload(self.path.removeprefix("/upload/"), body)
            return
        raw = body.decode("utf-8")
        if self.headers.get("Content-Type", "").startswith("application/json"):
            args: dict[str, Any] = json.loads(raw or "{}")
        else:
            args = {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}
            for key in ("blocks", "view", "attachments", "metadata"):
                if isinstance(args.get(key), str):
                    # Slack would reject malformed JSON; recording it as sent is enough here.
                    with contextlib.suppress(ValueError):
                        args[key] = json.loads(args[key])
        auth = self.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") if auth else args.get("token")
        if auth.startswith("Basic "):  # the app's client id and secret (oauth.v2.access)
            client_id, _, _ = base64.b64decode(auth.removeprefix("Basic ")).decode().partition(":")
            token, args = None, {**args, "client_id": client_id}
        path = self.path.split("?", 1)[0].strip("/")
        method = "response_url" if path.startswith("response/") else path.removeprefix("api/")
        if method == "apps.connections.open":
            args = {**args, "token": token}
        state = self.server.state
        with state.lock:
            state.calls.append(RecordedCall(method, args, token, time.time()))
            queue = state.failures.get(method)
            failure = None
            if queue and queue[0].after > 0:
                queue[0].after -= 1
            elif queue:
                failure = queue.pop(0)
            token_error = None if method in NO_BOT_TOKEN else self._token_error(token)
            refused = state.refused_channels.get(str(args.get("channel", "")))
        done = None
        if failure is not None and failure.accepted and not token_error:
            done = self.server.answer(
                method, args, token
            )  # Slack does the work, then answers late or badly
        if failure is not None and failure.delay:
            time.sleep(failure.delay)
        if state.delay_seconds:
            time.sleep(state.delay_seconds)
        if token_error:
            self._reply(200, {"ok": False, "error": token_error})
            return
        if refused and method in POSTING:
            self._reply(200, {"ok": False, "error": refused})
            return
        if failure is not None and failure.status != 200:
            headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after else {}
            error = failure.error or ("ratelimited" if failure.status == 429 else "fatal_error")
            self._reply(failure.status, {"ok": False, "error": error}, headers)
            return
        if failure is not None and failure.error:
            self._reply(200, {"ok": False, "error": failure.error})
            return
        self._reply(200, done if done is not None else self.server.answer(method, args, token))

    def _token_error(self, token: str | None) -> str | None:
        """What Slack answers a call carrying `token` instead of doing it, if anything
        (state.lock held)."""
        state = self.server.state
        if not token:
            return "not_authed"
        if state.token_error is not None:
            return state.token_error
        if token == state.app_token:
            return "not_allowed_token_type"  # an app token opens Socket Mode, nothing else
        if token in state.revoked or (token not in state.tokens and token not in state.bot_tokens):
            return "invalid_auth"
        if time.time() >= state.expiry.get(token, math.inf):
            return "token_expired"
        return None

    def _receive_upload(self, file_id: str, data: bytes) -> None:
        state = self.server.state
        with state.lock:
            state.uploads[file_id] = data
            state.calls.append(RecordedCall("file_upload", {"file_id": file_id}, None, time.time()))
        reply = b"OK - " + str(len(data)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def _reply(
        self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        data = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting (a slow answer): Slack would not mind


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, state: LocalSlackState) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state = state

    def handle_error(self, request: Any, client_address: Any) -> None:
        return  # a client that hung up mid-answer is part of the faults played here

    def answer(self, method: str, args: dict[str, Any], token: str | None = None) -> dict[str, Any]:
        state = self.state
        if method == "oauth.v2.access":
            return self._access(args)
        if method == "auth.test" and token in state.tokens:
            return {"ok": True, **state.tokens[token]}
        if method == "auth.test":  # a one-workspace bot token
            return {
                "ok": True,
                "url": "https://local.slack.test/",
                "team": "Local",
                "user": "rapport",
                "team_id": "T0LOCAL",
                "user_id": "U0RAPPORT",
                "bot_id": "B0RAPPORT",
            }
        if method == "conversations.open":
            user = str(args.get("users", "")).split(",")[0]
            return {"ok": True, "channel": {"id": "D" + user[1:] if user else "D0"}}
        if method in ("chat.postMessage", "chat.update", "chat.postEphemeral"):
            ts = f"{int(time.time())}.{next(state.ts_counter):06d}"
            reply: dict[str, Any] = {"ok": True, "channel": args.get("channel"), "ts": ts}
            if method == "chat.postEphemeral":
                reply = {"ok": True, "message_ts": ts}
            if method == "chat.postMessage":
                self._keep(ts, args)
            return reply
        if method in ("conversations.history", "conversations.replies"):
            return self._history(method, args)
        if method in ("views.open", "views.update", "views.push", "views.publish"):
            view = args.get("view") or {}
            return {"ok": True, "view": {"id": f"V{next(state.ts_counter):08d}", **view}}
        if method == "users.info":
            wanted = str(args.get("user", ""))
            found = state.users.get(wanted)
            if found is None:
                return {"ok": False, "error": "user_not_found"}
            return {"ok": True, "user": {"id": wanted, **found}}
        if method == "users.lookupByEmail":
            email = str(args.get("email", "")).lower()
            for user_id, profile_owner in state.users.items():
                if str(profile_owner.get("profile", {}).get("email", "")).lower() == email:
                    return {"ok": True, "user": {"id": user_id, **profile_owner}}
            return {"ok": False, "error": "users_not_found"}
        if method == "team.info":
            team_id = str(args.get("team", ""))
            name = state.team_names.get(team_id)
            if name is None:
                return {"ok": False, "error": "team_not_found"}
            return {"ok": True, "team": {"id": team_id, "name": name}}
        if method == "usergroups.users.list":
            members = state.usergroups.get(str(args.get("usergroup", "")))
            if members is None:
                return {"ok": False, "error": "no_such_subteam"}
            return {"ok": True, "users": list(members)}
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(state.ts_counter):08d}"
            host, port = self.server_address[:2]
            return {
                "ok": True,
                "file_id": file_id,
                "upload_url": f"http://{host!s}:{port}/upload/{file_id}",
            }
        if method == "files.completeUploadExternal":
            files = json.loads(str(args.get("files") or "[]"))
            missing = [f["id"] for f in files if f.get("id") not in state.uploads]
            if missing:
                return {"ok": False, "error": "file_not_found"}
            return {"ok": True, "files": [{"id": f["id"], "title": f.get("title")} for f in files]}
        if method == "response_url":
            return {"ok": True}
        if method == "apps.connections.open":
            return self._connections_open(args)
        return {"ok": True}

    def _connections_open(self, args: dict[str, Any]) -> dict[str, Any]:
        """Only the app-level token opens a connection; a bot token is the wrong kind."""
        token = str(args.get("token") or "")
        if not token:
            return {"ok": False, "error": "not_authed"}
        if not token.startswith("xapp-"):
            return {"ok": False, "error": "not_allowed_token_type"}
        if token != self.state.app_token:
            return {"ok": False, "error": "invalid_auth"}
        if self.state.socket_url is not None:
            return {"ok": True, "url": self.state.socket_url}
        side = self.state.socket_mode
        if side is None:
            return {"ok": False, "error": "socket_mode_not_enabled"}  # a test's oversight
        return {"ok": True, "url": side.open_url()}

    def _access(self, args: dict[str, Any]) -> dict[str, Any]:
        """oauth.v2.access: a consent's code, once, or a refresh token (rotation)."""
        with self.state.lock:
            if args.get("grant_type") == "refresh_token":
                grant = self.state.refreshes.pop(str(args.get("refresh_token")), None)
            else:
                grant = self.state.grants.pop(str(args.get("code")), None)
            if grant is None:
                return {
                    "ok": False,
                    "error": "invalid_code" if "code" in args else "invalid_refresh_token",
                }
            return self._issue(grant)

    def _issue(self, grant: dict[str, Any]) -> dict[str, Any]:
        """New tokens for `grant`, answered as Slack answers oauth.v2.access (state.lock held)."""
        n = next(self.state.ts_counter)
        rotating = grant["rotation"]
        where = (grant["team"] or {}).get("id") or grant["enterprise"]["id"]
        token = f"{'xoxe.' if rotating else ''}xoxb-{where.lower()}-{n}"
        user_token = f"{'xoxe.' if rotating else ''}xoxp-{where.lower()}-{n}"
        answer: dict[str, Any] = {
            "ok": True,
            "app_id": "A0RAPPORT",
            "access_token": token,
            "token_type": "bot",
            "scope": grant["scope"],
            "bot_user_id": "U0RAPPORT",
            "team": grant["team"],
            "enterprise": grant["enterprise"],
            "is_enterprise_install": grant["is_enterprise_install"],
            "authed_user": {"id": grant["user_id"], "scope": "", "token_type": "user"},
        }
        if rotating:
            refresh = f"xoxe-1-{where.lower()}-{n}"
            answer |= {"refresh_token": refresh, "expires_in": grant["expires_in"]}
            self.state.refreshes[refresh] = grant
            self.state.expiry[token] = time.time() + grant["expires_in"]
        if grant["user_scope"]:
            answer["authed_user"] |= {"scope": grant["user_scope"], "access_token": user_token}
        self.state.tokens[token] = {
            "url": f"https://{where.lower()}.slack.test/",
            "team": (grant["team"] or {}).get("name"),
            "user": "rapport",
            "team_id": (grant["team"] or {}).get("id"),
            "user_id": "U0RAPPORT",
            "bot_id": "B0RAPPORT",
            "enterprise_id": (grant["enterprise"] or {}).get("id"),
            "is_enterprise_install": grant["is_enterprise_install"],
        }
        grant["token"] = token
        return answer

    def _keep(self, ts: str, args: dict[str, Any]) -> None:
        message = {"type": "message", "ts": ts, "text": args.get("text", "")}
        if args.get("thread_ts"):
            message["thread_ts"] = args["thread_ts"]
        if isinstance(args.get("metadata"), dict):
            message["metadata"] = args["metadata"]
        with self.state.lock:
            self.state.messages.setdefault(str(args.get("channel")), []).append(message)

    def _history(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        """Newest first, between `oldest` and `latest`; metadata only when asked for;
        history shows a channel's top-level messages, replies one thread's."""
        with self.state.lock:
            kept = list(self.state.messages.get(str(args.get("channel")), []))
        oldest = float(args.get("oldest") or 0)
        latest = float(args.get("latest") or "inf")
        thread = str(args.get("ts", ""))
        with_metadata = str(args.get("include_all_metadata", "")).lower() in ("1", "true")
        found = []
        for message in reversed(kept):
            in_thread = message["ts"] == thread or message.get("thread_ts") == thread
            if method == "conversations.replies" and not in_thread:
                continue
            if method == "conversations.history" and message.get("thread_ts"):
                continue
            if not oldest <= float(message["ts"]) <= latest:
                continue
            found.append(
                message if with_metadata else {k: v for k, v in message.items() if k != "metadata"}
            )
        limit = int(args.get("limit") or 100)
        start = int(args.get("cursor") or 0)
        page = found[start : start + limit]
        more = start + limit < len(found)
        return {
            "ok": True,
            "messages": page,
            "has_more": more,
            "response_metadata": {"next_cursor": str(start + limit) if more else ""},
        }


class LocalSlack:
    """Start with `with LocalSlack() as slack:`; point WebClient(base_url=slack.api_url).
    `bot_tokens`: the one-workspace bot tokens it takes (SLACK_BOT_TOKEN's)."""

    def __init__(self, bot_tokens: Sequence[str] = (LOCAL_BOT_TOKEN,)) -> None:
        self.state = LocalSlackState(bot_tokens=set(bot_tokens))
        self._server = _Server(self.state)
        # A short poll: stopping waits for the next poll, and `rapport try` stops one
        # at every run.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def api_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/api/"

    def response_url(self, name: str = "cmd") -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/response/{name}"

    def start(self) -> LocalSlack:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self.state.socket_mode is not None:
            self.state.socket_mode.stop()

    @property
    def socket_mode(self) -> LocalSocketMode:
        """Slack's Socket Mode end, started on first use (most tests speak HTTP)."""
        with self.state.lock:
            if self.state.socket_mode is None:
                self.state.socket_mode = LocalSocketMode().start()
            return self.state.socket_mode

    def __enter__(self) -> LocalSlack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- recording ---------------------------------------------------------------

    def calls(self, method: str | None = None) -> list[RecordedCall]:
        with self.state.lock:
            return [c for c in self.state.calls if method is None or c.method == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[RecordedCall]:
        """The calls of `method` once there are `count` (work after an ack is async)."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.calls(method)
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.01)

    def clear(self) -> None:
        with self.state.lock:
            self.state.calls.clear()

    # --- scripting ---------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        *,
        status: int = 200,
        error: str | None = None,
        retry_after: float | str | None = None,
        times: int = 1,
        accepted: bool = False,
        delay: float = 0.0,
        after: int = 0,
    ) -> None:
        """Make the next `times` calls of `method` fail: a 429/5xx status or an error.

        `accepted`: the call does its work first (a post is made) and only the answer
        fails; `delay`: the answer comes this many seconds late; `after`: that many
        calls go through first (the third post of a thread fails: `after=2`).
        """
        with self.state.lock:
            queue = self.state.failures.setdefault(method, [])
            queue.extend(
                Failure(status, error, retry_after, accepted, delay, after if n == 0 else 0)
                for n in range(times)
            )

    def posted(self, channel: str) -> list[dict[str, Any]]:
        """The messages in `channel` (as conversations.history keeps them), oldest first."""
        with self.state.lock:
            return list(self.state.messages.get(channel, []))

    def add_usergroup(self, group_id: str, members: Sequence[str]) -> None:
        with self.state.lock:
            self.state.usergroups[group_id] = list(members)

    def uploaded(self, file_id: str) -> bytes | None:
        with self.state.lock:
            return self.state.uploads.get(file_id)

    def consent(
        self,
        team_id: str | None,
        *,
        user_id: str,
        team_name: str = "",
        enterprise_id: str | None = None,
        org_wide: bool = False,
        rotation: bool = False,
        expires_in: int = 43200,
        scope: str = "commands,chat:write",
        user_scope: str = "",
    ) -> str:
        """An admin allows the install on Slack's page: the code Slack sends back to the
        redirect URL, good once. `org_wide`: installed for the Enterprise Grid org
        `enterprise_id` as a whole (no team in the answer); `rotation`: the tokens
        expire, `expires_in` seconds after they are handed out (Slack's are good for 12
        hours), and come with a refresh token, good once."""
        code = f"code-{uuid.uuid4().hex[:16]}"
        team = None if org_wide else {"id": team_id, "name": team_name or team_id}
        enterprise = {"id": enterprise_id, "name": enterprise_id} if enterprise_id else None
        with self.state.lock:
            self.state.grants[code] = {
                "team": team,
                "enterprise": enterprise,
                "is_enterprise_install": org_wide,
                "user_id": user_id,
                "scope": scope,
                "user_scope": user_scope,
                "rotation": rotation,
                "expires_in": expires_in,
            }
        return code

    def token_of(self, team_id: str | None, enterprise_id: str | None = None) -> str:
        """The bot token handed out last for a workspace (or an org-wide install)."""
        with self.state.lock:
            found = [
                token
                for token, said in self.state.tokens.items()
                if said["team_id"] == team_id
                and (enterprise_id is None or said["enterprise_id"] == enterprise_id)
            ]
        assert found, f"no token was handed out for {team_id}"
        return found[-1]

    def refuse_refresh(self, team_id: str) -> None:
        """Slack no longer renews the workspace's tokens: its refresh tokens are answered
        `invalid_refresh_token` (one already used, or revoked)."""
        with self.state.lock:
            for refresh, grant in list(self.state.refreshes.items()):
                if (grant["team"] or {}).get("id") == team_id:
                    del self.state.refreshes[refresh]

    def revoke(self, token: str) -> None:
        """Slack forgets `token`: every call that carries it is answered invalid_auth."""
        with self.state.lock:
            self.state.revoked.add(token)

    def uninstall(
        self,
        team_id: str | None,
        *,
        events_url: str,
        signing_secret: str,
        tokens: Sequence[str] = (),
        enterprise_id: str | None = None,
        org_wide: bool = False,
        order: Sequence[str] = ("app_uninstalled", "tokens_revoked"),
    ) -> list[int]:
        """An admin removes the app from `team_id`: its tokens (those handed out by
        oauth.v2.access, and `tokens`) are revoked, and Slack sends `app_uninstalled`
        and `tokens_revoked` (in `order`) to `events_url`, signed. The HTTP statuses.
        `org_wide`: an org admin removes it from the Enterprise Grid org
        `enterprise_id` it was installed in org-wide; the events go to the org-wide
        install (`event_envelope`), with `team_id` in the envelope (null, or the org's
        own id, as Slack has sent it)."""

        def theirs(said: dict[str, Any]) -> bool:
            if org_wide:
                return (
                    bool(said["is_enterprise_install"]) and said["enterprise_id"] == enterprise_id
                )
            return bool(said["team_id"] == team_id)

        with self.state.lock:
            handed_out = [token for token, said in self.state.tokens.items() if theirs(said)]
            self.state.revoked.update([*handed_out, *tokens])
        revoked = {"tokens": {"oauth": [], "bot": ["U0RAPPORT"]}}
        events = {"app_uninstalled": {}, "tokens_revoked": revoked}
        return [
            self.send_event(
                {"type": kind, **events[kind]},
                events_url=events_url,
                signing_secret=signing_secret,
                team_id=team_id,
                enterprise_id=enterprise_id,
                org_wide=org_wide,
            )
            for kind in order
        ]

    def team_access(
        self,
        enterprise_id: str,
        team_ids: Sequence[str],
        *,
        granted: bool,
        events_url: str,
        signing_secret: str,
    ) -> int:
        """An org admin lets the org-wide install into the workspaces `team_ids`
        (`team_access_granted`) or takes it out of them (`team_access_revoked`), as
        Slack sends it: the envelope with the org and a null team. The HTTP status."""
        kind = "team_access_granted" if granted else "team_access_revoked"
        event = {"type": kind, "team_ids": list(team_ids), "event_ts": f"{time.time():.6f}"}
        return self.send_event(
            event,
            events_url=events_url,
            signing_secret=signing_secret,
            team_id=None,
            enterprise_id=enterprise_id,
            org_wide=True,
        )

    def send_event(
        self,
        event: dict[str, Any],
        *,
        events_url: str,
        signing_secret: str,
        team_id: str | None,
        enterprise_id: str | None = None,
        org_wide: bool = False,
    ) -> int:
        """Deliver an Events API event to the app over HTTP, signed as Slack signs it;
        the HTTP status it answered with. `org_wide`: to the org-wide install of the
        Enterprise Grid org `enterprise_id` (see `event_envelope`)."""
        envelope = event_envelope(
            event, team_id=team_id, enterprise_id=enterprise_id, org_wide=org_wide
        )
        body = json.dumps(envelope)
        headers = {name: str(value) for name, value in signed_headers(signing_secret, body).items()}
        headers["content-type"] = "application/json"
        request = urllib.request.Request(
            events_url, data=body.encode(), headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return int(answer.status)
        except urllib.error.HTTPError as refused:
            return int(refused.code)

    def add_user(
        self,
        user_id: str,
        *,
        tz: str = "UTC",
        email: str | None = None,
        org: str | None = None,
        org_role: str = "",
        **fields: Any,
    ) -> None:
        """`org`: a member of that Enterprise Grid org, `org_role` "admin" or "owner" of
        it (or neither), told under `enterprise_user` as Slack tells it, apart from the
        workspace's own `is_admin`."""
        if email is not None:
            # Where Slack keeps it, and where users.lookupByEmail finds it.
            fields["profile"] = {**fields.get("profile", {}), "email": email}
        if org is not None:
            fields["enterprise_user"] = {
                "id": user_id,
                "enterprise_id": org,
                "enterprise_name": org,
                "is_admin": org_role == "admin",
                "is_owner": org_role == "owner",
            }
        with self.state.lock:
            self.state.users[user_id] = {"tz": tz, **fields}


# --- Socket Mode: Slack's end of the WebSocket --------------------------------------


@dataclass(frozen=True)
class Ack:
    """What the app sent back for an envelope, on which connection, and how long after."""

    envelope_id: str
    payload: dict[str, Any] | None
    connection: int
    seconds: float


class ConnectionClosedByApp(Exception):
    """An envelope for a connection the app has closed: Slack would send it elsewhere."""


@dataclass
class _Link:
    number: int
    websocket: ServerConnection
    # Asked to refresh: Slack sends it nothing new unless a test says so.
    refreshing: bool = False


class LocalSocketMode:
    """Slack's Socket Mode end on 127.0.0.1.

    Each URL apps.connections.open hands out opens one connection; the connection
    gets `hello` at once, then whatever a test sends. `send` routes an envelope to
    one open connection (the one named, or the next in turn, as Slack spreads
    envelopes over an app's connections) and returns its envelope_id; `wait_ack`
    returns the app's ack with its payload. `refresh` asks a connection to go the way
    Slack does every few hours: the app is to open a new one and close this one.
    """

    def __init__(self) -> None:
        self._server: WebSocketServer = serve(self._serve, "127.0.0.1", 0)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._changed = threading.Condition()
        self._tickets: set[str] = set()
        self._links: dict[int, _Link] = {}
        self._numbers = itertools.count(1)
        self._turn = itertools.count()
        self._sent: dict[str, float] = {}
        self.acks: list[Ack] = []
        # Every connection ever made, by number, and whether it has closed.
        self.closed: set[int] = set()

    def start(self) -> LocalSocketMode:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()

    def open_url(self) -> str:
        ticket = uuid.uuid4().hex
        with self._changed:
            self._tickets.add(ticket)
        host, port = self._server.socket.getsockname()[:2]
        return f"ws://{host}:{port}/link/?ticket={ticket}"

    def _serve(self, websocket: ServerConnection) -> None:
        path = websocket.request.path if websocket.request else ""
        ticket = path.partition("ticket=")[2]
        with self._changed:
            if ticket not in self._tickets:
                websocket.close(code=4001, reason="unknown ticket")
                return
            self._tickets.discard(ticket)  # a URL opens one connection
            link = _Link(next(self._numbers), websocket)
            self._links[link.number] = link
            live = len(self._links)
        websocket.send(
            json.dumps(
                {
                    "type": "hello",
                    "num_connections": live,
                    "debug_info": {"host": "local", "approximate_connection_time": 18060},
                    "connection_info": {"app_id": "A0RAPPORT"},
                }
            )
        )
        with self._changed:
            self._changed.notify_all()  # hello sent: the connection counts as live
        try:
            for message in websocket:
                self._receive(link.number, message)
        except ConnectionClosed:
            pass  # closed without a close frame: gone all the same
        finally:
            with self._changed:
                del self._links[link.number]
                self.closed.add(link.number)
                self._changed.notify_all()

    def _receive(self, number: int, message: str | bytes) -> None:
        ack = json.loads(message)
        envelope_id = str(ack.get("envelope_id", ""))
        with self._changed:
            sent = self._sent.get(envelope_id, time.monotonic())
            self.acks.append(Ack(envelope_id, ack.get("payload"), number, time.monotonic() - sent))
            self._changed.notify_all()

    # --- what a test does --------------------------------------------------------

    def connections(self) -> list[int]:
        """The open connections, oldest first."""
        with self._changed:
            return sorted(self._links)

    def wait_connections(self, count: int, timeout: float = 10.0) -> list[int]:
        """The open connections once there are `count` of them (each has had hello)."""
        with self._changed:
            self._changed.wait_for(lambda: len(self._links) >= count, timeout)
            return sorted(self._links)

    def wait_new_connection(self, after: int, timeout: float = 10.0) -> int | None:
        """The first connection opened after connection `after`, once it has had hello."""

        def newer() -> int | None:
            return min((n for n in self._links if n > after), default=None)

        with self._changed:
            self._changed.wait_for(lambda: newer() is not None, timeout)
            return newer()

    def wait_closed(self, number: int, timeout: float = 10.0) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: number in self.closed, timeout)

    def send(self, kind: str, payload: dict[str, Any], *, connection: int | None = None) -> str:
        """Send an envelope (`slash_commands`, `events_api` or `interactive`); its id."""
        envelope_id = str(uuid.uuid4())
        envelope = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": kind != "events_api",
            "retry_attempt": 0,
            "retry_reason": "",
        }
        with self._changed:
            if connection is None:
                ready = [n for n, link in sorted(self._links.items()) if not link.refreshing]
                if not ready:
                    raise RuntimeError("no open Socket Mode connection to send to")
                connection = ready[next(self._turn) % len(ready)]
            if connection not in self._links:
                raise ConnectionClosedByApp(f"Socket Mode connection {connection} is closed")
            websocket = self._links[connection].websocket
            self._sent[envelope_id] = time.monotonic()
        try:
            websocket.send(json.dumps(envelope))
        except ConnectionClosed:
            raise ConnectionClosedByApp(f"Socket Mode connection {connection} is closing") from None
        return envelope_id

    def command(self, body: str, connection: int | None = None) -> str:
        """A slash command, from a form body as `command_body` builds it."""
        payload = {key: values[0] for key, values in parse_qs(body).items()}
        return self.send("slash_commands", payload, connection=connection)

    def event(
        self, event: dict[str, Any], *, team_id: str = "T0LOCAL", connection: int | None = None
    ) -> str:
        """An Events API event (its inner `event`), wrapped as Slack wraps it."""
        return self.send(
            "events_api", event_envelope(event, team_id=team_id), connection=connection
        )

    def interaction(self, payload: dict[str, Any], *, connection: int | None = None) -> str:
        """A button click, a modal submission, a shortcut: the same payload as over HTTP."""
        return self.send("interactive", payload, connection=connection)

    def wait_ack(self, envelope_id: str, timeout: float = 10.0) -> Ack | None:
        def found() -> Ack | None:
            return next((a for a in self.acks if a.envelope_id == envelope_id), None)

        with self._changed:
            self._changed.wait_for(lambda: found() is not None, timeout)
            return found()

    def acks_of(self, envelope_id: str) -> list[Ack]:
        with self._changed:
            return [a for a in self.acks if a.envelope_id == envelope_id]

    def refresh(self, connection: int) -> None:
        """Slack's routine `disconnect`: open a new connection, then close this one."""
        with self._changed:
            link = self._links[connection]
            link.refreshing = True
        link.websocket.send(
            json.dumps(
                {
                    "type": "disconnect",
                    "reason": "refresh_requested",
                    "debug_info": {"host": "local"},
                }
            )
        )


# --- requests as Slack signs and sends them ----------------------------------------


def signed_headers(
    signing_secret: str, body: str, *, timestamp: int | None = None
) -> dict[str, str | Sequence[str]]:
    """The headers Slack sends with `body`, signed the way Slack signs it."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(signing_secret).generate_signature(timestamp=ts, body=body)
    assert signature is not None
    return {
        "content-type": "application/x-www-form-urlencoded",
        "x-slack-request-timestamp": ts,
        "x-slack-signature": signature,
    }


def event_envelope(
    event: dict[str, Any],
    *,
    team_id: str | None,
    enterprise_id: str | None = None,
    org_wide: bool = False,
) -> dict[str, Any]:
    """An Events API event (its inner `event`), wrapped as Slack wraps it. The
    authorization is the install the event goes to: the workspace's, or with
    `org_wide` the Enterprise Grid org's, which Slack names with the org and a null
    team (the envelope's `team_id` is still the workspace, where there is one)."""
    authorization = {
        "enterprise_id": enterprise_id,
        "team_id": None if org_wide else team_id,
        "user_id": "U0RAPPORT",
        "is_bot": True,
        "is_enterprise_install": org_wide,
    }
    envelope: dict[str, Any] = {
        "token": "deprecated-verification-token",
        "team_id": team_id,
        "api_app_id": "A0RAPPORT",
        "event": event,
        "type": "event_callback",
        "event_id": f"Ev{uuid.uuid4().hex[:10].upper()}",
        "event_time": int(time.time()),
        "authorizations": [authorization],
    }
    if enterprise_id is not None:
        envelope["enterprise_id"] = enterprise_id
    return envelope


# Numbers the trigger_ids of the commands built here, for readable logs.
_TRIGGERS = itertools.count(1337)


def command_body(
    command: str,
    text: str,
    *,
    team_id: str = "T0LOCAL",
    user_id: str = "U0LOCAL",
    channel_id: str = "C0LOCAL",
    response_url: str = "http://127.0.0.1:9/response/none",
    trigger_id: str | None = None,
    enterprise_id: str | None = None,
    org_wide: bool = False,
) -> str:
    """A slash command's form body, with the fields Slack sends. Each gets a trigger_id
    of its own, as in Slack, unless one is given: the same body sent twice is one
    command delivered twice. `enterprise_id`: from a workspace of that Enterprise Grid
    org; `org_wide`: where Rapport is installed for the org as a whole."""
    if trigger_id is None:
        trigger_id = f"{next(_TRIGGERS)}.42.{uuid.uuid4().hex[:12]}"
    org = {"enterprise_id": enterprise_id} if enterprise_id else {}
    return urlencode(
        {
            "token": "deprecated-verification-token",
            **org,
            "team_id": team_id,
            "team_domain": "local",
            "channel_id": channel_id,
            "channel_name": "local",
            "user_id": user_id,
            "user_name": "local.user",
            "command": command,
            "text": text,
            "api_app_id": "A0RAPPORT",
            "is_enterprise_install": "true" if org_wide else "false",
            "response_url": response_url,
            "trigger_id": trigger_id,
        }
    )


def message_shortcut(
    callback_id: str,
    message: dict[str, str],
    *,
    team_id: str = "T0LOCAL",
    user_id: str = "U0LOCAL",
    channel_id: str = "C0LOCAL",
) -> dict[str, Any]:
    """A message shortcut's payload (`message_action`), as Slack sends it when someone
    picks the shortcut on `message` (its `user`, `ts` and `text`): the channel it is
    in, who picked it, and a trigger_id of its own to open a form with. Send it with
    `interaction_body`."""
    return {
        "type": "message_action",
        "callback_id": callback_id,
        "trigger_id": f"{next(_TRIGGERS)}.42.{uuid.uuid4().hex[:12]}",
        "action_ts": f"{time.time():.6f}",
        "team": {"id": team_id, "domain": "local"},
        "user": {"id": user_id, "team_id": team_id, "name": "local.user"},
        "channel": {"id": channel_id, "name": "local"},
        "is_enterprise_install": False,
        "message_ts": message.get("ts", ""),
        "message": {"type": "message", **message},
        "response_url": "http://127.0.0.1:9/response/none",
        "token": "deprecated-verification-token",
    }


def interaction_body(payload: dict[str, Any]) -> str:
    """An interactivity POST body: the JSON payload, form-encoded as `payload=`."""
    return urlencode({"payload": json.dumps(payload)})
