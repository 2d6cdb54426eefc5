"""/rapport qbr | won | lost | reopen | touch | pause | resume | holidays: the rhythm."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.services import account_state, lifecycle, rhythm, team_calendar
from bot.services.accounts import Reading, get_account, get_or_create_account
from bot.services.calendar import WorkCalendar, whose_calendar
from bot.services.dates import HOLIDAY, PAUSE, QBR, DayReader
from bot.services.errors import DidYouMean, Suggestion, UsageError
from bot.services.errors import reading as reading_key
from bot.services.people import (
    day_reader,
    holiday_country_code,
    team_holiday_country,
)
from bot.slackapi.roles import is_workspace_admin
from handlers.accounts import read_account_of, with_new_account
from handlers.after_ack import later, learn_person
from handlers.caller import team_of
from handlers.context import Deps, deps_of, utcnow
from handlers.events.home import refresh_home
from handlers.parsing import colons_added, split_keyed
from handlers.replies import ephemeral
from messages import render
from messages.formats import relative_day
from messages.ids import Action
from storage.models import Account, Qbr, QbrCadence, TeamHoliday

QBR_USAGE = "/rapport qbr"
NO_REASON = frozenset({"none", "no", "-", "n/a", "na", "nothing", "no reason"})
CADENCES = {
    "quarter": QbrCadence.QUARTER,
    "quarterly": QbrCadence.QUARTER,
    "month": QbrCadence.MONTH,
    "monthly": QbrCadence.MONTH,
}


def _calendar(session: Session, deps: Deps, command: dict[str, str]) -> WorkCalendar:
    return deps.calendar_of(session, team_id=team_of(command), user_id=command["user_id"])


def _reader(
    session: Session, calendar: WorkCalendar, command: dict[str, str], now: datetime
) -> DayReader:
    return day_reader(
        session, team_id=team_of(command), user_id=command["user_id"], today=calendar.today(now)
    )


def _ask_for_colons(
    subcommand: str, args: str, keys: tuple[str, ...], usage: str, *, account: str | None = None
) -> None:
    """`qbr Globex next 20 Jan`: answer with the exact correction and a button to run it.

    `account`: the account as typed at the start of `args` (empty: left out, in the
    account's channel), read off by the resolver, so that a name with a key word in
    it ("Right Next Door") is not corrected. None: the first word is the account."""
    args = " ".join(args.split())
    corrected = (
        colons_added(args, keys)
        if account is None
        else colons_added(args[len(account) :], keys, past_first_word=False)
    )
    if corrected is not None:
        whole = corrected[0] if account is None else f"{account} {corrected[0].strip()}".strip()
        raise DidYouMean(
            f"Did you mean `{corrected[1]}`? Each part takes a colon after its name.",
            (Suggestion("Run it", f"{subcommand} {whole}"),),
            usage=usage,
        )


def _read(
    session: Session,
    command: dict[str, str],
    text: str,
    usage: str,
    *,
    whole: bool = True,
    creates: bool = False,
) -> Reading:
    """The account the text names (or the channel's); `whole`: nothing may follow it."""
    return read_account_of(
        session,
        command,
        text,
        usage=usage,
        whole=whole,
        creates=creates,
        missing="Name the account.",
    )


def owner_calendar(session: Session, deps: Deps, account: Account) -> WorkCalendar:
    """Dates about an account follow its owner's working days, whoever asks."""
    return deps.calendar_of(session, team_id=account.team_id, user_id=account.owner_id)


def qbr_reply(
    qbr: Qbr,
    account: Account,
    calendar: WorkCalendar,
    now: datetime,
    *,
    held: date | None,
    reader_id: str,
    extra: bool = False,
) -> dict[str, Any]:
    """The reply to scheduling a QBR or holding the one planned for `held`: when the
    next is, and when the owner will hear of it (the reminders still ahead, each on
    one of their working days)."""
    today = calendar.today(now)
    # Where the cadence alone would have put the next review, when the calendar moved it.
    by_cadence = (
        rhythm.review_after(rhythm.roll_base(held, today), qbr.cadence, today)
        if held is not None
        else qbr.next_on
    )
    whose = whose_calendar(reader_id, account.owner_id)
    return render(
        "qbr_scheduled",
        moved_from=by_cadence if by_cadence != qbr.next_on else None,
        moved_why=calendar.why_not_working(by_cadence, whose=whose),
        qbr=qbr,
        account=account,
        held=held,
        extra=extra,
        on_schedule=held is not None and rhythm.held_on_schedule(held, today),
        ahead=rhythm.reminders_ahead(qbr, calendar, now),
        short_notice=qbr.lead_days < rhythm.QBR_LEAD_DAYS,
        asked_on=rhythm.asked_on(qbr, calendar),
        day_off=calendar.why_not_working(qbr.next_on, whose=whose),
        when=relative_day(qbr.next_on, today),
    )


def qbr(ack: Ack, command: dict[str, str], context: BoltContext, args: str) -> None:
    """`qbr ACCOUNT next: DATE [every: quarter|month]`, `qbr ACCOUNT held`, `qbr ACCOUNT`."""
    parts = split_keyed(args, ("next", "every"), command=QBR_USAGE)
    # `every:` left empty is a question left open, not the default.
    every = parts.fields.get("every", "quarter")
    cadence = CADENCES.get(every.lower(), "")
    if not cadence:
        raise UsageError(
            "`every:` takes `quarter` or `month`, "
            + (f"not “{every[:40]}”." if every else "and was left empty."),
            usage=QBR_USAGE,
            key="every",
        )
    deps, now = deps_of(context), utcnow()
    with deps.db.begin() as session:
        # With `next:`, all before it is the account; without, `held` may follow it.
        scheduling = "next" in parts.fields
        reading = read_account_of(
            session,
            command,
            parts.head,
            usage=QBR_USAGE,
            whole=scheduling,
            creates=scheduling,
            missing="Name the account.",
            new_ok=True,  # `qbr Initech next 20 Jan`: the colon first, then the account
        )
        rest = reading.rest
        if not scheduling and rest and rest.lower() != "held":
            # What followed the account (read by the resolver) may be `next 20 Jan`.
            typed_account = " ".join(parts.head.split())[: -len(rest)].strip()
            _ask_for_colons("qbr", args, ("next", "every"), QBR_USAGE, account=typed_account)
        if scheduling:
            account = get_or_create_account(
                session,
                team_id=team_of(command),
                name=reading.name,
                user_id=command["user_id"],
                now=now,
            )
            # Read from the typist's today, in their locale; the QBR then follows the
            # owner's working days.
            day = _reader(session, _calendar(session, deps, command), command, now).read(
                parts.fields["next"], QBR, usage=QBR_USAGE
            )
            calendar = owner_calendar(session, deps, account)
            review = rhythm.schedule_qbr(
                session,
                account=account,
                next_on=day,
                cadence=cadence,
                user_id=command["user_id"],
                calendar=calendar,
                now=now,
            )
            message = with_new_account(
                qbr_reply(review, account, calendar, now, held=None, reader_id=command["user_id"]),
                reading,
            )
            learn_person(context, command, now=now)
        else:
            account = get_account(session, team_id=team_of(command), name=reading.name)
            calendar = owner_calendar(session, deps, account)
            review_or_none = session.scalar(
                select(Qbr).where(
                    Qbr.team_id == account.team_id,
                    Qbr.account_id == account.id,
                    account_state.QBR_LIVE,
                )
            )
            if review_or_none is None:
                account_state.require_live(account, "show or mark its QBRs")
                raise UsageError(
                    f"No QBR is scheduled for {account.name} yet. Set one with `next: DATE`.",
                    usage=QBR_USAGE,
                )
            held: date | None = None
            today = calendar.today(now)
            if rest.lower() == "held":
                if not rhythm.held_on_schedule(review_or_none.next_on, today):
                    # Far from its date: perhaps not the review that was planned.
                    message = render(
                        "qbr_which",
                        qbr=review_or_none,
                        account=account,
                        days=abs((review_or_none.next_on - today).days),
                        today=today,
                    )
                    ack(**ephemeral(message))
                    return
                held = review_or_none.next_on
                rhythm.mark_qbr_held(
                    review_or_none,
                    review_on=review_or_none.next_on,
                    today=today,
                    calendar=calendar,
                    now=now,
                )
            elif rest:
                raise UsageError(
                    f"After {account.name} I read “{rest[:60]}”: add `next: DATE`, or `held` "
                    "once it took place.",
                    usage=QBR_USAGE,
                    key="next",
                )
            message = qbr_reply(
                review_or_none, account, calendar, now, held=held, reader_id=command["user_id"]
            )
    refresh_home(context, team_id=team_of(command), user_id=command["user_id"])
    ack(**ephemeral(message))


def won(ack: Ack, command: dict[str, str], context: BoltContext, args: str) -> None:
    deps, now = deps_of(context), utcnow()
    with deps.db.begin() as session:
        reading = _read(session, command, args, "/rapport won", creates=True)
        account = get_or_create_account(
            session,
            team_id=team_of(command),
            name=reading.name,
            user_id=command["user_id"],
            now=now,
        )
        calendar = owner_calendar(session, deps, account)
        outcome = lifecycle.win(
            session, account, actor_id=command["user_id"], calendar=calendar, now=now
        )
        # Paused: its check-ins' reminders wait for the owner's first working day after.
        until = (
            account.paused_until if account_state.is_paused(account, calendar.today(now)) else None
        )
        resumes_on = calendar.on_or_after(until) if until is not None else None
        message = with_new_account(
            render(
                "account_won",
                outcome=outcome,
                account=account,
                actions=Action,
                resumes_on=resumes_on,
            ),
            reading,
        )
    refresh_home(context, team_id=team_of(command), user_id=command["user_id"])
    ack(**ephemeral(message))


def lost(ack: Ack, command: dict[str, str], context: BoltContext, args: str) -> None:
    ack(**ephemeral(_stage_change(command, context, args, "lost", lifecycle.lose)))


def reopen(ack: Ack, command: dict[str, str], context: BoltContext, args: str) -> None:
    ack(**ephemeral(_stage_change(command, context, args, "reopen", lifecycle.reopen)))


_STAGE_REPLIES = {"lost": "account_lost", "reopen": "account_reopened"}


def _stage_change(
    command: dict[str, str],
    context: BoltContext,
    args: str,
    subcommand: str,
    change: Callable[..., lifecycle.Outcome],
) -> dict[str, Any]:
    """`lost ACCOUNT`, `reopen ACCOUNT`: the known account named (or the channel's),
    moved by `change` (bot.services.lifecycle), and the reply saying what it did."""
    deps, now = deps_of(context), utcnow()
    with deps.db.begin() as session:
        reading = _read(session, command, args, f"/rapport {subcommand}")
        account = get_account(session, team_id=team_of(command), name=reading.name)
        outcome = change(session, account, actor_id=command["user_id"], now=now)
        message = render(
            _STAGE_REPLIES[subcommand], outcome=outcome, account=account, actions=Action
        )
    refresh_home(context, team_id=team_of(command), user_id=command["user_id"])
    return message


def touch(ack: Ack, command: dict[str, str], context: BoltContext, args: str) -> None:
    deps, now = deps_of(context), utcnow()
    with deps.db.begin() as session:
        calendar = _calendar(session, deps, command)
        reading = _read(session, command, args, "/rapport touch", whole=False)
        note = reading.rest
        if len(note) > 1000:
            raise UsageError(
                f"Keep the note under 1,000 characters; yours has {len(note):,}.",
                usage="/rapport touch",
            )
        account = get_account(session, team_id=team_of(command), name=reading.name)
        rhythm.log_touch(
            session, account, user_id=command["user_id"], note=note, now=now, calendar=calendar
        )
        ideal, _ = rhythm.touch_intervals(account)
        message = render("touch_logged", account=account, note=note, ideal_days=ideal)
    refresh_home(context, team_id=team_of(command), user_id=command["user_id"])
    ack(**ephemeral(message))


def pause(ack: Ack, command: dict[str, str], context: BoltContext, args: str) -> None:
    usage = "/rapport pause"
    parts = split_keyed(args, ("until", "reason"), command=usage)
    missing = [key for key in ("until", "reason") if not parts.fields.get(key)]
    if missing:
        _ask_for_colons("pause", args, ("until", "reason"), usage)
        raise UsageError(
            "Say until when with `until:` and why with `reason:`; "
            + " and ".join(f"`{key}:`" for key in missing)
            + (" is" if len(missing) == 1 else " are")
            + " missing.",
            usage=usage,
            key=missing[0],
        )
    # "reason: none" (or "-", "n/a"): no reason, said as such.
    reason = parts.fields["reason"]
    if reason.strip().casefold() in NO_REASON:
        reason = "no reason given"
    deps, now = deps_of(context), utcnow()
    with deps.db.begin() as session:
        calendar = _calendar(session, deps, command)
        reading = _read(session, command, parts.head, usage)
        account = get_account(session, team_id=team_of(command), name=reading.name)
        until = _reader(session, calendar, command, now).read(
            parts.fields["until"], PAUSE, usage=usage
        )
        change = lifecycle.pause(
            session,
            account,
            until=until,
            reason=reason,
            actor_id=command["user_id"],
            today=calendar.today(now),
            now=now,
        )
        # Reminders come back on the owner's first working day from `until` on.
        owner = owner_calendar(session, deps, account)
        message = render(
            "account_paused",
            account=account,
            change=change,
            actions=Action,
            resumes_on=owner.on_or_after(until),
            resume_why=owner.why_not_working(
                until, whose=whose_calendar(command["user_id"], account.owner_id)
            ),
        )
    learn_person(context, command, now=now)
    ack(**ephemeral(message))


def resume(ack: Ack, command: dict[str, str], context: BoltContext, args: str) -> None:
    deps, now = deps_of(context), utcnow()
    with deps.db.begin() as session:
        reading = _read(session, command, args, "/rapport resume")
        account = get_account(session, team_id=team_of(command), name=reading.name)
        change = lifecycle.resume(session, account, actor_id=command["user_id"], now=now)
        message = render(
            "account_paused",
            account=account,
            change=change,
            actions=Action,
            resumes_on=None,
            resume_why=None,
        )
    ack(**ephemeral(message))


_COUNTRY = re.compile(r"country\b\s*:?\s*(.*)", re.IGNORECASE | re.DOTALL)


def holidays(ack: Ack, command: dict[str, str], context: BoltContext, args: str) -> None:
    """`holidays`, `holidays add DATE [name]`, `holidays remove DATE`, `holidays country: XX`.

    Anyone may list them; a change is for workspace admins, which is a users.info
    call, made after the ack (as for the MESO tolerance).
    """
    deps, now = deps_of(context), utcnow()
    with deps.db.begin() as session:
        calendar = _calendar(session, deps, command)
        change = _holiday_change(args, _reader(session, calendar, command, now))
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
            day, name = reader.read_leading(rest, HOLIDAY, usage=usage)
        return team_calendar.DayOffChange(day, verb.lower() == "add", name.strip()[:80])
    if verb:
        raise UsageError(
            f"I read “{verb[:40]}”, which holidays does not know: use `add DATE [name]`, "
            "`remove DATE` or `country: DE`.",
            usage=usage,
        )
    return None


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
    today = _calendar(session, deps, command).today(now)
    days = session.scalars(
        select(TeamHoliday)
        .where(TeamHoliday.team_id == team_id, TeamHoliday.day >= today)
        .order_by(TeamHoliday.day)
    ).all()
    return render(
        "holidays_list",
        days=days[:40],
        day_off=change if isinstance(change, team_calendar.DayOffChange) else None,
        changed=changed,
        team_country=team_holiday_country(session, team_id=team_id),
        default_country=deps.settings.holiday_country,
    )
