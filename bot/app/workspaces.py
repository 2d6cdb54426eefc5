"""The operator's commands about workspaces: `rapport installs` (where Rapport is
installed, and whether each install's token still works) and `rapport purge` (a
workspace's data, or a whole Enterprise Grid org's, deleted now, for a deletion
request)."""

from __future__ import annotations

import argparse
import logging
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from slack_sdk.errors import SlackApiError

from bot.config import Settings
from bot.services import uninstalls
from bot.slackapi.client import make_client
from storage import migrate
from storage.db import SessionFactory, make_engine, make_session_factory
from storage.installs import Installed, latest_installs
from storage.orgs import teams_of

log = logging.getLogger("rapport.purge")


def _slack_id(prefix: str, what: str, where: str) -> Callable[[str], str]:
    """An argparse type: an id as Slack writes it (`prefix` and capitals or digits)."""
    pattern = re.compile(f"{prefix}[A-Z0-9]{{2,}}")

    def read(value: str) -> str:
        if not pattern.fullmatch(value):
            raise argparse.ArgumentTypeError(
                f"read {value!r}, which is not {what}; write it as Slack does, e.g. "
                f"{prefix}012AB3CD{where}"
            )
        return value

    return read


team_id = _slack_id("T", "a Slack team id", " (`rapport installs` lists them)")
enterprise_id = _slack_id("E", "an Enterprise Grid id", "")


def _when(instant: datetime | None) -> str:
    return f"{instant:%Y-%m-%d %H:%M} UTC" if instant else "never"


@dataclass(frozen=True)
class _Scope:
    """Rows `rapport purge` deletes together: a workspace's, or an org's own."""

    label: str
    team_id: str
    enterprise_id: str | None


def _scopes(args: argparse.Namespace, workspaces: list[str]) -> list[_Scope]:
    """The workspace --team names (only its rows of --enterprise, if given); with
    --enterprise alone, every workspace Rapport knows in the org, then the org's own
    rows (kept under its id, and its org-wide install)."""
    if args.team:
        org = f" of enterprise {args.enterprise}" if args.enterprise else ""
        return [_Scope(f"team {args.team}{org}", args.team, args.enterprise)]
    return [_Scope(f"team {team}", team, None) for team in workspaces] + [
        _Scope(f"enterprise {args.enterprise} (its own rows)", args.enterprise, args.enterprise)
    ]


def run_purge(settings: Settings, args: argparse.Namespace) -> int:
    if not args.team and not args.enterprise:
        print(
            "rapport: say whose data to delete: --team T, or --enterprise E for a whole "
            "Enterprise Grid org",
            file=sys.stderr,
        )
        return 2
    engine = make_engine(settings.database_url)
    migrate.upgrade(engine)
    db = make_session_factory(engine)
    with db() as session:
        workspaces = [] if args.team else teams_of(session, enterprise_id=args.enterprise)
        scopes = _scopes(args, workspaces)
        kept = [
            (
                scope,
                uninstalls.rows_kept(
                    session, team_id=scope.team_id, enterprise_id=scope.enterprise_id
                ),
            )
            for scope in scopes
        ]
    kept = [(scope, rows) for scope, rows in kept if rows]
    where = (
        scopes[0].label
        if args.team
        else f"enterprise {args.enterprise} ({len(scopes) - 1} workspaces and its own rows)"
    )
    if not kept:
        print(f"purge: Rapport keeps nothing for {where}; nothing to delete")
        return 0
    for scope, rows in kept:
        if not args.team:
            print(f"{scope.label}: {sum(rows.values())} rows")
        for table, count in rows.items():
            print(f"  {table:<28}{count:>9}")
    total = sum(sum(rows.values()) for _, rows in kept)
    if not args.yes:
        print(
            f"purge: {total} rows of {where} would be deleted; nothing was deleted. "
            "Run again with --yes to delete them."
        )
        return 0
    deleted = sum(_purge(db, scope) for scope, _ in kept)
    log.warning("%s: its data deleted on request (rapport purge), %d rows", where, deleted)
    print(f"purge: deleted {deleted} rows of {where}")
    return 0


def _purge(db: SessionFactory, scope: _Scope) -> int:
    """Delete the scope's rows, a batch a transaction; how many went."""
    deleted = 0
    while True:
        with db.begin() as session:
            purged = uninstalls.purge_some(
                session,
                team_id=scope.team_id,
                enterprise_id=scope.enterprise_id,
                limit=uninstalls.PURGE_BATCH,
            )
        deleted += sum(purged.rows.values())
        if purged.done:
            return deleted


def _install_line(install: Installed, state: str) -> str:
    where = install.team_id or "(org-wide)"
    name = install.team_name or "-"
    return (
        f"{where}  {name}  enterprise={install.enterprise_id or '-'}  "
        f"by={install.installed_by}  at={_when(install.installed_at)}  "
        f"bot={install.bot_user_id or '-'}  expires={_when(install.bot_token_expires_at)}  "
        f"state={state}\n    scopes: {install.bot_scopes or '-'}"
    )


def run_installs(settings: Settings, args: argparse.Namespace) -> int:
    engine = make_engine(settings.database_url)
    migrate.upgrade(engine)
    with make_session_factory(engine)() as session:
        gone = uninstalls.uninstalled(session, retention_days=settings.uninstall_retention_days)
    left = {mark.team_id: mark for mark in gone}
    installs = (
        latest_installs(engine, client_id=settings.slack_client_id or "")
        if settings.distributed
        else []
    )
    if args.action == "check":
        return _check(settings, installs)
    if not settings.distributed:
        print(
            "installs: one-workspace mode: SLACK_BOT_TOKEN serves one workspace "
            "(`rapport installs check` tests it)"
        )
    elif not installs:
        print("installs: Rapport is installed in no workspace yet (see /slack/install)")
    for install in installs:
        # An org-wide install has no team: the org's own mark is under its id.
        mark = left.pop(install.team_id or install.enterprise_id or "", None)
        print(_install_line(install, _state(mark)))
    # Their installations went with the uninstall: each org, then its workspaces.
    for mark in sorted(
        left.values(), key=lambda m: (m.enterprise_id or m.team_id, not m.whole_org, m.team_id)
    ):
        where = f"{mark.team_id} (org-wide)" if mark.whole_org else mark.team_id
        print(f"{where}  enterprise={mark.enterprise_id or '-'}  state={_state(mark)}")
    return 0


def _state(mark: uninstalls.Uninstalled | None) -> str:
    if mark is None:
        return "active"
    return f"uninstalled since {_when(mark.since)}, data deleted from {_when(mark.purge_at)}"


def _check(settings: Settings, installs: list[Installed]) -> int:
    """auth.test with each install's token (or the one bot token); 1 if any fails."""
    tokens = (
        [(i.team_id or i.enterprise_id or "?", i.bot_token) for i in installs]
        if settings.distributed
        else [("SLACK_BOT_TOKEN", settings.require("slack_bot_token"))]
    )
    failed = 0
    for where, token in tokens:
        try:
            if not token:
                raise LookupError("no bot token stored")
            make_client(settings, token=token).auth_test()
        except SlackApiError as exc:
            failed += 1
            print(f"{where}: Slack refuses its token ({exc.response.get('error')})")
        except (LookupError, OSError) as exc:
            failed += 1
            print(f"{where}: could not check its token ({getattr(exc, 'reason', None) or exc})")
    print(f"installs check: {len(tokens) - failed} of {len(tokens)} tokens work")
    return 1 if failed else 0
