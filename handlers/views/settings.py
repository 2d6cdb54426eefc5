"""The settings modal's submission."""

from __future__ import annotations

from datetime import date, time
from typing import Any

from slack_bolt import Ack, BoltContext

from bot.services.settings import SettingsInput, save_settings
from handlers.caller import team_of
from handlers.context import deps_of, utcnow
from handlers.events.home import refresh_home


def _value(values: dict[str, Any], block: str) -> dict[str, Any]:
    found: dict[str, Any] = values.get(block, {}).get("value", {})
    return found


def _time(values: dict[str, Any], block: str, default: time) -> time:
    raw = _value(values, block).get("selected_time")
    return time.fromisoformat(raw) if raw else default


def _day(values: dict[str, Any], block: str) -> date | None:
    raw = _value(values, block).get("selected_date")
    return date.fromisoformat(raw) if raw else None


def read_settings(values: dict[str, Any]) -> SettingsInput:
    days = sorted(o["value"] for o in _value(values, "work_days").get("selected_options") or [])
    digest = _value(values, "digest").get("selected_options") or []
    return SettingsInput(
        work_start=_time(values, "work_start", time(9, 0)),
        work_end=_time(values, "work_end", time(18, 0)),
        work_days="".join(d for d in days if d.isdigit() and int(d) < 7),
        tz_override=(_value(values, "tz_override").get("value") or "").strip() or None,
        away_from=_day(values, "away_from"),
        away_until=_day(values, "away_until"),
        manager_id=_value(values, "manager").get("selected_user"),
        digest_opt_out=any(o.get("value") == "opt_out" for o in digest),
    )


def submit_settings(
    ack: Ack, view: dict[str, Any], body: dict[str, Any], context: BoltContext
) -> None:
    given = read_settings(view["state"]["values"])
    team_id, user_id = team_of(body), body["user"]["id"]
    deps = deps_of(context)
    with deps.db.begin() as session:
        today = deps.calendar_of(session, team_id=team_id, user_id=user_id).today(utcnow())
        save_settings(session, team_id=team_id, user_id=user_id, given=given, today=today)
    ack()
    refresh_home(context, team_id=team_id, user_id=user_id)
