"""Debriefs that lead somewhere, through the real app: a saved debrief ends with three
improvement steps, each a follow-up with one click (once, due on a working day that
suits it), and its answers show on the account card and in the next prep."""

from __future__ import annotations

from datetime import date

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from bot.devtools.localslack import LocalSlack
from bot.services import debrief_steps
from bot.services.calendar import WorkCalendar
from messages.ids import Action
from storage.db import SessionFactory
from storage.models import Commitment, DebriefFollowup
from tests.coaching_flow import buttons, click_in_message, click_in_modal, write_debrief
from tests.slackkit import ALICE, BOB, TEAM, SlackSender, blocks_text

ACME = "Acme Corp"
# Thu 3 Dec 2026, 10:00 UTC (a working day in every zone the tests use).
NOW = "2026-12-03T10:00:00Z"
ANSWERS = {
    "trust": "Grew when we owned the outage in week two",
    "next_meso": "A pilot-first option with a 90-day exit",
}


@pytest.fixture
def acme(slack_user: SlackSender) -> str:
    slack_user.command("/rapport", f"account {ACME} type: strategic")
    return ACME


def followups(db: SessionFactory) -> list[tuple[str, str, date]]:
    with db() as session:
        rows = session.scalars(select(Commitment).order_by(Commitment.id))
        return [(row.owner_id, row.what, row.due_on) for row in rows]


def test_a_debrief_ends_with_three_steps_each_a_follow_up_with_one_click(
    slack_user: SlackSender, slack: LocalSlack, db: SessionFactory, acme: str
) -> None:
    with freeze_time(NOW, real_asyncio=True):
        slack_user.command("/rapport", f"qbr {ACME} next: 2027-01-20 every: quarter")
        saved = write_debrief(slack_user, slack, ACME, **ANSWERS)

        view = saved.body["view"]
        shown = blocks_text(view)
        assert "*Make it stick.* Three steps" in shown
        for title in (
            "Rehearse the QBR readout",
            "Red-team the credit and price-band rules",
            "A role-reversal session",
        ):
            assert title in shown
        readout, red_team, role_reversal = buttons(view, Action.DEBRIEF_STEP)
        assert readout["text"]["text"] == "Add as a follow-up"

        redrawn = click_in_modal(slack_user, slack, view, readout, view_id="V0DEBRIEF")
        assert redrawn is not None
        assert "a follow-up of <@U0ALICE>'s, due Tue 19 Jan 2027" in blocks_text(redrawn)
        assert len(buttons(redrawn, Action.DEBRIEF_STEP)) == 2

        again = click_in_modal(slack_user, slack, view, readout, view_id="V0DEBRIEF")
        assert again is not None and "Already recorded, nothing added" in blocks_text(again)

        click_in_modal(slack_user, slack, redrawn, red_team, view_id="V0DEBRIEF")
        last = click_in_modal(slack_user, slack, redrawn, role_reversal, view_id="V0DEBRIEF")

    assert last is not None and buttons(last, Action.DEBRIEF_STEP) == []
    (readout_owner, readout_what, readout_due), red, role = followups(db)
    # The working day before the QBR; three working days; a working week.
    assert (readout_owner, readout_due) == (ALICE, date(2027, 1, 19))
    assert readout_what.startswith("Rehearse the QBR readout out loud")
    assert red[2] == date(2026, 12, 8) and red[1].startswith("Red-team the credit")
    assert role[2] == date(2026, 12, 10) and role[1].startswith("Role reversal")


