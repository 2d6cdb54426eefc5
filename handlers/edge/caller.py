"""Who a request comes from: the one reading of the workspace (team), enterprise and
user of every kind of payload Slack sends. Every row is scoped by the team read here.

Slack puts them in different places: a slash command in form fields (`team_id`,
`enterprise_id`, `user_id`); an interaction (button, modal, shortcut) in `team`,
`enterprise` and `user` objects; an event in the envelope's `team_id` and the event's
`user`. A modal opened through a Slack Connect channel also carries
`view.app_installed_team_id`, the workspace whose Rapport opened it: when that is not
the `team` the submission comes from, the form is refused, for every modal alike,
rather than saved under one workspace or the other. A payload that names no team or
no user is refused before any listener runs (`IdentifyCaller`), but for the events about a
whole workspace (`app_uninstalled`, `tokens_revoked`, `team_access_*`), which name only
the team, or for an Enterprise Grid org-wide install only the org (`workspace_of`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from slack_bolt import BoltRequest, BoltResponse
from slack_bolt.middleware import Middleware

from bot.services.errors import UserFacingError
from bot.services.uninstalls import WORKSPACE_EVENTS

# Slack ids: upper-case letters and digits (T…, E…, U…, W…).
_SLACK_ID = re.compile(r"[A-Z0-9]{2,40}")


class UnknownCaller(UserFacingError):
    """A payload that does not say which workspace or person it comes from."""


@dataclass(frozen=True)
class Caller:
    team_id: str
    user_id: str
    enterprise_id: str | None = None


def _id(value: object) -> str | None:
    return value if isinstance(value, str) and _SLACK_ID.fullmatch(value) else None


def _field(node: object, key: str) -> object:
    return node.get(key) if isinstance(node, Mapping) else None


def caller_of(body: Mapping[str, Any]) -> Caller:
    """The team, user and enterprise of any payload; UnknownCaller if it lacks one."""
    if "command" in body:
        team, user = _id(body.get("team_id")), _id(body.get("user_id"))
        enterprise = _id(body.get("enterprise_id"))
    elif body.get("type") == "event_callback":
        event = body.get("event")
        team, enterprise = _id(body.get("team_id")), _id(body.get("enterprise_id"))
        user = _id(_field(event, "user")) or _id(_field(_field(event, "user"), "id"))
    else:
        person, where = body.get("user"), body.get("team")
        # `team` is null in some org-wide (Enterprise Grid) contexts: the person's own.
        team = _id(_field(person, "team_id")) if where is None else _id(_field(where, "id"))
        user = _id(_field(person, "id"))
        enterprise = _id(_field(body.get("enterprise"), "id"))
        installed = _field(body.get("view"), "app_installed_team_id")
        if installed and team and installed != team:
            raise UnknownCaller(
                "This form was opened from another workspace's Rapport, and Rapport keeps "
                "each workspace's accounts apart, so it was not saved. Open it again from "
                "your own workspace."
            )
    if team is None:
        raise UnknownCaller(
            "Slack did not say which workspace this came from, so nothing was done."
        )
    if user is None:
        raise UnknownCaller("Slack did not say who sent this, so nothing was done.")
    return Caller(team_id=team, user_id=user, enterprise_id=enterprise)


def team_of(body: Mapping[str, Any]) -> str:
    """The workspace a request came from (every query is scoped to it)."""
    return caller_of(body).team_id


def channel_of(body: Mapping[str, Any]) -> str | None:
    """The channel a click came from (a message's), if any: where a form it opens
    would share to."""
    channel = _field(body.get("container"), "channel_id") or _field(body.get("channel"), "id")
    return str(channel) if channel else None


def user_of(body: Mapping[str, Any]) -> str | None:
    """The person a request came from, if it names one."""
    try:
        return caller_of(body).user_id
    except UnknownCaller:
        return None


def workspace_event(body: Mapping[str, Any]) -> str | None:
    """The type of an event about the workspace as a whole (Rapport uninstalled, its
    tokens revoked), which names no user; None for any other payload."""
    if body.get("type") != "event_callback":
        return None
    kind = _field(body.get("event"), "type")
    return kind if kind in WORKSPACE_EVENTS else None


@dataclass(frozen=True)
class Workspace:
    """What an event about a whole workspace is about: the workspace `team_id`, or,
    when `team_id` is None, the Enterprise Grid org `enterprise_id` as a whole (an
    event to its org-wide install)."""

    team_id: str | None
    enterprise_id: str | None


def workspace_of(body: Mapping[str, Any]) -> Workspace:
    """The workspace, or the whole org, an event about a workspace names. An org-wide
    install's events (`authorizations[0].is_enterprise_install`) are about the org:
    their envelope's team is null, absent or the org's own id, so only the org counts."""
    authorized = body.get("authorizations")
    first = authorized[0] if isinstance(authorized, list) and authorized else None
    enterprise = _id(body.get("enterprise_id")) or _id(_field(first, "enterprise_id"))
    if enterprise and _field(first, "is_enterprise_install") is True:
        return Workspace(team_id=None, enterprise_id=enterprise)
    team = _id(body.get("team_id"))
    if team is None or team == enterprise:
        raise UnknownCaller(
            "Slack did not say which workspace this came from, so nothing was done."
        )
    return Workspace(team_id=team, enterprise_id=enterprise)


class IdentifyCaller(Middleware):
    """Refuses, before any listener runs, a payload that names no team, or no user
    unless it is about the whole workspace."""

    def process(
        self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]
    ) -> BoltResponse | None:
        if workspace_event(req.body):
            workspace_of(req.body)
        else:
            caller_of(req.body)
        return next()
