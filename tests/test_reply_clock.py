"""Client questions on the reply clock, through the real app: `/followup ACCOUNT they
asked: …` and the *Reply owed* shortcut start it against the team's norm (four working
hours, in the owner's working time), the owner is reminded before it runs out, Replied
stops it, and what the reply took shows on the account card, in health and in the
weekly digest, late ones as late."""

from __future__ import annotations

from typing import Any

from freezegun import freeze_time
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from bot.devtools.localslack import message_shortcut
from bot.services import questions
from messages.ids import View
from storage.models import ClientQuestion, Nudge
from tests.conftest import at
from tests.scheduling import Scenario
from tests.slackkit import ALICE, BOB, TEAM, blocks_text, view_submission

THURSDAY = "2026-12-03T10:00:00+00:00"  # hours 9 to 18, UTC (nobody's zone is known)
FRIDAY_LATE = "2026-12-04T16:00:00+00:00"


def stored(s: Scenario) -> list[ClientQuestion]:
    with s.db() as session:
        return list(
            session.scalars(
                select(ClientQuestion)
                .options(joinedload(ClientQuestion.account))
                .order_by(ClientQuestion.id)
            )
        )


def question_dms(s: Scenario, user: str = ALICE) -> list[dict[str, Any]]:
    return [m for m in s.dms(user) if "waiting for an answer" in blocks_text(m)]


def test_a_question_answered_late_shows_on_the_card_and_in_the_digest(s: Scenario) -> None:
    reply = s.say(THURSDAY, "/followup", "Acme Corp they asked: can you send the SOC 2 report?")
    assert reply.status == 200 and reply.ephemeral
    assert "can you send the SOC 2 report?" in reply.text
    assert "Reply by *Thu 3 Dec 14:00*" in reply.text
    assert "within 4 working hours" in reply.text
    assert "I'll remind you at Thu 3 Dec 13:00" in reply.text
    (question,) = stored(s)
    assert question.account.name == "Acme Corp" and question.owner_id == ALICE
    assert question.reply_by == at("2026-12-03T14:00:00")

    # Reminded with an hour left, not before.
    s.sweep("2026-12-03T12:59:00+00:00")
    assert question_dms(s) == []
    s.sweep("2026-12-03T13:00:00+00:00")
    (dm,) = question_dms(s)
    assert "by *Thu 3 Dec 14:00*" in blocks_text(dm)

    answer = s.say("2026-12-03T16:30:00+00:00", "/followup", "acme corp replied")
    assert "6h 30m of working time" in answer.text and "counts as late" in answer.text

    card = s.say("2026-12-03T16:31:00+00:00", "/rapport", "account Acme Corp")
    assert "median reply after 6h 30m" in card.text
    assert "0 of 1 within 4 working hours" in card.text
    assert "answered late" in card.text

    health = s.say("2026-12-03T16:32:00+00:00", "/rapport", "health Acme Corp")
    assert "Replies to client questions" in health.text
    assert "0 of 1 client question" in health.text

    s.say("2026-12-03T16:33:00+00:00", "/rapport", "digest preview")
    digest = s.answer()
    assert "Client questions this week" in digest.text
    assert "median reply after 6h 30m" in digest.text
    assert "answered after 6h 30m of working time" in digest.text


def test_a_weekend_between_the_question_and_its_deadline_is_not_counted(s: Scenario) -> None:
    reply = s.say(FRIDAY_LATE, "/followup", "Acme they asked: does the API take bulk uploads?")
    # Two hours on Friday, two on Monday: the weekend does not count.
    assert "Reply by *Mon 7 Dec 11:00*" in reply.text
    assert "the clock stops over them" in reply.text
    (question,) = stored(s)
    assert question.next_nudge_at == at("2026-12-07T10:00:00")

    s.sweep("2026-12-05T12:00:00+00:00")  # Saturday
    s.sweep("2026-12-06T12:00:00+00:00")  # Sunday
    assert question_dms(s) == []
    s.sweep("2026-12-07T10:00:00+00:00")
    (dm,) = question_dms(s)
    assert "Mon 7 Dec 11:00" in blocks_text(dm)

    s.click("2026-12-07T10:30:00+00:00", dm, "nudge_replied")
    (question,) = stored(s)
    assert question.answered_at == at("2026-12-07T10:30:00")
    assert question.reply_minutes == 120 + 90  # Friday 16:00-18:00, Monday 09:00-10:30
    (redrawn,) = s.slack.calls("chat.update")
    assert "Replied, after 3h 30m of working time" in blocks_text(redrawn.args)


