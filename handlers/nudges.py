"""The reminder DM (a nudge) and its buttons: Done, Snooze (with the pick-a-day modal),
Reassign, Mark held, Moved to…, Skipped, I was in touch, Replied. One DM carries items
of every kind (follow-ups, QBRs, check-ins, quiet accounts, client questions waiting
for an answer); the check-in's rating is handlers/ratings.py.

Each click is acked at once; the work runs after the ack (Bolt lazy listener) because
it ends in a Slack call that updates the message in place. Clicks are idempotent:
a second Done on a done commitment changes nothing and redraws the same message. A
click on a reminder that no longer holds its item (a message from before a reset, an
item a newer reminder took over, a value this code does not write) changes nothing
and is answered with the one "this reminder is out of date" reply.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BeforeValidator, PlainSerializer
from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.scheduler import compose
from bot.services import followups, questions, rhythm
from bot.services.calendar import WorkCalendar
from bot.services.dates import SNOOZE
from bot.services.errors import UsageError
from bot.services.people import day_reader
from handlers.edge.after_ack import clicks_after_ack, submissions_after_ack
from handlers.edge.caller import team_of
from handlers.edge.context import Deps, deps_of, utcnow
from handlers.edge.forms import Form
from handlers.edge.home_tab import refresh_home
from handlers.edge.payloads import action_value
from messages import render
from messages.ids import REMINDER_OUT_OF_DATE, Action, HeldReview, NudgeRef, SnoozeChoice, View
from messages.payloads import Metadata, OutOfDate

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from storage.models import Commitment, Qbr


def _ref(raw: object) -> object:
    """A block id read into the item it names (anything else fails the payload)."""
    if isinstance(raw, NudgeRef):
        return raw
    ref = NudgeRef.parse(raw)
    if ref is None:
        raise ValueError("not a nudge item's block id")
    return ref


class SnoozeTarget(Metadata):
    """What the pick-a-day snooze modal carries: the item's block id, and where its
    message is to redraw it (`<block id>|<channel>|<ts>`; an empty channel or ts, when
    Slack sent none, leaves the message as it is)."""

    OUT_OF_DATE = REMINDER_OUT_OF_DATE
    SEPARATOR = "|"

    block_id: Annotated[NudgeRef, BeforeValidator(_ref), PlainSerializer(str)]
    channel_id: str
    message_ts: str


def redrawn(
    session: Session, deps: Deps, *, team_id: str, outbox_id: int, now: datetime
) -> dict[str, Any] | None:
    """The nudge message as it reads now, in its reader's days, after a change."""
    return compose.rerender(session, deps.settings, team_id=team_id, outbox_id=outbox_id, now=now)


def redraw(client: WebClient, channel_id: str, ts: str, message: dict[str, Any] | None) -> None:
    """Update the nudge message in place (nothing to do without it, or without where it is)."""
    if message is None or not channel_id or not ts:
        return
    client.chat_update(channel=channel_id, ts=ts, text=message["text"], blocks=message["blocks"])


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


def clicked_item(action: dict[str, Any]) -> NudgeRef:
    """The item a reminder's button is on (its block id); OutOfDate if none reads."""
    ref = NudgeRef.parse(action.get("block_id"))
    if ref is None:
        raise OutOfDate(REMINDER_OUT_OF_DATE)
    return ref


def still_held(session: Session, team_id: str, ref: NudgeRef) -> None:
    """OutOfDate unless the reminder still holds the item `ref` names."""
    if not compose.holds(session, team_id=team_id, ref=ref):
        raise OutOfDate(REMINDER_OUT_OF_DATE)


def apply_click(
    body: dict[str, Any], context: BoltContext, client: WebClient, change: Callable[[Click], None]
) -> None:
    """Apply `change` to the clicked item, then redraw the message in place."""
    action = body["actions"][0]
    ref = clicked_item(action)
    container = body.get("container") or {}
    where = (container.get("channel_id", ""), container.get("message_ts", ""))
    _change(body, context, client, ref, where, change, action)


