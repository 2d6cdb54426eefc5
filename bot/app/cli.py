"""The `rapport` command line."""

from __future__ import annotations

import argparse
import gc
import logging
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from pydantic import ValidationError
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.app.edge import EdgeLimits
from bot.config import ConflictingSettings, MissingSetting, Settings
from bot.scheduler.delivery import ClientForTeam
from storage import migrate
from storage.db import SessionFactory, make_engine, make_session_factory, start_wal_checkpointer

if TYPE_CHECKING:
    from sqlalchemy import Engine

log = logging.getLogger("rapport")


def _parse_instant(value: str) -> datetime:
    try:
        instant = datetime.fromisoformat(value)
    except ValueError as exc:
        # An operator types what they would say ("yesterday"); show the two forms that
        # work, dated from today so the example can be copied as it is.
        yesterday = datetime.now(UTC).date() - timedelta(days=1)
        raise argparse.ArgumentTypeError(
            f"read {value!r}, which is not an ISO 8601 date or instant; write a day "
            f"({yesterday.isoformat()}, from midnight UTC) or an instant "
            f"({yesterday.isoformat()}T09:30 UTC, or with a zone: "
            f"{yesterday.isoformat()}T09:30+01:00)"
        ) from exc
    return instant if instant.tzinfo else instant.replace(tzinfo=UTC)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rapport", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve Slack requests (and run the scheduler)")
    serve.add_argument("--host", default="0.0.0.0")
    serve.add_argument("--port", type=int, default=3000)
    serve.add_argument("--no-scheduler", action="store_true", help="leave sweeping to a worker")
    transport = serve.add_mutually_exclusive_group()
    transport.add_argument(
        "--socket",
        action="store_true",
        help="Socket Mode, no public URL needed (the default when SLACK_APP_TOKEN is set)",
    )
    transport.add_argument(
        "--http",
        action="store_true",
        help="HTTP on --host and --port (the default when SLACK_APP_TOKEN is not set)",
    )
    serve.add_argument(
        "--read-timeout",
        type=float,
        default=EdgeLimits.header_timeout,
        help="seconds a client has to send its headers, and again its body (default: 5)",
    )
    serve.add_argument(
        "--max-connections",
        type=int,
        default=EdgeLimits.max_connections,
        help="client connections held at once (default: 256, less if few files may be open)",
    )

    worker = sub.add_parser("worker", help="run the scheduler alone")
    worker.add_argument(
        "--every", type=int, default=60, metavar="SECONDS", help="seconds between sweeps"
    )

    sweep = sub.add_parser("sweep", help="one scheduler pass at an instant, then exit")
    sweep.add_argument("--now", type=_parse_instant, default=None, help="ISO 8601 instant")

    db = sub.add_parser("db", help="database maintenance")
    db.add_argument("action", choices=["upgrade"])

    outbox = sub.add_parser(
        "outbox",
        help="list outbox messages that failed, are retrying or are stuck; re-queue failed ones",
        description=(
            "Without an action: how many messages wait and how old the oldest is, teams "
            "whose token Slack refuses, and the messages that failed, are retrying or are "
            "stuck. `retry` gives failed messages a fresh set of attempts from now."
        ),
    )
    outbox.add_argument("action", nargs="?", choices=["retry"], help="re-queue failed messages")
    which = outbox.add_mutually_exclusive_group()
    which.add_argument("--id", type=int, help="retry: the failed message with this id")
    which.add_argument(
        "--failed-since",
        type=_parse_instant,
        metavar="DATE",
        help="retry: every message that failed at or after DATE (ISO 8601, UTC if no zone)",
    )
    which.add_argument("--team", help="retry: every failed message of this Slack team (T…)")

    from bot.app.workspaces import enterprise_id, team_id

    installs = sub.add_parser(
        "installs",
        help="list the workspaces Rapport is installed in; `check` tests each one's token",
        description=(
            "Each workspace's latest install: team, enterprise, who installed it and when, "
            "the bot user, the scopes, when its token expires, and its state (active, or "
            "uninstalled since when and when its data is deleted). `check` calls Slack's "
            "auth.test with each install's token (the one SLACK_BOT_TOKEN in one-workspace "
            "mode) and lists those that fail; the exit code is 1 if any does."
        ),
    )
    installs.add_argument("action", nargs="?", choices=["check"], help="test each token")

    purge = sub.add_parser(
        "purge",
        help="delete one workspace's, or one Enterprise Grid org's, data now (for a "
        "deletion request)",
        description=(
            "Delete every row Rapport keeps for one workspace: accounts and all their "
            "history, reminders, messages, settings, and in distributed mode its "
            "installation. With --enterprise and no --team: every workspace Rapport knows "
            "in that Enterprise Grid org, and the org's own rows (people's settings kept "
            "for the whole org, its org-wide installation). Without --yes it shows what "
            "would be deleted, counted per workspace and table, and deletes nothing."
        ),
    )
    purge.add_argument("--team", type=team_id, help="the Slack team (T…)")
    purge.add_argument(
        "--enterprise",
        type=enterprise_id,
        help="its Enterprise Grid org (E…): with --team only its rows there; alone, the whole org",
    )
    purge.add_argument("--yes", action="store_true", help="delete, not just count")

    tryout = sub.add_parser("try", help="run one slash command locally, without Slack")
    tryout.add_argument("line", help='e.g. "/concede acme give: 5%% discount get: 24-month term"')
    tryout.add_argument("--user", default="U0LOCAL", help="the Slack user id to act as")
    tryout.add_argument(
        "--team",
        help="act in this Slack team's data (T…), as the running bot stored it "
        "(default: a local sandbox team, T0LOCAL)",
    )

    exporting = sub.add_parser(
        "export",
        help="write accounts and their history to CSV files or one JSON file",
        description=(
            "Write accounts, concessions (and their edits), MESO sets with their offers, "
            "commitments, QBRs, check-ins, touches, ratings, KPIs, client questions on the "
            "reply clock, negotiation preps, governance plans, and debriefs with the steps "
            "accepted from them. CSV: OUT is a directory "
            "with one file per table (accounts.csv, concessions.csv, …), each with a header "
            "row. JSON: OUT is one file (- for stdout) holding an object with a list per "
            "table. Rows about an account carry its team_id and account_name; instants "
            "are ISO 8601 UTC."
        ),
    )
    exporting.add_argument("--format", choices=["csv", "json"], required=True)
    exporting.add_argument("--team", help="only this Slack team (T…); all teams by default")
    exporting.add_argument("out", help="a directory for CSV, a file or - for JSON")

    importing = sub.add_parser(
        "import",
        help="load accounts and their owners from a CRM's CSV export",
        description=(
            "Load accounts from a CSV file with columns name and owner (a Slack user id "
            "such as U123ABC, or an email looked up in Slack), and optionally "
            "relationship_type, channel (C…) and expectations. CRM header names such as "
            "'Account Name', 'Account Owner' and 'Owner Email' work; ',' or ';' between "
            "fields. Accounts that exist already are updated. Every row is checked first: "
            "one bad row and nothing is imported, unless --skip-bad. The team is the bot "
            "token's workspace (Slack's auth.test) unless --team says otherwise."
        ),
    )
    importing.add_argument("file", help="the CSV file")
    importing.add_argument("--team", help="the Slack team (T…); default: the bot token's")
    importing.add_argument("--skip-bad", action="store_true", help="import the good rows")
    importing.add_argument("--dry-run", action="store_true", help="check and count, write nothing")
    return parser