def test_the_card_shows_the_answers_and_its_buttons_record_a_step_once_for_whoever_clicks(
    slack_user: SlackSender, slack: LocalSlack, db: SessionFactory, acme: str
) -> None:
    with freeze_time(NOW, real_asyncio=True):
        write_debrief(slack_user, slack, ACME, **ANSWERS)
        card = slack_user.command("/rapport", "account acme crop", user=BOB)

        assert "*Latest debrief* (Thu 3 Dec 2026, <@U0ALICE>)" in card.text
        assert "*Next set should include:* A pilot-first option with a 90-day exit" in card.text
        assert "*Trust:* Grew when we owned the outage" in card.text
        labels = [b["text"]["text"] for b in buttons(card.body, Action.DEBRIEF_STEP)]
        assert labels == [
            "Follow up: rehearse the readout",
            "Follow up: red-team the credits",
            "Follow up: role reversal",
        ]
        readout = buttons(card.body, Action.DEBRIEF_STEP)[0]

        answer = click_in_message(slack_user, slack, readout, user=BOB)

        assert answer is not None and answer["replace_original"] is False
        told = blocks_text(answer)
        assert "Recorded a follow-up on *Acme Corp*, due *Thu 17 Dec 2026*" in told, told
        assert followups(db) == [(BOB, followups(db)[0][1], date(2026, 12, 17))]

        again = click_in_message(slack_user, slack, readout, user=ALICE)

        assert again is not None
        assert "*Rehearse the QBR readout* was already recorded for *Acme Corp* by <@U0BOB>" in (
            blocks_text(again)
        )
        assert "Nothing was added" in blocks_text(again)
        assert len(followups(db)) == 1
        card = slack_user.command("/rapport", f"account {ACME}")
        assert "*Follow-ups from it:* Rehearse the QBR readout (due Thu 17 Dec 2026)" in card.text
        assert len(buttons(card.body, Action.DEBRIEF_STEP)) == 2


def test_a_lost_accounts_debrief_lists_the_steps_but_tracks_no_follow_up(
    slack_user: SlackSender, slack: LocalSlack, db: SessionFactory, acme: str
) -> None:
    slack_user.command("/rapport", f"lost {ACME}")

    saved = write_debrief(slack_user, slack, ACME, **ANSWERS)

    view = saved.body["view"]
    assert "is marked lost, so no follow-up is tracked on it" in blocks_text(view)
    assert "Rehearse the QBR readout" in blocks_text(view)
    assert buttons(view, Action.DEBRIEF_STEP) == []
    card = slack_user.command("/rapport", f"account {ACME}")
    assert "Grew when we owned the outage" in card.text
    assert buttons(card.body, Action.DEBRIEF_STEP) == []
    with db() as session:
        assert session.scalars(select(DebriefFollowup)).all() == []


def test_the_next_prep_opens_with_the_last_debrief(
    slack_user: SlackSender, slack: LocalSlack, acme: str
) -> None:
    write_debrief(slack_user, slack, ACME, **ANSWERS)

    prep = slack_user.command("/rapport", f"prep {ACME} show")

    assert "*What the last debrief said*" in prep.text
    assert "*Next set should include:* A pilot-first option with a 90-day exit" in prep.text


def test_each_step_falls_on_a_working_day_that_suits_it() -> None:
    from zoneinfo import ZoneInfo

    calendar = WorkCalendar(tz=ZoneInfo("Europe/Paris"), country="FR")
    thursday = date(2026, 12, 24)  # Christmas and the weekend ahead
    due = debrief_steps.due_day

    assert due("red_team", calendar, thursday, None) == date(2026, 12, 30)
    assert due("role_reversal", calendar, thursday, None) == date(2027, 1, 4)
    # Before the QBR when there is still a working day before it; else in two weeks.
    assert due("readout", calendar, thursday, date(2027, 1, 5)) == date(2027, 1, 4)
    assert due("readout", calendar, thursday, date(2026, 12, 24)) == date(2027, 1, 11)


def test_two_clicks_at_once_record_the_step_once(
    slack_user: SlackSender, slack: LocalSlack, db: SessionFactory, acme: str
) -> None:
    from concurrent.futures import ThreadPoolExecutor
    from datetime import UTC, datetime
    from threading import Barrier
    from zoneinfo import ZoneInfo

    from storage.models import Debrief

    write_debrief(slack_user, slack, ACME, **ANSWERS)
    with db() as session:
        debrief_id = session.scalars(select(Debrief.id)).one()
    both = Barrier(2)

    def click(user: str) -> bool:
        both.wait()
        with db.begin() as session:
            return debrief_steps.record_step(
                session,
                team_id=TEAM,
                debrief_id=debrief_id,
                step="red_team",
                user_id=user,
                calendar=WorkCalendar(tz=ZoneInfo("UTC")),
                now=datetime(2026, 12, 3, 10, tzinfo=UTC),
            ).created

    with ThreadPoolExecutor(2) as pool:
        created = sorted(pool.map(click, (ALICE, BOB)))

    assert created == [False, True]
    assert len(followups(db)) == 1
