"""Client questions on the reply clock: `/followup ACCOUNT they asked: …` (read in
handlers/followups.py, recorded here), `/followup ACCOUNT replied`, the team's norm
(`/followup norm: 3h`, for workspace admins), the *Reply owed* message shortcut and
its form, and Replied on the answer to the command. Replied on the reminder DM is
handlers/nudges.py, with the DM's other buttons."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field, ValidationError
from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.services import questions
from bot.services.accounts import get_account, resolve_account
from bot.services.errors import UsageError
from bot.services.fields import reads_as_nothing
from bot.slackapi.roles import is_workspace_admin
from handlers.edge.accounts import account_read, modal_account, read_account_of, with_new_account
from handlers.edge.after_ack import ack_only, clicks_after_ack, later
from handlers.edge.caller import team_of
from handlers.edge.context import Deps, caller_calendar, deps_of, owner_calendar, utcnow
from handlers.edge.forms import Form
from handlers.edge.home_tab import refresh_home
from handlers.edge.payloads import action_value
from handlers.edge.replies import ephemeral
from handlers.rhythm import permalink
from messages import render
from messages.ids import Action, QuestionButton, View
from messages.payloads import Metadata

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

COMMAND = "/followup"
SHORTCUT_ID = "reply_owed"
# Words a rep puts between the account and `asked:` that say who asked, not what.
_ASKERS = ("they", "the client", "client", "the buyer", "buyer")


def account_part(head: str) -> str:
    """The account, from what comes before `asked:`: `Acme Corp they` is Acme Corp (the
    words that say the client asked are left off; nothing at all: the channel's)."""
    words = head.split()
    for asker in _ASKERS:
        said = asker.split()
        if [w.casefold() for w in words[-len(said) :]] == said:
            return " ".join(words[: -len(said)])
    return " ".join(words)


# A reply to a command about questions, and whose App Home it changes: the owners of
# the questions it put on the clock or stopped (refreshed once the change is committed).
Said = tuple[dict[str, Any], set[str]]


def record(
    session: Session, command: dict[str, str], deps: Deps, *, head: str, asked: str, now: datetime
) -> Said:
    """`/followup ACCOUNT they asked: …`: the question on the owner's clock, and the
    reply saying by when, counted how, and who is reminded."""
    if reads_as_nothing(asked):
        # `asked: none` is no question: nothing goes on the clock.
        said = f" (I read “{asked.strip()[:40]}”)" if asked.strip() else ""
        raise UsageError(f"Say what they asked, after `asked:`{said}.", usage=COMMAND, key="asked")
    # Only the account comes before `asked:`, so a new name of two words is one name.
    reading = read_account_of(session, command, account_part(head), usage=COMMAND, whole=True)
    account = account_read(session, command, reading, now=now)
    recorded = questions.ask(
        session,
        account,
        questions.Asked(asked, now, command["user_id"]),
        calendar=owner_calendar(session, deps, account),
        norm_minutes=questions.team_norm(session, team_id=team_of(command)),
        now=now,
    )
    message = render(
        "question_recorded",
        recorded=recorded,
        reader=command["user_id"],
        tz=caller_calendar(session, deps, command).tz,
        now=now,
        buttons=True,
    )
    return with_new_account(message, reading), {recorded.question.owner_id}


def replied(
    session: Session, command: dict[str, str], deps: Deps, *, head: str, now: datetime
) -> Said:
    """`/followup ACCOUNT replied`: every question of the account still waiting, answered."""
    reading = read_account_of(session, command, head, usage=COMMAND, creates=False)
    account = get_account(session, team_id=team_of(command), name=reading.name)
    answered = questions.reply_to_all(
        session,
        account,
        user_id=command["user_id"],
        calendar=owner_calendar(session, deps, account),
        now=now,
    )
    message = render("question_replied", answered=answered, again=False)
    return message, {question.owner_id for question in answered}


def norm(ack: Ack, command: dict[str, str], context: BoltContext, typed: str) -> None:
    """`/followup norm:` shows the team's reply norm; `norm: 3h` changes it, for a
    workspace admin: a users.info call, made after the ack (as the MESO tolerance)."""
    deps = deps_of(context)
    if not typed.strip():
        with deps.db() as session:
            current = questions.team_norm(session, team_id=team_of(command))
        ack(**ephemeral(render("reply_norm", minutes=current, state="shown")))
        return
    minutes = questions.read_norm(typed)
    respond = context.respond
    later(context, command, lambda client: _set_norm(client, minutes, command, deps, respond))
    ack(**ephemeral(render("reply_norm", minutes=minutes, state="checking")))


def _set_norm(
    client: WebClient, minutes: int, command: dict[str, str], deps: Deps, respond: Respond | None
) -> None:
    """Runs after the ack; a refusal reaches the user through after_ack's error path."""
    admin = is_workspace_admin(client, command["user_id"])
    with deps.db.begin() as session:
        questions.set_team_norm(
            session,
            team_id=team_of(command),
            minutes=minutes,
            user_id=command["user_id"],
            is_workspace_admin=admin,
            now=utcnow(),
        )
    message = render("reply_norm", minutes=minutes, state="changed")
    if respond is not None:
        respond(text=message["text"], blocks=message["blocks"], response_type="ephemeral")


def replied_clicked(body: dict[str, Any], context: BoltContext, respond: Respond) -> None:
    """Replied, on the answer to the command: the clock stops, the answer says how long
    it took (or that someone stopped it already)."""
    clicked = QuestionButton.parse(action_value(body))
    deps, now, team_id = deps_of(context), utcnow(), team_of(body)
    with deps.db.begin() as session:
        question = questions.question_by_id(
            session, team_id=team_id, question_id=clicked.question_id
        )
        calendar = owner_calendar(session, deps, question.account)
        stopped = questions.mark_replied(
            session, question, user_id=body["user"]["id"], calendar=calendar, now=now
        )
        message = render(
            "question_replied", answered=[questions.QuestionShown.of(question)], again=not stopped
        )
        owner = question.owner_id
    respond(text=message["text"], blocks=message["blocks"], replace_original=True)
    refresh_home(context, team_id=team_id, user_id=owner)


# --- the *Reply owed* message shortcut ------------------------------------------------


class OwedMessage(Metadata):
    """The Reply owed form's private_metadata: where the client's message is, and its
    timestamp (when they asked: the clock counts from it)."""

    OUT_OF_DATE = "This form is out of date. Open it again from the message: Reply owed."

    # As Slack writes them, so the link built from them is one to Slack and nothing else.
    channel_id: Annotated[str, Field(pattern=r"^[CGD][A-Z0-9]{2,31}$")] | None = None
    message_ts: Annotated[str, Field(pattern=r"^\d{1,12}\.\d{1,9}$")]

    @classmethod
    def of(cls, body: dict[str, Any]) -> OwedMessage:
        """Where the shortcut was used: a message Slack describes in a shape this does
        not read starts the clock now, without a link."""
        message = body.get("message") or {}
        try:
            return cls(
                channel_id=(body.get("channel") or {}).get("id") or None,
                message_ts=str(message.get("ts") or ""),
            )
        except ValidationError:
            return cls(message_ts=f"{utcnow().timestamp():.6f}")

    @property
    def asked_at(self) -> datetime:
        try:
            return datetime.fromtimestamp(float(self.message_ts), UTC)
        except (ValueError, OverflowError):
            return utcnow()

    @property
    def link(self) -> str | None:
        return permalink(self.channel_id, self.message_ts) if self.channel_id else None


def open_reply_owed(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """The form: the channel's account filled in, the message as the question."""
    message = body.get("message") or {}
    owed = OwedMessage.of(body)
    deps, team_id = deps_of(context), team_of(body)
    with deps.db() as session:
        try:
            linked = resolve_account(session, team_id=team_id, text="", channel_id=owed.channel_id)
        except UsageError:  # a channel of several accounts: the rep names one
            linked = None
        tz = deps.calendar_of(session, team_id=team_id, user_id=body["user"]["id"]).tz
        norm_minutes = questions.team_norm(session, team_id=team_id)
    client.views_open(
        trigger_id=body["trigger_id"],
        view=render(
            "reply_owed_modal",
            callback_id=View.REPLY_OWED.value,
            metadata=owed.dump(),
            account=linked.name if linked is not None else "",
            question=str(message.get("text") or ""),
            asked_at=owed.asked_at,
            tz=tz,
            norm=norm_minutes,
        ),
    )


def submit_reply_owed(
    ack: Ack, view: dict[str, Any], body: dict[str, Any], context: BoltContext
) -> None:
    """Put the question on the clock; the form then says by when (or, under a field,
    what is wrong with it: nothing is saved)."""
    owed = OwedMessage.parse(view.get("private_metadata"))
    inputs = Form.of(view)
    deps, now = deps_of(context), utcnow()
    team_id, user_id = team_of(body), body["user"]["id"]
    with deps.db.begin() as session:
        reading = modal_account(
            session,
            team_id=team_id,
            text=inputs.text("account") or "",
            field="account",
            creates=False,
        )
        account = get_account(session, team_id=team_id, name=reading.name)
        try:
            question = questions.clean_question(inputs.text("question", lines=True) or "")
        except UsageError as error:
            raise UsageError(error.problem, field="question") from None
        recorded = questions.ask(
            session,
            account,
            questions.Asked(question, owed.asked_at, user_id, owed.link),
            calendar=owner_calendar(session, deps, account),
            norm_minutes=questions.team_norm(session, team_id=team_id),
            now=now,
        )
        message = render(
            "question_recorded",
            recorded=recorded,
            reader=user_id,
            tz=deps.calendar_of(session, team_id=team_id, user_id=user_id).tz,
            now=now,
            buttons=False,
        )
    title = "Already on the clock" if recorded.already else "On the clock"
    ack(response_action="update", view=render("notice_modal", title=title, message=message))
    refresh_home(context, team_id=team_id, user_id=recorded.question.owner_id)


def register(app: App) -> None:
    app.shortcut(SHORTCUT_ID)(ack=ack_only, lazy=[open_reply_owed])
    app.view(View.REPLY_OWED.value)(submit_reply_owed)
    clicks_after_ack(app, {Action.QUESTION_REPLIED: replied_clicked})
