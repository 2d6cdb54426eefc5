"""Replies owed to clients' questions where a rep looks: `/rapport due` and App Home
list each open question with when its reply is due, in the words the `/followup`
reply and the reminder DM use, overdue ones first and saying so; only the viewer's
own, only their team's, never one answered or on a lost account."""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

from bot.services import due, questions
from bot.services.calendar import WorkCalendar
from storage.db import SessionFactory
from storage.models import ClientQuestion
from tests.conftest import at
from tests.scheduling import Scenario
from tests.slackkit import ALICE, BOB, OTHER_TEAM, TEAM, blocks_text
from tests.test_home import home_at, section, wait_for
from tests.test_home_service import account

THURSDAY = "2026-12-03T10:00:00+00:00"  # hours 9 to 18, UTC (nobody's zone is known)
NOW = at(THURSDAY)


def ask(db: SessionFactory, name: str, *, due_in: float, team: str = TEAM, **extra: object) -> None:
    """A question on `name` (made if new) whose reply is due `due_in` hours from NOW."""
    with db.begin() as session:
        owner = account(session, name, team=team, stage=extra.pop("stage", "open"))
        session.add(
            ClientQuestion(
                team_id=team,
                account_id=owner.id,
                question=f"a question from {name}",
                owner_id=extra.pop("owner_id", ALICE),
                asked_at=NOW - timedelta(hours=1),
                norm_minutes=240,
                reply_by=NOW + timedelta(hours=due_in),
                recorded_by=ALICE,
                recorded_at=NOW,
                **extra,
            )
        )


def test_owed_replies_are_the_owners_open_ones_of_the_team_soonest_due_first(
    db: SessionFactory,
) -> None:
    ask(db, "Later", due_in=5)
    ask(db, "Overdue", due_in=-2)
    ask(db, "Soon", due_in=1)
    ask(db, "Bobs", due_in=1, owner_id=BOB)
    ask(db, "Answered", due_in=1, answered_at=NOW, answered_by=ALICE, reply_minutes=30)
    ask(db, "Gone", due_in=1, stage="lost")
    ask(db, "Elsewhere", due_in=1, team=OTHER_TEAM)

    with db() as session:
        owed = questions.owed_replies(session, team_id=TEAM, user_id=ALICE, now=NOW, limit=2)

    assert [q.account.name for q in owed.questions] == ["Overdue", "Soon"]
    assert owed.more == 1 and owed.now == NOW
    assert [q.waiting_late(NOW) for q in owed.questions] == [True, False]


def test_the_due_list_is_not_empty_with_only_a_reply_owed(db: SessionFactory) -> None:
    ask(db, "Acme", due_in=2)

    with db() as session:
        mine = due.due_list(session, team_id=TEAM, user_id=ALICE, today=NOW.date(), now=NOW)
        bobs = due.due_list(session, team_id=TEAM, user_id=BOB, today=NOW.date(), now=NOW)

    assert mine.owed is not None and [q.question for q in mine.owed.questions] == [
        "a question from Acme"
    ]
    assert not mine.empty and bobs.empty


def reply_due(text: str) -> list[str]:
    """Every "Reply by *…*" / "Reply overdue since *…*" a text says."""
    return re.findall(r"Reply (?:by|overdue since) \*[^*]+\*", text)