def _change(
    body: dict[str, Any],
    context: BoltContext,
    client: WebClient,
    ref: NudgeRef,
    where: tuple[str, str],
    change: Callable[[Click], None],
    action: dict[str, Any],
) -> None:
    """Apply `change` to the item `ref` names, then redraw its message (in the channel
    and at the ts of `where`) and the clicker's App Home; an item the reminder no longer
    holds is out of date, and nothing is changed."""
    deps = deps_of(context)
    team_id, user_id = team_of(body), body["user"]["id"]
    now = utcnow()
    with deps.db.begin() as session:
        still_held(session, team_id, ref)
        calendar = deps.calendar_of(session, team_id=team_id, user_id=user_id)
        change(Click(session, ref, action, calendar, now, team_id, user_id, deps))
        message = redrawn(session, deps, team_id=team_id, outbox_id=ref.outbox_id, now=now)
    redraw(client, *where, message)
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
        checkin = rhythm.checkin_by_id(
            click.session, team_id=click.team_id, checkin_id=click.ref.subject_id
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
    apply_click(body, context, client, _done)


def snooze(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    chosen = SnoozeChoice.parse(action_value(body)).choice
    if chosen == "pick":
        _ask_for_day(body, context, client)
        return

    def snooze_for(click: Click) -> None:
        until = followups.snooze_until(chosen, click.calendar, click.now)
        commitment = _commitment(click)
        if until is not None and commitment is not None and commitment.done_at is None:
            followups.snooze(click.session, commitment, until=until)

    apply_click(body, context, client, snooze_for)


def _ask_for_day(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Snooze's "Pick a date…": the modal that asks for the day."""
    ref = clicked_item(body["actions"][0])
    with deps_of(context).db() as session:
        still_held(session, team_of(body), ref)
    container = body.get("container") or {}
    target = SnoozeTarget(
        block_id=ref,
        channel_id=container.get("channel_id", ""),
        message_ts=container.get("message_ts", ""),
    )
    client.views_open(
        trigger_id=body["trigger_id"],
        view=render("snooze_modal", callback_id=View.SNOOZE_UNTIL.value, metadata=target.dump()),
    )


def _reassign(click: Click) -> None:
    new_owner = click.action.get("selected_user")
    commitment = _commitment(click)
    if new_owner and commitment is not None:
        owner_calendar = click.deps.calendar_of(
            click.session, team_id=click.team_id, user_id=new_owner
        )
        followups.reassign(
            click.session, commitment, new_owner=new_owner, calendar=owner_calendar, now=click.now
        )


def reassign(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    apply_click(body, context, client, _reassign)


def _qbr(click: Click) -> Qbr | None:
    return rhythm.qbr_by_id(click.session, team_id=click.team_id, qbr_id=click.ref.subject_id)


def _review_asked(click: Click) -> date | None:
    return rhythm.review_asked(click.session, team_id=click.team_id, nudge_id=click.ref.nudge_id)


def _owner_calendar(click: Click, qbr: Qbr) -> WorkCalendar:
    return click.deps.calendar_of(
        click.session, team_id=click.team_id, user_id=qbr.account.owner_id
    )


def _qbr_held(click: Click) -> None:
    qbr = _qbr(click)
    review_on = HeldReview.parse(click.action.get("value")).review_on
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
    apply_click(body, context, client, _qbr_held)


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
    apply_click(body, context, client, _qbr_moved)


def _qbr_skipped(click: Click) -> None:
    qbr, review_on = _qbr(click), _review_asked(click)
    if qbr is not None and review_on is not None:
        rhythm.mark_qbr_skipped(
            qbr, review_on=review_on, calendar=_owner_calendar(click, qbr), now=click.now
        )


def qbr_skipped(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    apply_click(body, context, client, _qbr_skipped)


def _touched(click: Click) -> None:
    rhythm.log_touch_for_nudge(
        click.session,
        team_id=click.team_id,
        account_id=click.ref.subject_id,
        nudge_id=click.ref.nudge_id,
        user_id=click.user_id,
        now=click.now,
        calendar=click.calendar,
    )


def touched(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    apply_click(body, context, client, _touched)


def _replied(click: Click) -> None:
    question = questions.question_by_id(
        click.session, team_id=click.team_id, question_id=click.ref.subject_id
    )
    # The clock runs in the owner's working hours, whoever clicks.
    owner = click.deps.calendar_of(click.session, team_id=click.team_id, user_id=question.owner_id)
    questions.mark_replied(
        click.session, question, user_id=click.user_id, calendar=owner, now=click.now
    )


def replied(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    apply_click(body, context, client, _replied)


def picked_snooze_day(body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> date:
    """The day picked in a pick-a-day snooze modal (the reminder's or App Home's), held
    to the snooze's range from the person's own today; a UsageError if there is none
    or it is out of range."""
    picked = _picked_day(view)
    if picked is None:
        raise UsageError("Pick a day.")
    deps, team_id, user_id = deps_of(context), team_of(body), body["user"]["id"]
    with deps.db() as session:
        today = deps.calendar_of(session, team_id=team_id, user_id=user_id).today(utcnow())
        reader = day_reader(session, team_id=team_id, user_id=user_id, today=today)
    reader.check(picked, SNOOZE)
    return picked


def ack_snooze_until(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext
) -> None:
    """Check the picked day before the modal closes; a refusal shows under the picker
    (and the work after the ack, which runs all the same, snoozes nothing)."""
    try:
        picked_snooze_day(body, view, context)
    except UsageError as refused:
        ack(response_action="errors", errors={"until": refused.problem})
        return
    ack()


def ack_reminder_snooze(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext
) -> None:
    """The reminder's pick-a-day modal: an item the reminder no longer holds is out of
    date (said under the picker by the error path), and the day is checked as above."""
    target = SnoozeTarget.parse(view.get("private_metadata"))
    with deps_of(context).db() as session:
        still_held(session, team_of(body), target.block_id)
    ack_snooze_until(ack, body, view, context)


def _picked_day(view: dict[str, Any]) -> date | None:
    value = Form.of(view).date("until", action="day")
    try:
        return date.fromisoformat(value or "")
    except ValueError:
        return None


def submit_snooze_until(
    view: dict[str, Any], body: dict[str, Any], context: BoltContext, client: WebClient
) -> None:
    """The day picked for a reminder's follow-up. What its ack refused (the day, or an
    item the reminder no longer holds) changes nothing here: the modal said so."""
    try:
        target = SnoozeTarget.parse(view.get("private_metadata"))
        picked = picked_snooze_day(body, view, context)
    except (OutOfDate, UsageError):
        return

    def snooze_to_day(click: Click) -> None:
        commitment = _commitment(click)
        if commitment is not None and commitment.done_at is None:
            until = followups.snooze_until_day(picked, click.calendar, click.now)
            followups.snooze(click.session, commitment, until=until)

    where = (target.channel_id, target.message_ts)
    with contextlib.suppress(OutOfDate):  # the ack said so, in the modal
        _change(body, context, client, target.block_id, where, snooze_to_day, {})


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
            Action.NUDGE_REPLIED: replied,
        },
    )
    submissions_after_ack(app, {View.SNOOZE_UNTIL: (ack_reminder_snooze, submit_snooze_until)})
