"""The reminder DM (a nudge) and its buttons: Done, Snooze (with the pick-a-day modal),
Reassign, Mark held, Moved to…, Skipped, I was in touch. One DM carries items of every
kind (follow-ups, QBRs, check-ins, quiet accounts); the check-in's rating is
handlers/ratings.py.

Each click is acked at once; the work runs after the ack (Bolt lazy listener) because
it ends in a Slack call that updates the message in place. Clicks are idempotent:
a second Done on a done commitment changes nothing and redraws the same message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.scheduler import compose
from bot.services import followups, rhythm
from bot.services.calendar import WorkCalendar
from bot.services.dates import SNOOZE
from bot.services.errors import UsageError
from bot.services.people import day_reader
from handlers.edge.after_ack import clicks_after_ack, submissions_after_ack
from handlers.edge.caller import team_of
from handlers.edge.context import Deps, deps_of, utcnow
from handlers.edge.forms import Form
from handlers.edge.home_tab import refresh_home
from messages import render
from messages.ids import Action, View
from storage.models import Account, CheckIn, Commitment, Nudge, Qbr


@dataclass(frozen=True)
class NudgeRef:
    outbox_id: int
    kind: str  # commitment, qbr, checkin, account
    subject_id: int
    nudge_id: int


def parse_ref(block_id: str) -> NudgeRef | None:
    """`act:<outbox id>:<kind>:<subject id>:<nudge id>` as the nudge template writes it."""
    parts = block_id.split(":")
    if len(parts) != 5 or not all(p.isdigit() for p in (parts[1], parts[3], parts[4])):
        return None
    return NudgeRef(int(parts[1]), parts[2], int(parts[3]), int(parts[4]))


def _calendar(session: Session, deps: Deps, team_id: str, user_id: str) -> WorkCalendar:
    return deps.calendar_of(session, team_id=team_id, user_id=user_id)


def redrawn(
    session: Session, deps: Deps, *, team_id: str, outbox_id: int, now: datetime
) -> dict[str, Any] | None:
    """The nudge message as it reads now, in its reader's days, after a change."""
    default_tz = deps.settings.default_tz
    return compose.rerender(
        session, team_id=team_id, outbox_id=outbox_id, now=now, default_tz=default_tz
    )


def _redraw(client: WebClient, body: dict[str, Any], message: dict[str, Any] | None) -> None:
    container = body.get("container") or {}
    if message is None or not container.get("message_ts"):
        return
    client.chat_update(
        channel=container["channel_id"],
        ts=container["message_ts"],
        text=message["text"],
        blocks=message["blocks"],
    )


@dataclass(frozen=True)
class Click:
    """One click on a nudge, inside the transaction that applies it."""

    session: Session
    ref: NudgeRef
    action: dict[str, Any]
    calendar: WorkCalendar
    now: datetime
    team_id: str
    user_id: str
    deps: Deps


def _apply(
    body: dict[str, Any], context: BoltContext, client: WebClient, change: Callable[[Click], None]
) -> None:
    """Apply `change` to the clicked item, then redraw the message in place."""
    action = body["actions"][0]
    ref = parse_ref(action.get("block_id", ""))
    if ref is None:
        return
    deps = deps_of(context)
    team_id, user_id = team_of(body), body["user"]["id"]
    now = utcnow()
    with deps.db.begin() as session:
        calendar = _calendar(session, deps, team_id, user_id)
        change(Click(session, ref, action, calendar, now, team_id, user_id, deps))
        message = redrawn(session, deps, team_id=team_id, outbox_id=ref.outbox_id, now=now)
    _redraw(client, body, message)
    refresh_home(context, team_id=team_id, user_id=user_id)


def _commitment(click: Click) -> Commitment | None:
    return followups.get_commitment(
        click.session, team_id=click.team_id, commitment_id=click.ref.subject_id
    )


