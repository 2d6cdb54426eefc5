"""/rapport holidays: the team's days off ahead, and changing them (a day off added or
removed, the country whose public holidays count), which is for workspace admins."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient

from bot.services import team_calendar
from bot.services.dates import HOLIDAY, DayReader
from bot.services.errors import UsageError
from bot.services.errors import reading as reading_key
from bot.services.people import holiday_country_code, team_holiday_country
from bot.slackapi.roles import is_workspace_admin
from handlers.edge.after_ack import later, learn_person
from handlers.edge.caller import team_of
from handlers.edge.context import Deps, caller_calendar, caller_reader, deps_of, utcnow
from handlers.edge.replies import ephemeral
from messages import render

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

_COUNTRY = re.compile(r"country\b\s*:?\s*(.*)", re.IGNORECASE | re.DOTALL)


def holidays(ack: Ack, command: dict[str, str], context: BoltContext, args: str) -> None:
    """`holidays`, `holidays add DATE [to DATE] [name]`, `holidays remove DATE [to DATE]`,
    `holidays country: XX`.

    Anyone may list them; a change is for workspace admins, which is a users.info
    call, made after the ack (as for the MESO tolerance).
    """
    deps, now = deps_of(context), utcnow()
    with deps.db.begin() as session:
        calendar = caller_calendar(session, deps, command)
        change = _holiday_change(args, caller_reader(session, calendar, command, now))
        # Listing, or a change that changes nothing: answered at once, with what there is.
        answer_now = change is None or not team_calendar.changes_anything(
            session, team_id=team_of(command), change=change
        )
        if answer_now:
            message = _holidays_list(session, deps, command, now, change, changed=False)
    if change is None or answer_now:
        ack(**ephemeral(message))
        return
    if isinstance(change, team_calendar.DayOffChange):
        learn_person(context, command, now=now)
    respond = context.respond
    later(context, command, lambda client: _change_holidays(client, change, command, deps, respond))
    ack(**ephemeral(render("holidays_checking", change=team_calendar.describe(change))))


def _holiday_change(args: str, reader: DayReader) -> team_calendar.TeamCalendarChange | None:
    usage = "/rapport holidays"
    verb, _, rest = args.strip().partition(" ")
    country = _COUNTRY.fullmatch(args.strip())
    if country is not None:
        if not country.group(1).strip():
            raise UsageError(
                "Give the country, e.g. `country: DE`, or `country: none`.", usage=usage
            )
        return team_calendar.CountryChange(holiday_country_code(country.group(1)))
    if verb.lower() in ("add", "remove"):
        if not rest.strip():
            raise UsageError(
                f"Give the date to {verb.lower()}, e.g. `24 Dec` or `2026-12-24`.",
                usage=usage,
                key="DATE",
            )
        with reading_key("DATE"):
            day, last, name = _days_and_name(rest, reader, usage=usage)
            return team_calendar.DayOffChange(
                day, verb.lower() == "add", name.strip()[:80], last=last
            )
    if verb:
        raise UsageError(
            f"I read “{verb[:40]}”, which holidays does not know: use `add DATE [name]`, "
            "`remove DATE` or `country: DE`.",
            usage=usage,
        )
    return None


# `24 Dec - 26 Dec office closed`, `31 Dec to 1 Jan`: a first day, what joins it to
# the last, and the rest (the last day and the name).
_SPAN = re.compile(
    r"(?P<first>.+?)\s*(?:-|–|—|\bto\b|\buntil\b|\btill\b|\bthrough\b|\bthru\b)\s+(?P<rest>.+)",
    re.IGNORECASE | re.DOTALL,
)


def _days_and_name(text: str, reader: DayReader, *, usage: str) -> tuple[date, date | None, str]:
    """The first day off, the last (None for one day) and the name: a range when the
    text reads as DATE to DATE before the name; else one day, and the rest is its name
    (`24 Dec to be confirmed` is one day named "to be confirmed")."""
    spanned = _span(text, reader, usage=usage)
    if spanned is not None:
        return spanned
    day, name = reader.read_leading(text, HOLIDAY, usage=usage)
    return day, None, name


def _span(text: str, reader: DayReader, *, usage: str) -> tuple[date, date, str] | None:
    """DATE to DATE and the name after it; None when the text is no such range."""
    span = _SPAN.match(text.strip())
    if span is None:
        return None
    try:
        first = reader.read(span["first"], HOLIDAY, usage=usage)
        last, name = reader.read_leading(span["rest"], HOLIDAY, usage=usage)
    except UsageError:
        return None  # `24 Dec to be confirmed`: a name, not a last day
    return first, last, name


def _change_holidays(
    client: WebClient,
    change: team_calendar.TeamCalendarChange,
    command: dict[str, str],
    deps: Deps,
    respond: Respond | None,
) -> None:
    """Runs after the ack; a refusal reaches the user through after_ack's error path."""
    admin = is_workspace_admin(client, command["user_id"])
    now = utcnow()
    with deps.db.begin() as session:
        changed = team_calendar.apply_change(
            session,
            team_id=team_of(command),
            change=change,
            user_id=command["user_id"],
            is_workspace_admin=admin,
            now=now,
        )
        message = _holidays_list(session, deps, command, now, change, changed=changed)
    if respond is not None:
        respond(text=message["text"], blocks=message["blocks"], response_type="ephemeral")


def _holidays_list(
    session: Session,
    deps: Deps,
    command: dict[str, str],
    now: datetime,
    change: team_calendar.TeamCalendarChange | None,
    *,
    changed: bool,
) -> dict[str, Any]:
    """The team's days off ahead, under what became of `change` (if it was a day off):
    added, removed, or there was nothing to do (a day off already, or none that day)."""
    team_id = team_of(command)
    today = caller_calendar(session, deps, command).today(now)
    days = team_calendar.days_off_ahead(session, team_id=team_id, today=today, limit=40)
    return render(
        "holidays_list",
        days=days,
        day_off=change if isinstance(change, team_calendar.DayOffChange) else None,
        changed=changed,
        team_country=team_holiday_country(session, team_id=team_id),
        default_country=deps.settings.holiday_country,
    )


# /rapport subcommand -> listener (handlers/rapport.py routes them).
SUBCOMMANDS = {"holidays": holidays}
