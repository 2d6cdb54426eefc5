"""Weekly digests in the sweep: build each due channel's digest and queue it in the outbox.

A digest is outbox rows with one key each (kind, subscription, ISO week): the short
top message, the details as replies in its thread (one message, or as many parts as
Slack's limits on a message need), and the chart as a file in the same thread. The
replies wait for the top message's ts, and each for the reply before it (see
bot.scheduler.delivery), so they read in order, and a crash between them loses
nothing and repeats nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from slack_sdk.errors import SlackApiError

from bot.scheduler import charts
from bot.scheduler.delivery import CHANNEL_GONE, ClientForTeam
from bot.services import digest as rules
from bot.services import org_view
from bot.services.digest import Digest, TeamPicture
from bot.slackapi.workspaces import WORKSPACE_NAMES
from messages import render, render_in_parts
from messages.ids import Action
from storage import orgs, outbox
from storage.db import SessionFactory
from storage.models import DigestScope, DigestSubscription, OutboxMessage, QuietWeek

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

log = logging.getLogger("rapport.digests")

KIND_TOP = "digest"
KIND_DETAILS = "digest_details"
KIND_CHART = "digest_chart"
KIND_PAUSED = "digest_paused"  # the DM to whoever set up a digest its channel refused
DIGEST_KINDS = frozenset({KIND_TOP, KIND_DETAILS, KIND_CHART})
# Each section's menu that opens one of its accounts (handlers/account.py).
OPEN_ACCOUNT = Action.DIGEST_OPEN_ACCOUNT.value


@dataclass(frozen=True)
class Coverage:
    """Whose accounts a channel's digest covers, or why that could not be found out."""

    owners: frozenset[str] | None  # None: the whole team
    label: str
    error: str | None = None
    # A digest of an Enterprise Grid org's workspaces (`digests: org`): each one's name
    # by id, the channel's own first; empty: its own workspace's alone, as by default.
    workspaces: dict[str, str] = field(default_factory=dict)


def workspaces_covered(
    db: SessionFactory, client_for: ClientForTeam, team_ids: Iterable[str]
) -> tuple[dict[str, list[str]], dict[str, str]]:
    """The workspaces a digest set up in each of `team_ids` covers (its own, or with
    `digests: org` its org's, bot.services.org_view), and the names of those an org's
    digest names, asked of Slack once the session is closed."""
    with db() as session:
        reach = {team: org_view.digest_teams(session, team_id=team) for team in set(team_ids)}
        named = sorted({team for teams in reach.values() if len(teams) > 1 for team in teams})
        stored = orgs.installed_names(session, team_ids=named)
    return reach, WORKSPACE_NAMES.names(client_for, named, stored=stored)


def across(cover: Coverage, teams: list[str], names: dict[str, str]) -> Coverage:
    """`cover` over the workspaces `teams` (the channel's first), said in its label."""
    if len(teams) < 2:
        return cover
    listed = [names[team] for team in teams]
    where = ", ".join(listed[:-1]) + " and " + listed[-1]
    return replace(
        cover, label=f"{cover.label}, in {where}", workspaces=dict(zip(teams, listed, strict=True))
    )


def picture_of(
    session: Session,
    pictures: dict[tuple[str, str], TeamPicture],
    teams: list[str],
    *,
    tz: str,
    now: datetime,
) -> TeamPicture:
    """The picture of the workspaces `teams`, each read once into `pictures`: one
    workspace's own, or theirs merged."""
    for team in teams:
        if (team, tz) not in pictures:
            pictures[team, tz] = rules.load_team(session, team_id=team, tz=ZoneInfo(tz), now=now)
    each = [pictures[team, tz] for team in teams]
    return each[0] if len(each) == 1 else rules.merged(each)


def details_kind(part: int) -> str:
    """The outbox kind of the details' `part` (from 1): the first keeps the kind a
    details reply always had; the others are numbered, each its own key."""
    return KIND_DETAILS if part == 1 else f"{KIND_DETAILS}_{part}"


def is_digest_kind(kind: str) -> bool:
    return kind in DIGEST_KINDS or kind.startswith(f"{KIND_DETAILS}_")


def scope_label(scope: str, ids: list[str]) -> str:
    """Words for what a channel covers; never a mention, or every digest would ping."""
    if scope == DigestScope.GROUP and ids:
        # scope_ids holds the group's id, then its handle as Slack sent it (if it did).
        handle = ids[1] if len(ids) > 1 else "a user group"
        return f"owned by members of {handle}"
    if scope == DigestScope.USERS:
        return f"owned by {len(ids)} {'person' if len(ids) == 1 else 'people'}"
    return "across the team"


def coverage(
    client_for: ClientForTeam, team_id: str, scope: str, scope_ids: str | None
) -> Coverage:
    """Resolve a subscription's scope; user groups are asked of Slack (usergroups:read)."""
    ids = (scope_ids or "").split()
    label = scope_label(scope, ids)
    if scope == DigestScope.TEAM:
        return Coverage(None, label)
    if scope == DigestScope.USERS:
        return Coverage(frozenset(ids), label)
    try:
        response = client_for(team_id).usergroups_users_list(usergroup=ids[0])
    except SlackApiError as exc:
        return Coverage(frozenset(), label, str(exc.response.get("error") or "error"))
    return Coverage(frozenset(response.get("users") or ()), label)


