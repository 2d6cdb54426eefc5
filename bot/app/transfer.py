"""`rapport export` and `rapport import`: files in and out, and the Slack look-ups they need."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.config import Settings
from bot.services import export, importing
from storage import migrate
from storage.db import make_engine, make_session_factory


class SlackLookupFailed(RuntimeError):
    """Slack refused a look-up for a reason no row can fix (scope, token)."""


class SlackDirectory:
    """The bot token's workspace: its team (auth.test) and its users by email.

    One users.lookupByEmail per distinct email; the client's retry handlers wait
    out a 429 (the method is Tier 3, about 50 a minute), so a big file is slow, not
    broken. The client is made on first use: a file of user ids needs no token.
    """

    def __init__(self, client: Callable[[], WebClient]) -> None:
        self._make_client = client
        self._client: WebClient | None = None
        self._emails: dict[str, str | None] = {}
        self._team_id: str | None = None

    @property
    def client(self) -> WebClient:
        if self._client is None:
            self._client = self._make_client()
        return self._client

    @property
    def used(self) -> bool:
        return bool(self._emails)

    def user_for_email(self, email: str) -> str | None:
        key = email.casefold()
        if key not in self._emails:
            self._emails[key] = self._lookup(email)
        return self._emails[key]

    def _lookup(self, email: str) -> str | None:
        try:
            user = self.client.users_lookupByEmail(email=email)["user"]
        except SlackApiError as exc:
            error = exc.response.get("error")
            if error == "users_not_found":
                return None
            raise SlackLookupFailed(_advice(f"users.lookupByEmail failed: {error}", error)) from exc
        # A deactivated person cannot be reminded of anything.
        return None if user.get("deleted") else str(user["id"])

    def team_id(self) -> str:
        if self._team_id is None:
            try:
                self._team_id = str(self.client.auth_test()["team_id"])
            except SlackApiError as exc:
                error = exc.response.get("error")
                raise SlackLookupFailed(_advice(f"auth.test failed: {error}", error)) from exc
        return self._team_id


def _advice(problem: str, error: object) -> str:
    if error == "missing_scope":
        return (
            f"{problem}. The app needs the users:read.email scope: update it from "
            "manifest.yml and reinstall it to the workspace."
        )
    if error in ("invalid_auth", "not_authed", "account_inactive", "token_revoked"):
        return f"{problem}. Check SLACK_BOT_TOKEN."
    return problem


def run_export(settings: Settings, args: argparse.Namespace) -> int:
    engine = make_engine(settings.database_url)
    migrate.upgrade(engine)
    target = str(args.out)
    with export.snapshot(engine) as session:
        if args.format == "csv":
            if target == "-":
                print(
                    "rapport export: CSV is one file per table; give a directory", file=sys.stderr
                )
                return 2
            counts = export.write_csv(session, Path(target), team_id=args.team)
        elif target == "-":
            counts = export.write_json(session, sys.stdout, team_id=args.team)
        else:
            path = Path(target)
            path.parent.mkdir(parents=True, exist_ok=True)
            # Written aside and moved into place: a failed export leaves no half a file.
            partial = path.with_name(path.name + ".part")
            with partial.open("w", encoding="utf-8") as out:
                counts = export.write_json(session, out, team_id=args.team)
            partial.replace(path)
    engine.dispose()
    summary = ", ".join(f"{count} {name}" for name, count in counts.items())
    where = "stdout" if target == "-" else target
    # With JSON on stdout, the summary must not end up inside the document.
    print(f"exported {summary} to {where}", file=sys.stderr if target == "-" else sys.stdout)
    return 0


def _workspace_client(settings: Settings, team_id: str | None) -> WebClient:
    """The client an import looks owners up with: the bot token's, or in distributed
    mode the named workspace's own install's (there is no one bot token to ask)."""
    from bot.slackapi.client import make_client
    from bot.slackapi.installs import InstalledTeams

    if not settings.distributed:
        return make_client(settings, token=settings.require("slack_bot_token"))
    if not team_id:
        raise SlackLookupFailed(
            "Rapport is installed into many workspaces here (SLACK_CLIENT_ID is set): "
            "say which one the accounts are for with --team T…"
        )
    return InstalledTeams(settings, make_engine(settings.database_url), ttl_s=0)(team_id)


def run_import(settings: Settings, args: argparse.Namespace) -> int:
    try:
        text = Path(args.file).read_bytes().decode("utf-8-sig")
    except OSError as exc:
        print(f"rapport import: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 2
    except UnicodeDecodeError:
        print(
            f"rapport import: {args.file} is not UTF-8 text; save it as “CSV UTF-8”",
            file=sys.stderr,
        )
        return 2
    directory = SlackDirectory(lambda: _workspace_client(settings, args.team))
    try:
        checked = importing.check_accounts_csv(
            text, directory=directory, today=datetime.now(UTC).date()
        )
        if not checked.importable(skip_bad=args.skip_bad):
            print(
                _describe(
                    importing.ImportReport(skipped=checked.bad, imported=False),
                    checked,
                    team_id="",
                    skip_bad=args.skip_bad,
                )
            )
            return 1
        team_id = args.team or directory.team_id()
        if args.team and directory.used and directory.team_id() != args.team:
            print(
                f"rapport import: owners were looked up in Slack team {directory.team_id()}, "
                f"not {args.team}; use that team's bot token",
                file=sys.stderr,
            )
            return 2
    except SlackLookupFailed as exc:
        print(f"rapport import: {exc}", file=sys.stderr)
        return 2

    engine = make_engine(settings.database_url)
    migrate.upgrade(engine)
    db = make_session_factory(engine)
    session_scope = db() if args.dry_run else db.begin()
    with session_scope as session:
        report = importing.import_accounts(
            session,
            team_id=team_id,
            checked=checked,
            now=datetime.now(UTC),
            skip_bad=args.skip_bad,
            dry_run=args.dry_run,
        )
    engine.dispose()
    print(_describe(report, checked, team_id=team_id, skip_bad=args.skip_bad))
    return 0 if report.imported else 1


def _describe(
    report: importing.ImportReport,
    checked: importing.CheckedFile,
    *,
    team_id: str,
    skip_bad: bool,
) -> str:
    lines = [str(bad) for bad in report.skipped]
    if not report.imported:
        if checked.fatal:
            lines.append("Nothing imported.")
        elif skip_bad:
            lines.append("Nothing imported: every row has a problem.")
        else:
            count = len(report.skipped)
            lines.append(
                f"Nothing imported: {count} bad row{'s' if count != 1 else ''}. "
                "Fix them, or run again with --skip-bad to import the other rows."
            )
        return "\n".join(lines)
    if checked.ignored_columns:
        lines.append("Ignored columns: " + ", ".join(checked.ignored_columns))
    verb = "Would import" if report.dry_run else "Imported"
    lines.append(
        f"{verb} into team {team_id}: {report.created} created, {report.updated} updated, "
        f"{report.unchanged} unchanged, {len(report.skipped)} skipped."
    )
    if report.dry_run:
        lines.append("Dry run: nothing was written.")
    return "\n".join(lines)
