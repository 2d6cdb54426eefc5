"""An account's rhythm: /rapport won | lost | reopen (its stage), touch and the "Log as
touch" message shortcut (any Slack message becomes a logged interaction, through a
modal), pause | resume. QBRs are handlers/qbr.py, the team's days off
handlers/holidays.py."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.services import account_state, lifecycle, rhythm
from bot.services.account_changes import ChangeShown
from bot.services.accounts import AccountShown, get_account
from bot.services.calendar import whose_calendar
from bot.services.dates import PAUSE
from bot.services.errors import UsageError
from handlers.edge.accounts import account_read, modal_account, read_account_of, with_new_account
from handlers.edge.after_ack import ack_only, learn_person
from handlers.edge.caller import team_of
from handlers.edge.context import (
    caller_calendar,
    caller_reader,
    deps_of,
    owner_calendar,
    utcnow,
)
from handlers.edge.forms import Form
from handlers.edge.home_tab import refresh_home
from handlers.edge.parsing import ask_for_colons, split_keyed
from handlers.edge.replies import ephemeral
from messages import render
from messages.ids import Action, View
from messages.payloads import Metadata, Text

NO_REASON = frozenset({"none", "no", "-", "n/a", "na", "nothing", "no reason"})


# The account the text names (or the channel's); by default nothing may follow it.
_read = functools.partial(read_account_of, whole=True, creates=False, missing="Name the account.")


def won(ack: Ack, command: dict[str, str], context: BoltContext, args: str) -> None:
    deps, now = deps_of(context), utcnow()
    with deps.db.begin() as session:
        reading = _read(session, command, args, usage="/rapport won", creates=True)
        account = account_read(session, command, reading, now=now)
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
                account=AccountShown.of(account),
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
# The words a loss keeps of why (the history shows them).
LOSS_REASON_MAX = 300


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
        # `lost ACCOUNT went with a competitor`: the words after a known account are why.
        why = subcommand == "lost"
        reading = _read(session, command, args, usage=f"/rapport {subcommand}", whole=not why)
        account = get_account(session, team_id=team_of(command), name=reading.name)
        reason = {"reason": reading.rest[:LOSS_REASON_MAX] or None} if why else {}
        outcome = change(session, account, actor_id=command["user_id"], now=now, **reason)
        message = render(
            _STAGE_REPLIES[subcommand],
            outcome=outcome,
            account=AccountShown.of(account),
            actions=Action,
        )
    refresh_home(context, team_id=team_of(command), user_id=command["user_id"])
    return message


def touch(ack: Ack, command: dict[str, str], context: BoltContext, args: str) -> None:
    deps, now = deps_of(context), utcnow()
    with deps.db.begin() as session:
        calendar = caller_calendar(session, deps, command)
        reading = _read(session, command, args, usage="/rapport touch", whole=False)
        if len(reading.rest) > 1000:
            raise UsageError(
                f"Keep the note under 1,000 characters; yours has {len(reading.rest):,}.",
                usage="/rapport touch",
            )
        typed = rhythm.read_touch_note(reading.rest, caller_reader(session, calendar, command, now))
        account = get_account(session, team_id=team_of(command), name=reading.name)
        touch = rhythm.log_touch(
            session,
            account,
            user_id=command["user_id"],
            note=typed.note,
            now=now,
            calendar=calendar,
            on=typed.day,
        )
        ideal, _ = rhythm.touch_intervals(account)
        message = render(
            "touch_logged",
            account=AccountShown.of(account),
            note=typed.note,
            on=typed.day if typed.day and typed.day < calendar.today(now) else None,
            # A touch older than the last one logged leaves the clock where it is.
            behind=account.last_touch_at if account.last_touch_at != touch.at else None,
            tz=calendar.tz,
            ideal_days=ideal,
        )
    refresh_home(context, team_id=team_of(command), user_id=command["user_id"])
    ack(**ephemeral(message))


def pause(ack: Ack, command: dict[str, str], context: BoltContext, args: str) -> None:
    usage = "/rapport pause"
    parts = split_keyed(args, ("until", "reason"), command=usage)
    missing = [key for key in ("until", "reason") if not parts.fields.get(key)]
    if missing:
        ask_for_colons("pause", args, ("until", "reason"), usage)
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
        calendar = caller_calendar(session, deps, command)
        reading = _read(session, command, parts.head, usage=usage)
        account = get_account(session, team_id=team_of(command), name=reading.name)
        until = caller_reader(session, calendar, command, now).read(
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
            account=AccountShown.of(account),
            change=ChangeShown.of(change) if change is not None else None,
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
        reading = _read(session, command, args, usage="/rapport resume")
        account = get_account(session, team_id=team_of(command), name=reading.name)
        change = lifecycle.resume(session, account, actor_id=command["user_id"], now=now)
        message = render(
            "account_paused",
            account=AccountShown.of(account),
            change=ChangeShown.of(change) if change is not None else None,
            actions=Action,
            resumes_on=None,
            resume_why=None,
        )
    ack(**ephemeral(message))


SHORTCUT_ID = "log_as_touch"


def permalink(channel_id: str, ts: str) -> str:
    """Slack's archive link for a message, built from its channel and timestamp."""
    return f"https://slack.com/archives/{channel_id}/p{ts.replace('.', '')}"


class LoggedMessage(Metadata):
    """The "Log as touch" modal's private_metadata: the link of the message it was
    opened on, as is (the shape modals already open carry)."""

    OUT_OF_DATE = "This form is out of date. Open it again from the message: Log as touch."
    SEPARATOR = "|"

    permalink: Text


def open_log_touch(body: dict[str, Any], client: WebClient) -> None:
    message = body.get("message") or {}
    link = permalink(body.get("channel", {}).get("id", ""), message.get("ts", ""))
    client.views_open(
        trigger_id=body["trigger_id"],
        view=render(
            "log_touch_modal",
            callback_id=View.LOG_TOUCH.value,
            note=str(message.get("text", ""))[:2900],
            metadata=LoggedMessage(permalink=link).dump(),
        ),
    )


def submit_log_touch(
    ack: Ack, view: dict[str, Any], body: dict[str, Any], context: BoltContext
) -> None:
    logged = LoggedMessage.parse(view.get("private_metadata"))
    inputs = Form.of(view)
    name = inputs.text("account", lines=True) or ""
    note = inputs.text("note", lines=True) or ""
    deps, now = deps_of(context), utcnow()
    team_id, user_id = team_of(body), body["user"]["id"]
    with deps.db.begin() as session:
        reading = modal_account(session, team_id=team_id, text=name, field="account", creates=False)
        account = get_account(session, team_id=team_id, name=reading.name)
        calendar = deps.calendar_of(session, team_id=team_id, user_id=user_id)
        rhythm.log_touch(
            session,
            account,
            user_id=user_id,
            note=note[:1000],
            now=now,
            calendar=calendar,
            permalink=logged.permalink,
        )
    ack()
    refresh_home(context, team_id=team_id, user_id=user_id)


# /rapport subcommand -> listener (handlers/rapport.py routes them).
SUBCOMMANDS = {
    "won": won,
    "lost": lost,
    "reopen": reopen,
    "touch": touch,
    "pause": pause,
    "resume": resume,
}


def register(app: App) -> None:
    app.shortcut(SHORTCUT_ID)(ack=ack_only, lazy=[open_log_touch])
    app.view(View.LOG_TOUCH.value)(submit_log_touch)
