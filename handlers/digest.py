"""/rapport digest | overdue: the weekly channel digest, and the list it points to."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.scheduler import digests
from bot.services import digest as rules
from bot.services.errors import UsageError
from handlers.edge.after_ack import later
from handlers.edge.caller import team_of
from handlers.edge.context import Deps, deps_of, utcnow
from handlers.edge.parsing import split_keyed
from handlers.edge.replies import ephemeral
from messages import render
from messages.formats import day_time
from storage.models import DigestScope, DigestSubscription, QuietWeek

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

DIGEST_USAGE = "/rapport digest"
OVERDUE_USAGE = "/rapport overdue"
# The channel, as the usage line names it, in errors about it.
CHANNEL = "#channel"
# Slack rewrites #channel, @person and @group into these when the command escapes.
_CHANNEL = re.compile(r"<#([CG][A-Z0-9]{2,31})(?:\|[^>]*)?>")
_USER = re.compile(r"<@([UW][A-Z0-9]{2,31})(?:\|[^>]*)?>")
_GROUP = re.compile(r"<!subteam\^(S[A-Z0-9]{2,31})(?:\|(@?[\w.\-]{1,80}))?>")
QUIET = {"skip": QuietWeek.SKIP, "nothing": QuietWeek.SKIP, "line": QuietWeek.LINE}


@dataclass(frozen=True)
class Target:
    action: str  # "subscribe", "off", "preview" or "show"
    channel_id: str


def _channel(word: str, here: str) -> str:
    if not word or word.lower() == "here":
        return here
    found = _CHANNEL.fullmatch(word)
    if found is None:
        raise UsageError(
            f"I could not tell which channel `{word}` is. Pick it from Slack's "
            "suggestions as you type `#`, or say `here`.",
            usage=DIGEST_USAGE,
            key=CHANNEL,
        )
    return found.group(1)


ACTIONS = {"off": "off", "stop": "off", "preview": "preview"}


def parse_target(head: str, here: str) -> Target:
    """`[#channel|here] [off|stop|preview]`, the channel and the action in either order:
    `off #sales` and `#sales off` both stop #sales's digest, from any channel."""
    words = head.split()
    if not words:
        return Target("show", here)
    actions = [word for word in words if word.lower() in ACTIONS]
    channels = [word for word in words if word.lower() not in ACTIONS]
    if len(actions) > 1 or len(channels) > 1:
        raise UsageError(
            f"Name one channel and at most one of `off` or `preview`; I read “{head[:60]}”.",
            usage=DIGEST_USAGE,
            key=CHANNEL,
        )
    channel = _channel(channels[0] if channels else "", here)
    return Target(ACTIONS[actions[0].lower()] if actions else "subscribe", channel)


def parse_owners(text: str | None, *, me: str) -> tuple[DigestScope, tuple[str, ...]]:
    """`owners: @ana @raj`, `@sales-east`, `all`, or `me` (the one typing, as
    `/rapport account X owner: me` reads it)."""
    if not text:
        return DigestScope.TEAM, ()
    if text.strip().casefold() in ("me", "myself", "@me"):
        return DigestScope.USERS, (me,)
    group = _GROUP.search(text)
    if group is not None:
        return DigestScope.GROUP, tuple(part for part in group.groups() if part)
    users = tuple(dict.fromkeys(_USER.findall(text)))
    if users:
        return DigestScope.USERS, users
    if text.strip().lower() in ("all", "team", "everyone"):
        return DigestScope.TEAM, ()
    raise UsageError(
        "`owners:` takes people (`@ana @raj`) or one user group (`@sales-east`), "
        "picked from Slack's suggestions, or `me`, or `all`.",
        usage=DIGEST_USAGE,
    )


def parse_request(args: str, here: str, *, me: str) -> tuple[Target, rules.DigestRequest]:
    parts = split_keyed(args, ("day", "time", "owners", "quiet"), command=DIGEST_USAGE)
    target = parse_target(parts.head, here)
    if target.action != "subscribe" and parts.fields:
        said = (
            f"“{parts.head[:60]}” takes no options" if parts.head else "Options go with a channel"
        )
        raise UsageError(
            f"{said}: `/rapport digest #channel day: mon time: 09:00`.",
            usage=DIGEST_USAGE,
            key=CHANNEL,
        )
    quiet_word = (parts.fields.get("quiet") or "skip").strip().lower()
    if quiet_word not in QUIET:
        raise UsageError(
            f"`quiet:` takes `line` or `skip`, not “{quiet_word[:40]}”.",
            usage=DIGEST_USAGE,
            key="quiet",
        )
    fields = parts.fields
    # What is left out stays as the channel's digest has it (a new one: the defaults).
    request = rules.DigestRequest(
        channel_id=target.channel_id,
        weekday=rules.parse_weekday(fields["day"]) if "day" in fields else None,
        send_at=rules.parse_clock(fields["time"]) if "time" in fields else None,
        owners=parse_owners(fields.get("owners"), me=me) if "owners" in fields else None,
        quiet=QUIET[quiet_word] if "quiet" in fields else None,
    )
    return target, request