def _database(settings: Settings, *, upgrade: bool) -> tuple[SessionFactory, Engine]:
    engine = make_engine(settings.database_url)
    if upgrade:
        migrate.upgrade(engine)
    return make_session_factory(engine), engine


def _bot_client(settings: Settings) -> WebClient:
    from bot.slackapi.client import make_client

    return make_client(settings, token=settings.require("slack_bot_token"))


def _client_for(settings: Settings, engine: Engine) -> ClientForTeam:
    """Each team's client for the sweep: its own install's token in distributed mode,
    else the one bot token."""
    if settings.distributed:
        from bot.slackapi.installs import InstalledTeams

        return InstalledTeams(settings, engine)
    client = _bot_client(settings)
    return lambda _team_id: client


class SlackCheckFailed(Exception):
    """Slack refused the bot token at start-up, or could not be reached to ask."""


def _check_bot_token(settings: Settings) -> None:
    """auth.test before anything is built, so that a refused token or an unreachable
    Slack is named as such (Bolt asks the same when the app is built, and would stop
    with a traceback)."""
    try:
        _bot_client(settings).auth_test()
    except SlackApiError as exc:
        raise SlackCheckFailed(
            f"Slack refused SLACK_BOT_TOKEN ({exc.response.get('error')}); check the token "
            "on the app's OAuth & Permissions page (see the README's Slack setup)."
        ) from None
    except OSError as exc:  # URLError, refused, timed out
        raise SlackCheckFailed(
            f"could not reach Slack at {settings.slack_api_url} to check SLACK_BOT_TOKEN: "
            f"{getattr(exc, 'reason', None) or exc}"
        ) from None


