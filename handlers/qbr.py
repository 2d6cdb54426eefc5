"""QBRs: /rapport qbr (schedule the next review, mark it held, or see where it stands),
and the buttons of "which review took place?", asked when a QBR is marked held far
from its planned date: the planned one (held early or late), or an extra one today.

The buttons are acked at once; the answer replaces the question through response_url.
A click on a question whose review has been answered since changes nothing and says so.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.services import account_state, governance, review_cadence, rhythm
from bot.services.accounts import AccountShown, get_account
from bot.services.calendar import WorkCalendar, whose_calendar
from bot.services.dates import QBR
from bot.services.errors import UsageError, UserFacingError
from bot.services.rhythm import QbrShown
from handlers.edge.accounts import account_read, read_account_of, with_new_account
from handlers.edge.after_ack import clicks_after_ack, learn_person
from handlers.edge.caller import team_of
from handlers.edge.context import caller_calendar, caller_reader, deps_of, owner_calendar, utcnow
from handlers.edge.home_tab import refresh_home
from handlers.edge.parsing import ask_for_colons, split_keyed
from handlers.edge.payloads import action_value
from handlers.edge.replies import ephemeral, replace_clicked, reply_below
from handlers.governance import plan_saved
from messages import render
from messages.formats import relative_day
from messages.ids import AccountButton, Action, ReviewAnswer
from storage.models import Account, Qbr, QbrCadence

QBR_USAGE = "/rapport qbr"
CADENCES = {
    "quarter": QbrCadence.QUARTER,
    "quarterly": QbrCadence.QUARTER,
    "month": QbrCadence.MONTH,
    "monthly": QbrCadence.MONTH,
}


def _answer(
    ack: Ack, body: dict[str, Any], context: BoltContext, respond: Respond, *, extra: bool
) -> None:
    ack()
    answer = ReviewAnswer.parse(action_value(body))
    qbr_id, planned = answer.qbr_id, answer.planned
    deps, now, team_id = deps_of(context), utcnow(), team_of(body)
    with deps.db.begin() as session:
        qbr = rhythm.qbr_by_id(session, team_id=team_id, qbr_id=qbr_id)
        if qbr is None or qbr.next_on != planned:
            raise UserFacingError(ReviewAnswer.OUT_OF_DATE)
        calendar = owner_calendar(session, deps, qbr.account)
        today = calendar.today(now)
        if extra:
            rhythm.note_extra_review(qbr, today=today)
        else:
            rhythm.mark_qbr_held(qbr, review_on=planned, today=today, calendar=calendar, now=now)
        message = qbr_reply(
            qbr,
            qbr.account,
            calendar,
            now,
            held=planned if not extra else None,
            reader_id=body["user"]["id"],
            extra=extra,
        )
    replace_clicked(respond, message)
    refresh_home(context, team_id=team_id, user_id=body["user"]["id"])


def held_planned(ack: Ack, body: dict[str, Any], context: BoltContext, respond: Respond) -> None:
    _answer(ack, body, context, respond, extra=False)


def held_extra(ack: Ack, body: dict[str, Any], context: BoltContext, respond: Respond) -> None:
    _answer(ack, body, context, respond, extra=True)


def qbr_reply(
    qbr: Qbr,
    account: Account,
    calendar: WorkCalendar,
    now: datetime,
    *,
    held: date | None,
    reader_id: str,
    extra: bool = False,
    fit: review_cadence.CadenceFit | None = None,
) -> dict[str, Any]:
    """The reply to scheduling a QBR or holding the one planned for `held`: when the
    next is, and when the owner will hear of it (the reminders still ahead, each on
    one of their working days); with `fit`, the governance plan's cadence beside it."""
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
        qbr=QbrShown.of(qbr),
        account=AccountShown.of(account),
        held=held,
        extra=extra,
        on_schedule=held is not None and rhythm.held_on_schedule(held, today),
        ahead=rhythm.reminders_ahead(qbr, calendar, now),
        short_notice=qbr.lead_days < rhythm.QBR_LEAD_DAYS,
        asked_on=rhythm.asked_on(qbr, calendar),
        day_off=calendar.why_not_working(qbr.next_on, whose=whose),
        reader_is_owner=reader_id == account.owner_id,
        when=relative_day(qbr.next_on, today),
        fit=fit,
        align_action=Action.QBR_ALIGN,
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
            ask_for_colons("qbr", args, ("next", "every"), QBR_USAGE, account=typed_account)
        if scheduling:
            account = account_read(session, command, reading, now=now)
            # Read from the typist's today, in their locale; the QBR then follows the
            # owner's working days.
            day = caller_reader(
                session, caller_calendar(session, deps, command), command, now
            ).read(parts.fields["next"], QBR, usage=QBR_USAGE)
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
            # A rhythm set by hand may leave the plan agreed with the buyer: say so.
            fit = review_cadence.cadence_fit(
                session, team_id=account.team_id, account_id=account.id
            )
            reply = qbr_reply(
                review, account, calendar, now, held=None, reader_id=command["user_id"], fit=fit
            )
            message = with_new_account(reply, reading)
            learn_person(context, command, now=now)
        else:
            account = get_account(session, team_id=team_of(command), name=reading.name)
            calendar = owner_calendar(session, deps, account)
            review_or_none = rhythm.live_qbr(session, account)
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
                        qbr=QbrShown.of(review_or_none),
                        account=AccountShown.of(account),
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


def align_with_plan(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Line the QBR rhythm up with the governance plan (a button on the saved plan and on
    the account card), then say so where it was clicked: the plan's modal is redrawn,
    a message gets a reply under it with the next review and its reminders."""
    target = AccountButton.parse(action_value(body))
    deps, now, team_id, user_id = deps_of(context), utcnow(), team_of(body), body["user"]["id"]
    in_modal = bool(body.get("view"))
    with deps.db.begin() as session:
        owner = governance.shown_by_id(session, team_id=team_id, account_id=target.account_id)
        calendar = deps.calendar_of(session, team_id=team_id, user_id=owner.owner_id)
        aligned = review_cadence.align_qbr(
            session,
            team_id=team_id,
            account_id=owner.id,
            user_id=user_id,
            calendar=calendar,
            now=now,
        )
        account = AccountShown.of(aligned.account)
        if in_modal:
            modal = plan_saved(
                governance.governance_view(session, team_id=team_id, account=account), aligned.fit
            )
        else:
            scheduled = qbr_reply(
                aligned.qbr, aligned.account, calendar, now, held=None, reader_id=user_id
            )
            message = render(
                "qbr_aligned",
                fit=aligned.fit,
                was=aligned.was,
                changed=aligned.changed,
                account=account,
                scheduled=scheduled,
            )
    if in_modal:
        client.views_update(view_id=body["view"]["id"], view=modal)
    elif context.respond is not None:
        reply_below(context.respond, message)
    refresh_home(context, team_id=team_id, user_id=user_id)


# /rapport subcommand -> listener (handlers/rapport.py routes them).
SUBCOMMANDS = {"qbr": qbr}


def register(app: App) -> None:
    app.action(Action.QBR_HELD_PLANNED.value)(held_planned)
    app.action(Action.QBR_HELD_EXTRA.value)(held_extra)
    clicks_after_ack(app, {Action.QBR_ALIGN: align_with_plan})
