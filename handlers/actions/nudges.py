"""Buttons on nudge DMs: Done, Snooze, Reassign, Mark held, I was in touch.

Each click is acked at once; the work runs after the ack (Bolt lazy listener) because
it ends in a Slack call that updates the message in place. Clicks are idempotent:
a second Done on a done commitment changes nothing and redraws the same message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import nudging
from bot.services import followups, rhythm
from bot.services.calendar import WorkCalendar
from bot.services.people import calendar_of
from handlers.context import Deps, deps_of, utcnow
from handlers.ids import View
from messages import render
from storage.models import Account
from storage.scheduling_models import CheckIn, Qbr


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
    return calendar_of(
        session,
        team_id=team_id,
        user_id=user_id,
        default_tz=deps.settings.default_tz,
        country=deps.settings.holiday_country,
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


def _apply(body: dict[str, Any], context: BoltContext, client: WebClient, change: Any) -> None:
    """Run `change(session, ref, calendar, now)` for the clicked item, then redraw."""
    action = body["actions"][0]
    ref = parse_ref(action.get("block_id", ""))
    if ref is None:
        return
    deps = deps_of(context)
    team_id, user_id = str(context.team_id), body["user"]["id"]
    now = utcnow()
    with deps.db.begin() as session:
        calendar = _calendar(session, deps, team_id, user_id)
        change(session, ref, action, calendar, now, team_id, user_id)
        message = nudging.rerender(session, team_id=team_id, outbox_id=ref.outbox_id, now=now)
    _redraw(client, body, message)


def done(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    def change(
        session: Session,
        ref: NudgeRef,
        action: dict[str, Any],
        calendar: WorkCalendar,
        now: datetime,
        team_id: str,
        user_id: str,
    ) -> None:
        if ref.kind == "commitment":
            commitment = followups.get_commitment(
                session, team_id=team_id, commitment_id=ref.subject_id
            )
            if commitment is not None:
                followups.mark_done(
                    session, commitment, user_id=user_id, today=calendar.today(now), now=now
                )
        elif ref.kind == "checkin":
            checkin = session.scalar(
                select(CheckIn).where(CheckIn.team_id == team_id, CheckIn.id == ref.subject_id)
            )
            if checkin is not None:
                rhythm.mark_checkin_done(
                    session, checkin, user_id=user_id, calendar=calendar, now=now
                )

    _apply(body, context, client, change)


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


def snooze(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    action = body["actions"][0]
    choice = (action.get("selected_option") or {}).get("value", "")
    if choice == "pick":
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

    def change(
        session: Session,
        ref: NudgeRef,
        action: dict[str, Any],
        calendar: WorkCalendar,
        now: datetime,
        team_id: str,
        user_id: str,
    ) -> None:
        until = snooze_until(choice, calendar, now)
        commitment = followups.get_commitment(
            session, team_id=team_id, commitment_id=ref.subject_id
        )
        if until is not None and commitment is not None and commitment.done_at is None:
            followups.snooze(session, commitment, until=until)

    _apply(body, context, client, change)


def reassign(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    def change(
        session: Session,
        ref: NudgeRef,
        action: dict[str, Any],
        calendar: WorkCalendar,
        now: datetime,
        team_id: str,
        user_id: str,
    ) -> None:
        new_owner = action.get("selected_user")
        commitment = followups.get_commitment(
            session, team_id=team_id, commitment_id=ref.subject_id
        )
        if new_owner and commitment is not None:
            owner_calendar = _calendar(session, deps_of(context), team_id, new_owner)
            followups.reassign(
                session, commitment, new_owner=new_owner, calendar=owner_calendar, now=now
            )

    _apply(body, context, client, change)


def qbr_held(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    def change(
        session: Session,
        ref: NudgeRef,
        action: dict[str, Any],
        calendar: WorkCalendar,
        now: datetime,
        team_id: str,
        user_id: str,
    ) -> None:
        qbr = session.scalar(select(Qbr).where(Qbr.team_id == team_id, Qbr.id == ref.subject_id))
        try:
            review_on = date.fromisoformat(action.get("value", ""))
        except ValueError:
            return
        if qbr is not None:
            rhythm.mark_qbr_held(
                qbr, review_on=review_on, today=calendar.today(now), calendar=calendar, now=now
            )

    _apply(body, context, client, change)


def touched(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    def change(
        session: Session,
        ref: NudgeRef,
        action: dict[str, Any],
        calendar: WorkCalendar,
        now: datetime,
        team_id: str,
        user_id: str,
    ) -> None:
        account = session.scalar(
            select(Account).where(Account.team_id == team_id, Account.id == ref.subject_id)
        )
        # A second click finds the nudge already closed: log only one touch for it.
        if account is not None and (
            account.last_touch_at is None or account.last_touch_at < now - timedelta(minutes=5)
        ):
            rhythm.log_touch(
                session, account, user_id=user_id, note=None, now=now, calendar=calendar
            )

    _apply(body, context, client, change)


def ack_snooze_until(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
    """Check the picked day before the modal closes; errors show under the picker."""
    picked = _picked_day(view)
    today = utcnow().astimezone(deps_of(context).settings.default_tz).date()
    if picked is None or picked <= today - timedelta(days=1):
        ack(response_action="errors", errors={"until": "Pick a day from today on."})
        return
    ack()


def _picked_day(view: dict[str, Any]) -> date | None:
    value = view["state"]["values"].get("until", {}).get("day", {}).get("selected_date")
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
    team_id, user_id = str(context.team_id), body["user"]["id"]
    now = utcnow()
    with deps.db.begin() as session:
        calendar = _calendar(session, deps, team_id, user_id)
        commitment = followups.get_commitment(
            session, team_id=team_id, commitment_id=ref.subject_id
        )
        if commitment is not None and commitment.done_at is None:
            until = calendar.next_open(datetime.combine(picked, time(0, 0), tzinfo=calendar.tz))
            followups.snooze(session, commitment, until=max(until, now))
        message = nudging.rerender(session, team_id=team_id, outbox_id=ref.outbox_id, now=now)
    _redraw(client, {"container": {"channel_id": channel_id, "message_ts": message_ts}}, message)
