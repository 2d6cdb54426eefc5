"""The names of an Enterprise Grid org's workspaces, as App Home and the digests name
the workspace an item of another one is in.

A workspace's own install stores its name (storage.orgs.installed_names); one served
by its org's org-wide install has none stored, so Slack's team.info is asked, with a
token of the org (an org-wide install's token reaches every workspace of its org).
Names are kept in this process for a day: a rename shows by the next day, and a Home
opened again costs Slack nothing.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

log = logging.getLogger("rapport.workspaces")

NAME_TTL_S = 24 * 3600.0


class WorkspaceNames:
    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._kept: dict[str, tuple[float, str]] = {}
        self._lock = threading.Lock()

    def names(
        self,
        client_for: Callable[[str], WebClient],
        team_ids: Iterable[str],
        *,
        stored: Mapping[str, str],
    ) -> dict[str, str]:
        """Each workspace's name: the one stored with its install, else one kept, else
        team.info's (through `client_for(team_id)`); its id when Slack would not say."""
        found: dict[str, str] = {}
        for team_id in team_ids:
            name = stored.get(team_id) or self._kept_name(team_id) or self._ask(client_for, team_id)
            found[team_id] = name or team_id
        return found

    def _kept_name(self, team_id: str) -> str | None:
        with self._lock:
            kept = self._kept.get(team_id)
        return kept[1] if kept is not None and kept[0] > self.clock() else None

    def _ask(self, client_for: Callable[[str], WebClient], team_id: str) -> str | None:
        try:
            team = client_for(team_id).team_info(team=team_id).get("team") or {}
        except SlackClientError as exc:
            reason = exc.response.get("error") if isinstance(exc, SlackApiError) else exc
            log.info("team.info failed for %s: %s", team_id, reason)
            return None
        name = str(team.get("name") or "")
        if name:
            with self._lock:
                self._kept[team_id] = (self.clock() + NAME_TTL_S, name)
        return name or None

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()


WORKSPACE_NAMES = WorkspaceNames()