def owners_of(picture: TeamPicture, cover: Coverage) -> set[str]:
    return rules.covered_owners(
        picture,
        DigestScope.TEAM if cover.owners is None else DigestScope.USERS,
        cover.owners,
    )


# Digests built, then queued in one short write transaction, per round.
ROUND = 100


@dataclass
class _Planned:
    sub: DigestSubscription
    messages: tuple[dict[str, Any], list[tuple[str, dict[str, Any]]]] | None
    counts: dict[str, int] | None


def plan_digests(db: SessionFactory, client_for: ClientForTeam, *, now: datetime) -> int:
    """Queue every digest whose slot has come; returns how many channels were served.

    The heavy part (reading a team, scoring its accounts, rendering) runs outside any
    write transaction: on SQLite a write transaction holds the one write lock, and
    the bot's own writes (a /concede) would wait behind it. Each round then claims
    its subscriptions and queues their messages in one short transaction. A team's
    picture is read once per sweep, however many of its channels are due.
    """
    pictures: dict[tuple[str, str], TeamPicture] = {}
    seen: set[int] = set()
    served = 0
    while True:
        with db() as session:
            due = [
                sub
                for sub in rules.due_subscriptions(session, now=now, limit=ROUND + len(seen))
                if sub.id not in seen
            ][:ROUND]
        if not due:
            break
        seen.update(sub.id for sub in due)
        # Slack is asked before any transaction opens, never while one holds locks.
        reach, names = workspaces_covered(db, client_for, (sub.team_id for sub in due))
        covers = {
            sub.id: across(
                coverage(client_for, sub.team_id, sub.scope, sub.scope_ids),
                reach[sub.team_id],
                names,
            )
            for sub in due
        }
        planned = []
        with db() as session:
            for sub in due:
                picture = picture_of(session, pictures, reach[sub.team_id], tz=sub.tz, now=now)
                planned.append(_plan_one(picture, sub, covers[sub.id]))
        served += _queue(db, planned, now=now)
    for picture in pictures.values():
        for chunk in rules.snapshot_rows(picture):
            with db.begin() as session:
                rules.save_health_snapshots(session, chunk)
    return served


def _plan_one(picture: TeamPicture, sub: DigestSubscription, cover: Coverage) -> _Planned:
    built = _messages(picture, sub, cover)
    if built is None:
        return _Planned(sub, None, None)
    top, follow_ups, counts = built
    return _Planned(sub, (top, follow_ups), counts)


def _queue(db: SessionFactory, planned: list[_Planned], *, now: datetime) -> int:
    by_id = {item.sub.id: item for item in planned}
    with db.begin() as session:
        # Only the subscriptions still due and not held by another worker: one that
        # another worker served meanwhile has moved on to next week's slot.
        claimed = rules.claim_subscriptions(session, ids=list(by_id), now=now)
        tops: list[dict[str, Any]] = []
        replies: dict[int, list[dict[str, Any]]] = {}
        for sub in claimed:
            item = by_id[sub.id]
            if item.messages is not None:
                top, follow_ups = item.messages
                tops.append(_row(sub, KIND_TOP, now, top))
                replies[sub.id] = [_row(sub, kind, now, body) for kind, body in follow_ups]
            rules.advance(sub, now=now, counts=item.counts)
        added = outbox.enqueue_many(session, tops, now=now)
        threads: list[tuple[int, list[dict[str, Any]]]] = []
        for top in tops:
            top_id = added.get((top["team_id"], top["subject"], top["slot"]))
            if top_id is None:  # this week's digest was already queued
                continue
            threads.append((top_id, replies[int(top["subject"])]))
        _queue_replies(session, threads, now=now)
    return len(claimed)


def _queue_replies(
    session: Session, threads: list[tuple[int, list[dict[str, Any]]]], *, now: datetime
) -> None:
    """Each digest's replies under its top message (`thread_of`), in their order: each
    after the reply before it (`after`), which it waits for when sent. One statement
    adds one place of every thread, so the id of the reply before is known."""
    last = [top_id for top_id, _ in threads]
    place = 0
    while True:
        batch: list[tuple[int, dict[str, Any]]] = []
        for index, (top_id, thread) in enumerate(threads):
            if place < len(thread):
                reply = thread[place]
                reply["payload"]["thread_of"] = top_id
                if place:
                    reply["payload"]["after"] = last[index]
                batch.append((index, reply))
        if not batch:
            return
        added = outbox.enqueue_many(session, [reply for _, reply in batch], now=now)
        for index, reply in batch:
            key = (reply["team_id"], reply["subject"], reply["slot"])
            last[index] = added.get(key, last[index])
        place += 1