def _done(click: Click) -> None:
    if click.ref.kind == "commitment":
        commitment = _commitment(click)
        if commitment is not None:
            followups.mark_done(
                click.session,
                commitment,
                user_id=click.user_id,
                today=click.calendar.today(click.now),
                now=click.now,
            )
    elif click.ref.kind == "checkin":
        checkin = click.session.scalar(
            select(CheckIn).where(
                CheckIn.team_id == click.team_id, CheckIn.id == click.ref.subject_id
            )
        )
        if checkin is not None:
            rhythm.mark_checkin_done(
                click.session,
                checkin,
                user_id=click.user_id,
                calendar=click.calendar,
                now=click.now,
            )


def done(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    _apply(body, context, client, _done)


def snooze_until(choice: str, calendar: WorkCalendar, now: datetime) -> datetime | None:
    """When a snooze ends; None for "pick a date", which asks in a modal."""
    if choice == "1h":
        return now + timedelta(hours=1)
    if choice == "3h":
        return now + timedelta(hours=3)
    if choice == "tomorrow":
        return calendar.opening(calendar.working_day_after(calendar.today(now), 1))
    if choice == "next_week":
        today = calendar.today(now)
        monday = today + timedelta(days=7 - today.weekday())
        return calendar.next_open(calendar.opening(monday))
    return None


def _snooze(click: Click) -> None:
    choice = (click.action.get("selected_option") or {}).get("value", "")
    until = snooze_until(choice, click.calendar, click.now)
    commitment = _commitment(click)
    if until is not None and commitment is not None and commitment.done_at is None:
        followups.snooze(click.session, commitment, until=until)


def snooze(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    action = body["actions"][0]
    if (action.get("selected_option") or {}).get("value") == "pick":
        container = body.get("container") or {}
        where = f"{container.get('channel_id', '')}|{container.get('message_ts', '')}"
        client.views_open(
            trigger_id=body["trigger_id"],
            view=render(
                "snooze_modal",
                callback_id=View.SNOOZE_UNTIL.value,
                metadata=f"{action.get('block_id', '')}|{where}",
            ),
        )
        return
    _apply(body, context, client, _snooze)


def _reassign(click: Click) -> None:
    new_owner = click.action.get("selected_user")
    commitment = _commitment(click)
    if new_owner and commitment is not None:
        owner_calendar = _calendar(click.session, click.deps, click.team_id, new_owner)
        followups.reassign(
            click.session, commitment, new_owner=new_owner, calendar=owner_calendar, now=click.now
        )


def reassign(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    _apply(body, context, client, _reassign)


def _qbr(click: Click) -> Qbr | None:
    return click.session.scalar(
        select(Qbr).where(Qbr.team_id == click.team_id, Qbr.id == click.ref.subject_id)
    )


def _review_asked(click: Click) -> date | None:
    """The review the clicked nudge is about: its slot is `<step>:<planned date>`."""
    nudge = click.session.get(Nudge, click.ref.nudge_id)
    if nudge is None or nudge.team_id != click.team_id:
        return None
    try:
        return date.fromisoformat(nudge.slot.partition(":")[2])
    except ValueError:
        return None


def _owner_calendar(click: Click, qbr: Qbr) -> WorkCalendar:
    return _calendar(click.session, click.deps, click.team_id, qbr.account.owner_id)


def _qbr_held(click: Click) -> None:
    qbr = _qbr(click)
    try:
        review_on = date.fromisoformat(click.action.get("value", ""))
    except ValueError:
        return
    if qbr is not None:
        calendar = _owner_calendar(click, qbr)
        rhythm.mark_qbr_held(
            qbr,
            review_on=review_on,
            today=calendar.today(click.now),
            calendar=calendar,
            now=click.now,
        )


def qbr_held(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    _apply(body, context, client, _qbr_held)


def _qbr_moved(click: Click) -> None:
    qbr, review_on = _qbr(click), _review_asked(click)
    try:
        to = date.fromisoformat(click.action.get("selected_date") or "")
    except ValueError:
        return
    if qbr is not None and review_on is not None:
        rhythm.move_qbr(
            qbr, review_on=review_on, to=to, calendar=_owner_calendar(click, qbr), now=click.now
        )


def qbr_moved(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    _apply(body, context, client, _qbr_moved)


def _qbr_skipped(click: Click) -> None:
    qbr, review_on = _qbr(click), _review_asked(click)
    if qbr is not None and review_on is not None:
        rhythm.mark_qbr_skipped(
            qbr, review_on=review_on, calendar=_owner_calendar(click, qbr), now=click.now
        )


def qbr_skipped(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    _apply(body, context, client, _qbr_skipped)


def _touched(click: Click) -> None:
    account = click.session.scalar(
        select(Account).where(Account.team_id == click.team_id, Account.id == click.ref.subject_id)
    )
    nudge = click.session.get(Nudge, click.ref.nudge_id)
    if account is None or nudge is None or nudge.team_id != click.team_id:
        return
    # A second click finds a touch already logged since this nudge: log no other.
    if account.last_touch_at is None or account.last_touch_at < nudge.created_at:
        rhythm.log_touch(
            click.session,
            account,
            user_id=click.user_id,
            note=None,
            now=click.now,
            calendar=click.calendar,
        )


def touched(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    _apply(body, context, client, _touched)


def ack_snooze_until(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext
) -> None:
    """Check the picked day before the modal closes, by the snooze's range rule, from the
    person's own today; a refusal shows under the picker."""
    picked = _picked_day(view)
    if picked is None:
        ack(response_action="errors", errors={"until": "Pick a day."})
        return
    deps, team_id, user_id = deps_of(context), team_of(body), body["user"]["id"]
    with deps.db() as session:
        today = _calendar(session, deps, team_id, user_id).today(utcnow())
        reader = day_reader(session, team_id=team_id, user_id=user_id, today=today)
    try:
        reader.check(picked, SNOOZE)
    except UsageError as refused:
        ack(response_action="errors", errors={"until": refused.problem})
        return
    ack()


def _picked_day(view: dict[str, Any]) -> date | None:
    value = Form.of(view).date("until", action="day")
    try:
        return date.fromisoformat(value or "")
    except ValueError:
        return None


def submit_snooze_until(
    view: dict[str, Any], body: dict[str, Any], context: BoltContext, client: WebClient
) -> None:
    block_id, _, rest = view.get("private_metadata", "").partition("|")
    channel_id, _, message_ts = rest.partition("|")
    ref = parse_ref(block_id)
    picked = _picked_day(view)
    if ref is None or picked is None:
        return
    deps = deps_of(context)
    team_id, user_id = team_of(body), body["user"]["id"]
    now = utcnow()
    with deps.db.begin() as session:
        calendar = _calendar(session, deps, team_id, user_id)
        commitment = followups.get_commitment(
            session, team_id=team_id, commitment_id=ref.subject_id
        )
        if commitment is not None and commitment.done_at is None:
            until = calendar.next_open(datetime.combine(picked, time(0, 0), tzinfo=calendar.tz))
            followups.snooze(session, commitment, until=max(until, now))
        message = redrawn(session, deps, team_id=team_id, outbox_id=ref.outbox_id, now=now)
    _redraw(client, {"container": {"channel_id": channel_id, "message_ts": message_ts}}, message)
    refresh_home(context, team_id=team_id, user_id=user_id)


def register(app: App) -> None:
    clicks_after_ack(
        app,
        {
            Action.NUDGE_DONE: done,
            Action.NUDGE_SNOOZE: snooze,
            Action.NUDGE_REASSIGN: reassign,
            Action.NUDGE_QBR_HELD: qbr_held,
            Action.NUDGE_QBR_MOVED: qbr_moved,
            Action.NUDGE_QBR_SKIPPED: qbr_skipped,
            Action.NUDGE_TOUCHED: touched,
        },
    )
    submissions_after_ack(app, {View.SNOOZE_UNTIL: (ack_snooze_until, submit_snooze_until)})