def digest(ack: Ack, command: dict[str, str], context: BoltContext, args: str) -> None:
    """`digest #channel|here [day:] [time:] [owners:] [quiet:]`, `digest off`, `digest preview`."""
    target, request = parse_request(args, command.get("channel_id", ""), me=command["user_id"])
    deps, now = deps_of(context), utcnow()
    team_id, user_id, channel_id = team_of(command), command["user_id"], target.channel_id
    if target.action == "preview":
        ack()
        later(
            context, command, lambda client: _preview(client, context, deps, command, target, now)
        )
        return
    with deps.db.begin() as session:
        if target.action == "show":
            sub = rules.subscription_for(session, team_id=team_id, channel_id=channel_id)
            if sub is None or not sub.active:
                ack(**ephemeral(_status(session, team_id, channel_id)))
                return
        elif target.action == "off":
            sub = rules.unsubscribe(
                session, team_id=team_id, channel_id=channel_id, user_id=user_id, now=now
            )
            if sub is None:
                raise UsageError("That channel gets no weekly digest to stop.", usage=DIGEST_USAGE)
        else:
            tz = _calendar_tz(session, deps, command)
            sub = rules.subscribe(
                session, team_id=team_id, request=request, tz=tz, user_id=user_id, now=now
            )
        ack(**ephemeral(_confirmation(sub)))


def _calendar_tz(session: Session, deps: Deps, command: dict[str, str]) -> ZoneInfo:
    # The team's slot is read in the subscriber's time zone: the person setting it
    # up picks "Monday 09:00" meaning their own Monday morning.
    return deps.calendar_of(session, team_id=team_of(command), user_id=command["user_id"]).tz


def _confirmation(sub: DigestSubscription) -> dict[str, Any]:
    ids = (sub.scope_ids or "").split()
    next_local = day_time(sub.next_run_at.astimezone(ZoneInfo(sub.tz))) if sub.next_run_at else ""
    return render(
        "digest_subscribed",
        sub=rules.SubscriptionShown.of(sub),
        schedule=digests.schedule_words(sub),
        scope_label=digests.scope_label(sub.scope, ids),
        next_local=next_local,
    )


def _status(session: Session, team_id: str, channel_id: str) -> dict[str, Any]:
    """This channel has no digest: how to start one, and which channels have one."""
    others = [
        (sub.channel_id, digests.schedule_words(sub))
        for sub in rules.active_subscriptions(session, team_id=team_id)
    ]
    default_day = next(n for n, d in rules.WEEKDAYS.items() if d == rules.DEFAULT_WEEKDAY)
    start = f"/rapport digest here day: {default_day[:3]} time: {rules.DEFAULT_TIME:%H:%M}"
    return render("digest_status", channel_id=channel_id, start=start, others=others)


def _preview(
    client: WebClient,
    context: BoltContext,
    deps: Deps,
    command: dict[str, str],
    target: Target,
    now: datetime,
) -> None:
    team_id, channel_id = team_of(command), target.channel_id
    # Read once; the session closes before Slack is asked who is in a user group.
    with deps.db() as session:
        sub = rules.subscription_for(session, team_id=team_id, channel_id=channel_id)
        tz = ZoneInfo(sub.tz) if sub else _calendar_tz(session, deps, command)
    scope, scope_ids = (sub.scope, sub.scope_ids) if sub else (DigestScope.TEAM, None)
    cover = digests.coverage(lambda _team: client, team_id, scope, scope_ids)
    # With `digests: org`, the org's workspaces too, as the channel gets it.
    reach, names = digests.workspaces_covered(deps.db, lambda _team: client, [team_id])
    cover = digests.across(cover, reach[team_id], names)
    with deps.db() as session:
        messages = digests.preview(
            session,
            team_id=team_id,
            channel_id=channel_id,
            sub=sub,
            cover=cover,
            tz=tz,
            now=now,
            teams=reach[team_id],
        )
    assert context.respond is not None
    for message in messages:  # in order; a response_url takes up to five
        context.respond(**ephemeral(message))


def overdue(ack: Ack, command: dict[str, str], context: BoltContext, args: str) -> None:
    """`overdue [@person…]`: every overdue follow-up of the team, or of those people."""
    owners = set(_USER.findall(args))
    if args.strip() and not owners:
        raise UsageError(
            f"I read “{args.strip()[:40]}”: name people with `@` (picked from Slack's "
            "list), or nobody for the whole team.",
            usage=OVERDUE_USAGE,
            key="@name",
        )
    deps, now = deps_of(context), utcnow()
    with deps.db() as session:
        lines = rules.overdue_lines(
            session,
            team_id=team_of(command),
            owners=owners,
            tz=_calendar_tz(session, deps, command),
            now=now,
        )
    ack(**ephemeral(render("overdue_list", lines=lines, limit=40, owners=sorted(owners))))


# /rapport subcommand -> listener (handlers/rapport.py routes them).
SUBCOMMANDS = {"digest": digest, "overdue": overdue}
