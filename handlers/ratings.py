"""The buyer's rating from a check-in nudge: a button opens a modal, a score button
marks the choice (the modal is redrawn), submitting records it and redraws the nudge.

Opening and redrawing call Slack, so those listeners run after the ack (Bolt lazy
listeners), like the other nudge buttons. The submission is checked in the ack, so a
problem shows in the open modal and nothing is written.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import AfterValidator
from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.services import ratings
from bot.services.calendar import WorkCalendar
from bot.services.errors import UsageError, UserFacingError
from handlers.edge.after_ack import ack_only, clicks_after_ack, submissions_after_ack
from handlers.edge.caller import team_of
from handlers.edge.context import deps_of, utcnow
from handlers.edge.forms import Form
from handlers.nudges import Click, apply_click, clicked_item, redraw, redrawn, still_held
from messages import render
from messages.ids import (
    RATING_SCORE_PREFIX,
    REMINDER_OUT_OF_DATE,
    Action,
    NudgeRef,
    RatingBlock,
    RecoveryButton,
    View,
)
from messages.payloads import Metadata, OutOfDate
from storage.models import RatingKind

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

log = logging.getLogger("rapport.ratings")


# What the modal shows reads back as shown: a lone surrogate (Slack's JSON can carry
# one) is the replacement character, as the template writes it.
_SURROGATES = re.compile("[\ud800-\udfff]")
_Shown = Annotated[str, AfterValidator(lambda text: _SURROGATES.sub("\ufffd", text))]


class RatingForm(Metadata):
    """What the modal carries between clicks, in its private_metadata (JSON)."""

    OUT_OF_DATE = "This form is out of date. Ask for the rating again."

    # The nudge item's buttons: `act:<outbox>:checkin:<id>:<nudge>` (messages.ids.NudgeRef).
    block_id: str
    channel_id: str
    message_ts: str
    account_name: _Shown
    label: _Shown
    score: int | None = None

    def __init__(self, *fields: Any, **named: Any) -> None:
        # Also positionally, in the order above, as when it was a dataclass.
        super().__init__(**dict(zip(type(self).model_fields, fields, strict=False)), **named)


# The ids the modal and its inputs carry (messages/ids.py).
_IDS = {"callback_id": View.BUYER_RATING, "blocks": RatingBlock, "prefix": RATING_SCORE_PREFIX}


def rating_modal(
    form: RatingForm, *, kind: str, contact_on: date, warning: str | None = None
) -> dict[str, Any]:
    """The modal showing `form` (its score marked), the question `kind` picked."""
    shown = {"form": form, "metadata": form.dump(), "kind": kind, "contact_on": contact_on}
    return render("rating_modal", warning=warning, **shown, **_IDS)


def _calendar(session: Session, context: BoltContext, team_id: str, user_id: str) -> WorkCalendar:
    return deps_of(context).calendar_of(session, team_id=team_id, user_id=user_id)


# --- the button on the nudge ---------------------------------------------------------


def open_rating(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    action = body["actions"][0]
    ref = clicked_item(action)
    if ref.kind != "checkin":
        raise OutOfDate(REMINDER_OUT_OF_DATE)
    container = body.get("container") or {}
    channel_id, ts = container.get("channel_id", ""), container.get("message_ts", "")
    team_id, user_id = team_of(body), body["user"]["id"]
    now = utcnow()
    with deps_of(context).db.begin() as session:
        still_held(session, team_id, ref)
        checkin = ratings.checkin_to_rate(session, team_id=team_id, checkin_id=ref.subject_id)
        if checkin is None:
            return
        if ratings.rating_for_checkin(session, team_id=team_id, checkin_id=checkin.checkin_id):
            # Already recorded (a second click on an old copy): show it, ask nothing.
            message = redrawn(
                session, deps_of(context), team_id=team_id, outbox_id=ref.outbox_id, now=now
            )
            modal = None
        else:
            form = RatingForm(
                block_id=action["block_id"],
                channel_id=channel_id,
                message_ts=ts,
                account_name=checkin.account_name,
                label=checkin.label,
            )
            today = _calendar(session, context, team_id, user_id).today(now)
            modal = rating_modal(form, kind=RatingKind.CSAT.value, contact_on=today)
    if modal is None:
        redraw(client, channel_id, ts, message)
        return
    client.views_open(trigger_id=body["trigger_id"], view=modal)


# --- inside the modal ------------------------------------------------------------------


def _kind(values: Form) -> str | None:
    value = values.option(RatingBlock.KIND.value)
    return value if value in (RatingKind.CSAT.value, RatingKind.NPS.value) else None


def _contact_on(values: Form) -> date | None:
    picked = values.date(RatingBlock.CONTACT.value)
    try:
        return date.fromisoformat(picked) if isinstance(picked, str) else None
    except ValueError:
        return None


def choose_score(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """A score button: redraw the modal with that score marked, keeping what was typed."""
    view = body.get("view") or {}
    raw = str(body["actions"][0].get("action_id", "")).removeprefix(RATING_SCORE_PREFIX)
    if not raw.isdigit() or not 0 <= int(raw) <= 10:
        return
    try:
        form = RatingForm.parse(view.get("private_metadata")).model_copy(update={"score": int(raw)})
    except OutOfDate:
        return
    values = Form.of(view)
    contact_on = _contact_on(values) or _today(context, body)
    modal = rating_modal(form, kind=_kind(values) or RatingKind.CSAT.value, contact_on=contact_on)
    try:
        # No hash: with quick clicks the last one should win, not fail.
        client.views_update(view_id=view["id"], view=modal)
    except SlackApiError as error:
        log.info("views.update failed: %s", error.response.get("error"))


@dataclass(frozen=True)
class RatingAnswer:
    form: RatingForm
    kind: str
    score: int
    contact_on: date


def parse_answer(view: dict[str, Any], today: date) -> RatingAnswer:
    """The submitted modal; a problem names the input it is about (or none: the score)."""
    form = RatingForm.parse(view.get("private_metadata"))
    values = Form.of(view)
    kind = _kind(values)
    if kind is None:
        raise UsageError("Pick the question you asked.", field=RatingBlock.KIND.value)
    contact_on = _contact_on(values)
    if contact_on is None:
        raise UsageError("Pick the day you last spoke.", field=RatingBlock.CONTACT.value)
    if form.score is None:
        raise UsageError("Click the score they gave before you record it.")
    try:
        ratings.check_rating(kind, form.score, contact_on, today)
    except UsageError as error:
        raise UsageError(error.problem, field=RatingBlock.CONTACT.value) from None
    return RatingAnswer(form, kind, form.score, contact_on)


def _today(context: BoltContext, body: dict[str, Any]) -> date:
    team_id, user_id = team_of(body), body["user"]["id"]
    with deps_of(context).db() as session:
        return _calendar(session, context, team_id, user_id).today(utcnow())


def ack_rating(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    """Check the answer before the modal closes; nothing is written until it is right."""
    try:
        parse_answer(view, _today(context, body))
    except UsageError as error:
        if error.field:
            ack(response_action="errors", errors={error.field: error.problem})
            return
        form = RatingForm.parse(view.get("private_metadata"))
        values = Form.of(view)
        modal = rating_modal(
            form,
            kind=_kind(values) or RatingKind.CSAT.value,
            contact_on=_contact_on(values) or _today(context, body),
            warning=error.problem,
        )
        ack(response_action="update", view=modal)
        return
    ack()


def submit_rating(
    body: dict[str, Any], view: dict[str, Any], context: BoltContext, client: WebClient
) -> None:
    team_id, user_id = team_of(body), body["user"]["id"]
    now = utcnow()
    try:
        answer = parse_answer(view, _today(context, body))
    except (UserFacingError, OutOfDate):
        return  # the ack showed the problem
    ref = NudgeRef.parse(answer.form.block_id)
    if ref is None or ref.kind != "checkin":
        return
    with deps_of(context).db.begin() as session:
        checkin = ratings.checkin_to_rate(session, team_id=team_id, checkin_id=ref.subject_id)
        if checkin is None:
            return
        ratings.record_rating(
            session,
            team_id=team_id,
            account_id=checkin.account_id,
            kind=answer.kind,
            score=answer.score,
            contact_on=answer.contact_on,
            checkin_id=checkin.checkin_id,
            user_id=user_id,
            now=now,
            calendar=_calendar(session, context, team_id, user_id),
        )
        message = redrawn(
            session, deps_of(context), team_id=team_id, outbox_id=ref.outbox_id, now=now
        )
    redraw(client, answer.form.channel_id, answer.form.message_ts, message)


# --- after a low score: its follow-up, one click away ---------------------------------


def record_recovery(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Record a follow-up: the recovery a low score calls for, due the next working day."""
    apply_click(body, context, client, _recover)


def _recover(click: Click) -> None:
    button = RecoveryButton.parse(click.action.get("value"))
    if click.ref.kind != "checkin":
        raise OutOfDate(REMINDER_OUT_OF_DATE)
    ratings.record_recovery_followup(
        click.session,
        button.rating_id,
        click.ref.subject_id,
        team_id=click.team_id,
        user_id=click.user_id,
        calendar=click.calendar,
        now=click.now,
    )


def register(app: App) -> None:
    clicks_after_ack(app, {Action.NUDGE_RATE: open_rating, Action.NUDGE_RECOVERY: record_recovery})
    # The 0-10 buttons in the rating modal: one action_id per score.
    app.action(re.compile(rf"^{RATING_SCORE_PREFIX}\d+$"))(ack=ack_only, lazy=[choose_score])
    submissions_after_ack(app, {View.BUYER_RATING: (ack_rating, submit_rating)})