def test_no_reminder_once_replied(s: Scenario) -> None:
    reply = s.say(THURSDAY, "/followup", "Acme they asked: is SSO in the base plan?")
    answered = s.click_reply("2026-12-03T11:00:00+00:00", reply, "question_replied")
    assert "inside the 4 working hours" in answered
    s.sweep("2026-12-03T13:00:00+00:00")
    s.sweep("2026-12-03T15:00:00+00:00")
    assert question_dms(s) == []
    with s.db() as session:
        assert session.scalars(select(Nudge)).all() == []
    # A second Replied changes nothing, and says so.
    again = s.click_reply("2026-12-03T11:05:00+00:00", reply, "question_replied")
    assert "marked replied already" in again


def test_the_shortcut_starts_the_clock_from_the_clients_message(s: Scenario) -> None:
    s.say(THURSDAY, "/rapport", "account Acme channel: <#C0ACME|acme-shared>")
    asked_ts = f"{at('2026-12-03T09:30:00').timestamp():.6f}"
    shortcut = message_shortcut(
        "reply_owed",
        {"user": "U0CLIENT", "ts": asked_ts, "text": "Could you send the renewal quote by Friday?"},
        team_id=TEAM,
        user_id=BOB,
        channel_id="C0ACME",
    )
    with freeze_time(at("2026-12-03T10:00:00"), real_asyncio=True):
        assert s.slack_user.interact(shortcut).status == 200
        s.settle()
    (opened,) = s.slack.wait_for("views.open")
    view = opened.args["view"]
    inputs = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert inputs["account"]["initial_value"] == "Acme"
    assert inputs["question"]["initial_value"] == "Could you send the renewal quote by Friday?"

    values = {
        "account": {"value": {"type": "plain_text_input", "value": "Acme"}},
        "question": {
            "value": {"type": "plain_text_input", "value": inputs["question"]["initial_value"]}
        },
    }
    form = view_submission(
        View.REPLY_OWED, values, private_metadata=view["private_metadata"], user=BOB
    )
    with freeze_time(at("2026-12-03T10:00:00"), real_asyncio=True):
        answer = s.slack_user.interact(form).body
    assert answer["response_action"] == "update"
    shown = blocks_text(answer["view"])
    # Bob flagged it; Alice owns Acme, so the reply and the clock are hers.
    assert "<@U0ALICE> owns Acme" in shown and "Reply by *Thu 3 Dec 13:30*" in shown
    (question,) = stored(s)
    assert question.owner_id == ALICE and question.recorded_by == BOB
    assert question.asked_at == at("2026-12-03T09:30:00")
    assert question.permalink == f"https://slack.com/archives/C0ACME/p{asked_ts.replace('.', '')}"
    # Flagged by someone else: the owner hears with half the norm left.
    assert question.next_nudge_at == at("2026-12-03T11:30:00")

    # The same message flagged again is on the clock once.
    form["view"]["id"] = "V0AGAIN"  # the form opened again: a new request, not a retry
    with freeze_time(at("2026-12-03T10:05:00"), real_asyncio=True):
        again = s.slack_user.interact(form).body
    assert "on the clock already" in blocks_text(again["view"])
    assert len(stored(s)) == 1


def test_the_team_norm_is_for_admins_and_held_by_new_questions(s: Scenario) -> None:
    s.slack.add_user(ALICE, is_admin=True)
    s.slack.add_user(BOB)
    shown = s.say(THURSDAY, "/followup", "norm:")
    assert "within *4 working hours*" in shown.text
    s.say(THURSDAY, "/followup", "norm: 2h")
    assert "within *2 working hours*" in s.answer().text
    refused = s.say(THURSDAY, "/followup", "norm: 1h", user=BOB)
    assert refused.status == 200
    assert "Only a Slack workspace admin" in s.answer().text
    reply = s.say(THURSDAY, "/followup", "Acme they asked: what is the uptime SLA?")
    assert "Reply by *Thu 3 Dec 12:00*" in reply.text
    with s.db() as session:
        assert questions.team_norm(session, team_id=TEAM) == 120
