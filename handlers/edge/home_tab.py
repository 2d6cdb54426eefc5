"""Publishing a person's App Home, and publishing it again after each thing they do
that changes what it shows (`refresh_home`, called by every feature that changes one).
Opening the tab, and the buttons on it, are handlers/home.py."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict

from slack_bolt import BoltContext
from slack_sdk import WebClient

from bot.services.home import home_summary
from bot.slackapi.workspaces import WORKSPACE_NAMES
from handlers.edge.after_ack import later
from handlers.edge.context import Deps, deps_of, utcnow
from messages import render
from messages.ids import Action
from storage import orgs

log = logging.getLogger("rapport.home")


class HomeViewers:
    """Who opened their Home tab since this process started (bounded, oldest forgotten).

    Slack lets an app publish a Home for anyone, but most people who type a command
    never look at the tab, and each publish is a dashboard query plus a Tier 4 call
    sharing the small after-ack pool with modal opens whose trigger_id expires in 3 s.
    So an action refreshes Home only for people known to use it. A restart, or another
    replica, forgets them: nothing is lost, as opening the tab always publishes it fresh.
    """

    def __init__(self, limit: int = 50_000) -> None:
        self._seen: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._limit = limit
        self._lock = threading.Lock()

    def add(self, team_id: str, user_id: str) -> None:
        with self._lock:
            self._seen[(team_id, user_id)] = None
            self._seen.move_to_end((team_id, user_id))
            while len(self._seen) > self._limit:
                self._seen.popitem(last=False)

    def __contains__(self, key: tuple[str, str]) -> bool:
        with self._lock:
            return key in self._seen

    def clear(self) -> None:
        with self._lock:
            self._seen.clear()


VIEWERS = HomeViewers()


# Publishes for one person never overlap: two refreshes racing could otherwise land
# the older picture last. Striped rather than one lock per person, so memory stays flat.
_PUBLISH_LOCKS = tuple(threading.Lock() for _ in range(64))


def publish(client: WebClient, deps: Deps, *, team_id: str, user_id: str) -> None:
    with _PUBLISH_LOCKS[hash((team_id, user_id)) % len(_PUBLISH_LOCKS)]:
        with deps.db() as session:
            summary = home_summary(
                session,
                team_id=team_id,
                user_id=user_id,
                now=utcnow(),
                default_tz=deps.settings.default_tz,
            )
            stored = orgs.installed_names(session, team_ids=summary.elsewhere)
        # The org's other workspaces, named: asked with this workspace's token (the
        # org's, when Rapport is installed for the whole org).
        names = WORKSPACE_NAMES.names(lambda _: client, summary.elsewhere, stored=stored)
        view = render("home", summary=summary, names=names, actions=Action)
        client.views_publish(user_id=user_id, view=view)


def republish(client: WebClient, deps: Deps, *, team_id: str, user_id: str) -> None:
    """Publish, logging any failure: a stale Home must never undo what the user just did."""
    try:
        publish(client, deps, team_id=team_id, user_id=user_id)
    except Exception:
        log.exception("could not refresh App Home of %s in %s", user_id, team_id)


def refresh_home(context: BoltContext, *, team_id: str, user_id: str) -> None:
    """After the user changed what their Home shows: republish it off the request path.

    Call it once the change is committed; the work runs on the after-ack pool.
    """
    if (team_id, user_id) not in VIEWERS:
        return
    deps = deps_of(context)
    later(
        context,
        {},
        lambda client: republish(client, deps, team_id=team_id, user_id=user_id),
    )