def edge_limits(args: argparse.Namespace) -> EdgeLimits:
    """`rapport serve`'s read timeout and connection cap, fitted to the open-file limit."""
    if args.read_timeout <= 0 or args.max_connections < 1:
        raise SystemExit("rapport: --read-timeout and --max-connections must be positive")
    return EdgeLimits(
        header_timeout=args.read_timeout,
        body_timeout=args.read_timeout,
        max_connections=args.max_connections,
    ).within_open_files()


def _transport(settings: Settings, args: argparse.Namespace) -> tuple[bool, str]:
    """Socket Mode or HTTP, and why: as asked, else Socket Mode when an app-level token
    is set (one workspace's bot: installs into many go through OAuth, over HTTP)."""
    if args.socket or args.http:
        return args.socket, "--socket" if args.socket else "--http"
    if settings.slack_app_token is None:
        return False, "SLACK_APP_TOKEN is not set"
    if settings.distributed:
        return False, "installs into many workspaces (SLACK_CLIENT_ID) need HTTP"
    return True, "SLACK_APP_TOKEN is set"


def _serve(settings: Settings, args: argparse.Namespace) -> None:
    import uvicorn

    from bot.app.bolt import build_app
    from bot.app.edge import uvicorn_config
    from bot.app.server import make_asgi
    from bot.scheduler.clock import make_scheduler

    socket_mode, why = _transport(settings, args)
    if socket_mode:
        if settings.distributed:
            # Installs come back to /slack/oauth_redirect, which only HTTP serves.
            raise ConflictingSettings(
                "Socket Mode serves the one workspace of SLACK_BOT_TOKEN; installing into "
                "many workspaces (SLACK_CLIENT_ID, SLACK_CLIENT_SECRET) needs HTTP: run "
                "`rapport serve` without --socket, or unset those two."
            )
        settings.require("slack_bot_token")
        app_token = settings.require("slack_app_token")
        log.info("serving Slack over Socket Mode (%s): no public URL needed", why)
    else:
        settings.require_mode()
        log.info(
            "serving Slack over HTTP at http://%s:%d/slack/events (%s)", args.host, args.port, why
        )
    if not settings.distributed:
        _check_bot_token(settings)
    db, engine = _database(settings, upgrade=True)
    app = build_app(settings, db=db)
    checkpointer = start_wal_checkpointer(engine)
    scheduler = None
    if not args.no_scheduler:
        scheduler = make_scheduler(db, _client_for(settings, engine), settings, blocking=False)
        scheduler.start()
    try:
        # Everything built so far lives as long as the process: keep it out of the
        # garbage collector's way so collections during requests stay short.
        gc.collect()
        gc.freeze()
        if socket_mode:
            from bot.app.socket_mode import AppTokenRefused, serve_socket_mode

            try:
                serve_socket_mode(
                    app,
                    app_token=app_token,
                    slack_api_url=settings.slack_api_url,
                    dialect=engine.dialect.name,
                )
            except AppTokenRefused as exc:
                raise SlackCheckFailed(str(exc)) from None
        else:
            limits = edge_limits(args)
            log.info(
                "serving with a %.0f s read timeout and at most %d connections",
                limits.header_timeout,
                limits.max_connections,
            )
            config = uvicorn_config(
                make_asgi(app, engine, settings),
                host=args.host,
                port=args.port,
                log_level=settings.log_level.lower(),
                limits=limits,
            )
            uvicorn.Server(config).run()
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        if checkpointer is not None:
            checkpointer.stop()