def _row(
    sub: DigestSubscription, kind: str, now: datetime, payload: dict[str, Any]
) -> dict[str, Any]:
    return {
        "team_id": sub.team_id,
        "kind": kind,
        "subject": str(sub.id),
        "slot": rules.week_key(now, ZoneInfo(sub.tz)),
        "recipient": sub.channel_id,
        "payload": payload,
    }


def _messages(
    picture: TeamPicture, sub: DigestSubscription, cover: Coverage
) -> tuple[dict[str, Any], list[tuple[str, dict[str, Any]]], dict[str, int]] | None:
    """The top message, its thread replies, and the counts to remember; None: stay quiet."""
    week_of = rules.monday_of(picture.today)
    if cover.error is not None:
        problem = render("digest_problem", error=cover.error, label=cover.label)
        return problem, [], dict(sub.last_counts or {})
    digest = build_for(picture, sub, cover)
    if digest.empty:
        if sub.quiet != QuietWeek.LINE:
            return None
        quiet = render("digest_quiet", digest=digest, week_of=week_of, scope_label=cover.label)
        return quiet, [], digest.counts
    top = render("digest_top", digest=digest, week_of=week_of, scope_label=cover.label)
    follow_ups = [
        (details_kind(part), message)
        for part, message in enumerate(details_messages(digest, cover, own_team=sub.team_id), 1)
    ]
    data = charts.chart_data(digest.chart)
    if charts.has_data(data):
        fallback = render("digest_chart_text", summary=charts.alt_text(data))
        fallback["upload"] = {"data": data, "title": "Kept promises and give/get, 12 weeks"}
        follow_ups.append((KIND_CHART, fallback))
    return top, follow_ups, digest.counts


def details_messages(
    digest: Digest, cover: Coverage | None = None, *, own_team: str | None = None
) -> list[dict[str, Any]]:
    """The thread's details: every section, in order, over as many messages as Slack's
    limits on one message need (50 blocks, and its blocks' length); in a digest of an
    org's workspaces, each account naming its own."""
    return render_in_parts(
        "digest_details",
        digest.sections,
        open_action=OPEN_ACCOUNT,
        workspaces=cover.workspaces if cover else {},
        own_team=own_team,
    )


def build_for(picture: TeamPicture, sub: DigestSubscription, cover: Coverage) -> Digest:
    return rules.build_digest(
        picture,
        owners=owners_of(picture, cover),
        last_counts=sub.last_counts,
        since=sub.last_sent_at,
    )


def preview(
    session: Session,
    *,
    team_id: str,
    channel_id: str,
    sub: DigestSubscription | None,
    cover: Coverage,
    tz: ZoneInfo,
    now: datetime,
    teams: list[str] | None = None,
) -> list[dict[str, Any]]:
    """The digest as `channel_id` would get it now, for one person's eyes: its summary
    and sections, over as many ephemeral messages as Slack's limits need; `teams`: the
    workspaces it covers (workspaces_covered), its own alone if not given."""
    picture = picture_of(session, {}, teams or [team_id], tz=tz.key, now=now)
    digest = rules.build_digest(
        picture,
        owners=owners_of(picture, cover),
        last_counts=sub.last_counts if sub else None,
        since=sub.last_sent_at if sub else None,
        # An ephemeral message holds 50 blocks: fewer lines a section than the thread.
        lines_per_section=6,
    )
    return render_in_parts(
        "digest_preview",
        digest.sections,
        open_action=OPEN_ACCOUNT,
        digest=digest,
        week_of=rules.monday_of(picture.today),
        scope_label=cover.label,
        channel_id=channel_id,
        workspaces=cover.workspaces,
        own_team=team_id,
        schedule=schedule_words(sub) if sub and sub.active else None,
        quiet=sub.quiet if sub else QuietWeek.SKIP,
    )


def schedule_words(sub: DigestSubscription) -> str:
    day = next(name for name, number in rules.WEEKDAYS.items() if number == sub.weekday)
    return f"every {day.capitalize()} at {sub.send_at:%H:%M} ({sub.tz})"


def on_delivery_failure(session: Session, row: OutboxMessage, error: str, now: datetime) -> None:
    """A digest whose channel is gone, archived or shut to the bot: pause its
    subscription (it would fail every week) and tell the person who set it up, once.

    Runs in the transaction that marks the row failed. The DM's key is the
    subscription and the week, and only the call that pauses the subscription queues
    it, so the top message and its replies failing together still make one DM.
    """
    if not is_digest_kind(row.kind) or error not in CHANNEL_GONE:
        return
    sub = rules.pause(session, subscription_id=int(row.subject), now=now)
    if sub is None:
        return
    log.warning(
        "digest %s for channel %s paused: Slack said %s; told %s",
        sub.id,
        sub.channel_id,
        error,
        sub.created_by,
    )
    message = render("digest_paused", channel_id=sub.channel_id, error=error)
    outbox.enqueue_many(
        session,
        [
            {
                "team_id": sub.team_id,
                "kind": KIND_PAUSED,
                "subject": str(sub.id),
                "slot": row.slot,
                "recipient": sub.created_by,
                "payload": message,
            }
        ],
        now=now,
    )