def test_due_and_home_list_replies_owed_first_in_the_followup_replys_words(
    s: Scenario,
) -> None:
    # 10:00: four working hours run out at 14:00; 13:00: at 17:00.
    acme = s.say(THURSDAY, "/followup", "Acme Corp they asked: pricing for 200 seats?")
    globex = s.say("2026-12-03T13:00:00Z", "/followup", "Globex they asked: is SSO included?")
    s.say(THURSDAY, "/followup", "Initech they asked: a sandbox?", user=BOB)
    s.say(THURSDAY, "/followup", "Globex send the deck due: fri")
    assert set(reply_due(acme.text)) == {"Reply by *Thu 3 Dec 14:00*"}
    assert set(reply_due(globex.text)) == {globex_due := "Reply by *Thu 3 Dec 17:00*"}
    assert "this team gets back to a client within 4 working hours" in acme.text

    listing = s.say("2026-12-03T15:00:00Z", "/rapport", "due")

    text = listing.text
    assert text.index("Replies owed to clients") < text.index("Follow-ups")
    # The clock of Acme's question ran out at 14:00: it leads, and says so.
    assert reply_due(text) == ["Reply overdue since *Thu 3 Dec 14:00*", globex_due]
    assert ":red_circle: *Acme Corp*: “pricing for 200 seats?”" in text
    assert ":large_orange_circle: *Globex*: “is SSO included?”" in text
    assert "This team gets back to a client within 4 working hours" in text
    assert "`/followup ACCOUNT replied` stops the clock" in text
    assert "a sandbox?" not in text, "Bob's question is Bob's to answer"
    bobs = s.say("2026-12-03T15:00:00Z", "/rapport", "due", user=BOB)
    assert "a sandbox?" in bobs.text and "pricing" not in bobs.text
    elsewhere = s.slack_user.command("/rapport", "due", team=OTHER_TEAM)
    assert "Replies owed to clients" not in elsewhere.text, "another workspace sees none"

    home = home_at(s.slack_user, s.slack, "2026-12-03T15:00:00Z")

    owed = section(home, "Replies owed to clients")
    assert reply_due(owed) == ["Reply overdue since *Thu 3 Dec 14:00*", globex_due]
    assert "a sandbox?" not in owed
    headers = [b["text"]["text"] for b in home["blocks"] if b["type"] == "header"]
    assert headers.index("Replies owed to clients") < headers.index("Open follow-ups")

    s.say("2026-12-03T15:30:00Z", "/followup", "Acme Corp replied")
    s.say("2026-12-03T15:30:00Z", "/followup", "Globex replied")
    after = s.say("2026-12-03T15:30:00Z", "/rapport", "due")
    assert "Replies owed to clients" not in after.text and "Globex" in after.text
    assert "Replies owed" not in blocks_text(home_at(s.slack_user, s.slack, "2026-12-03T15:30:00Z"))


def test_the_same_question_typed_again_while_it_waits_is_one_question(
    db: SessionFactory,
) -> None:
    calendar = WorkCalendar(tz=ZoneInfo("UTC"))
    with db.begin() as session:
        acme = account(session, "Acme")

        def typed(text: str, hours_later: int) -> questions.Recorded:
            asked = questions.Asked(text, NOW + timedelta(hours=hours_later), ALICE)
            later = NOW + timedelta(hours=hours_later)
            return questions.ask(
                session, acme, asked, calendar=calendar, norm_minutes=240, now=later
            )

        first = typed("Pricing for 200 seats?", 0)
        again = typed("pricing  for 200 SEATS?", 1)
        other = typed("Is SSO included?", 1)

        assert not first.already and again.already and not other.already
        assert again.question.id == first.question.id
        assert again.question.reply_by == first.question.reply_by == at("2026-12-03T14:00:00")
        waiting = questions.open_questions(session, team_id=TEAM, account_id=acme.id)
        assert len(waiting) == 2


def test_home_follows_the_questions_of_its_viewer_put_on_and_off_the_clock(
    s: Scenario,
) -> None:
    s.say(THURSDAY, "/rapport", 'account "Acme Corp" type: strategic')
    home_at(s.slack_user, s.slack, THURSDAY)  # Alice looks at her Home

    def republished_after(count: int) -> str:
        latest = wait_for(s.slack, "views.publish", count + 1)[-1]
        assert latest["user_id"] == ALICE
        return blocks_text(latest["view"])

    count = len(s.slack.calls("views.publish"))
    # Bob flags a question on Alice's account: the reply is hers, so is the change.
    s.say(THURSDAY, "/followup", "Acme Corp they asked: pricing for 200 seats?", user=BOB)
    assert "Reply by *Thu 3 Dec 14:00*" in republished_after(count)

    count = len(s.slack.calls("views.publish"))
    s.say("2026-12-03T11:00:00Z", "/followup", "Acme Corp replied")
    assert "Replies owed to clients" not in republished_after(count)