def _age(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours < 48 else f"{hours // 24} days {hours % 24} h"


def _outbox(settings: Settings, args: argparse.Namespace) -> int:
    from bot.services import uninstalls
    from storage import outbox

    chosen = {"row_id": args.id, "failed_since": args.failed_since, "team_id": args.team}
    if args.action != "retry" and any(value is not None for value in chosen.values()):
        print("rapport: --id, --failed-since and --team go with `outbox retry`", file=sys.stderr)
        return 2
    if args.action == "retry" and all(value is None for value in chosen.values()):
        print(
            "rapport: say which failed messages to retry: --id N, --failed-since DATE or --team T",
            file=sys.stderr,
        )
        return 2
    db, _ = _database(settings, upgrade=True)
    now = datetime.now(UTC)
    if args.action == "retry":
        with db.begin() as session:
            ids = outbox.requeue_failed(session, now=now, **chosen)
        if not ids:
            print("outbox: no failed message matched; nothing re-queued")
            return 1
        shown = ", ".join(f"#{row_id}" for row_id in ids[:20])
        more = f" and {len(ids) - 20} more" if len(ids) > 20 else ""
        print(f"outbox: re-queued {len(ids)} failed message(s): {shown}{more}")
        print("the next sweep (within a minute under `rapport serve` or a worker) sends them")
        return 0
    with db() as session:
        waiting = outbox.waiting(session)
        holds = outbox.holds(session)
        rows = outbox.troubled(session, now=now)
        gone = uninstalls.uninstalled(session, retention_days=settings.uninstall_retention_days)
    if waiting.oldest is None:
        print("outbox: nothing waiting to be sent")
    else:
        oldest = waiting.oldest
        print(
            f"outbox: {waiting.count} waiting to be sent; the oldest, #{oldest.id} "
            f"(team={oldest.team_id} to={oldest.recipient} kind={oldest.kind}), "
            f"is {_age((now - oldest.created_at).total_seconds())} old"
        )
    for hold in holds:
        print(
            f"team {hold.team_id}: on hold since {hold.since:%Y-%m-%d %H:%M} UTC, Slack "
            f"refuses its token ({hold.error}); its messages wait and go once it works"
        )
    for mark in gone:
        who = f"org {mark.team_id}" if mark.whole_org else f"team {mark.team_id}"
        print(
            f"{who}: uninstalled since {mark.since:%Y-%m-%d %H:%M} UTC; its "
            "messages wait for a reinstall, and its data is deleted from "
            f"{mark.purge_at:%Y-%m-%d %H:%M} UTC"
        )
    if not rows:
        print("outbox: nothing failed, retrying or stuck")
    for row in rows:
        print(
            f"#{row.id} {row.status:<8} team={row.team_id} to={row.recipient} "
            f"kind={row.kind} attempts={row.attempts} "
            f"created={row.created_at:%Y-%m-%d %H:%M} "
            f"error={row.last_error or '-'}"
        )
    return 0


def _run(settings: Settings, args: argparse.Namespace) -> int:
    if args.command == "serve":
        _serve(settings, args)
    elif args.command == "worker":
        from bot.scheduler.clock import make_scheduler

        db, engine = _database(settings, upgrade=True)
        # A sweep's commits are large: without this, the one that crosses SQLite's
        # checkpoint threshold also copies the WAL back, inside the sweep.
        start_wal_checkpointer(engine)
        scheduler = make_scheduler(
            db, _client_for(settings, engine), settings, blocking=True, interval_seconds=args.every
        )
        # As in `serve`: a sweep allocates enough to set off several full collections,
        # and each walked every module and mapper (about 0.3 s of CPU per 10,000-due
        # sweep, bench/sweep.py --no-freeze).
        gc.collect()
        gc.freeze()
        scheduler.start()
    elif args.command == "sweep":
        from bot.scheduler.sweep import sweep

        db, engine = _database(settings, upgrade=True)
        report = sweep(
            db, _client_for(settings, engine), settings, now=args.now or datetime.now(UTC)
        )
        print(
            f"nudges new: {report.planned}, messages: {report.messages}, "
            f"sent: {report.delivery.sent}, "
            f"retrying: {report.delivery.retrying}, failed: {report.delivery.failed}, "
            f"held: {report.delivery.held}"
        )
    elif args.command == "outbox":
        return _outbox(settings, args)
    elif args.command == "db":
        _database(settings, upgrade=True)
        print("database is up to date")
    elif args.command == "installs":
        from bot.app.workspaces import run_installs

        return run_installs(settings, args)
    elif args.command == "purge":
        from bot.app.workspaces import run_purge

        return run_purge(settings, args)
    elif args.command == "export":
        from bot.app.transfer import run_export

        return run_export(settings, args)
    elif args.command == "import":
        from bot.app.transfer import run_import

        return run_import(settings, args)
    elif args.command == "try":
        from bot.app.tryout import TRY_TEAM, run_try

        db, _ = _database(settings, upgrade=True)
        team_id = args.team or TRY_TEAM
        try:
            print(run_try(args.line, settings=settings, db=db, user_id=args.user, team_id=team_id))
        except ValueError as exc:
            print(exc, file=sys.stderr)
            return 2
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as exc:
        print(f"rapport: bad configuration:\n{exc}", file=sys.stderr)
        return 2
    logging.basicConfig(
        # `try` prints a reply for a person to read: keep the log out of it.
        level="WARNING" if args.command == "try" else settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return _run(settings, args)
    except (MissingSetting, ConflictingSettings, SlackCheckFailed) as exc:
        print(f"rapport: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
