"""A month of an account's reminders with a frozen clock (issue 12): QBRs placed on
working days and followed through, a pause over a holiday, a DM with more than fits,
an escalation with nowhere to go. Today in the story is Thu 3 Dec 2026."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import Qbr, UserPrefs
from tests.scheduling import Scenario
from tests.slackkit import ALICE, BOB, TEAM, blocks_text

THURSDAY = "2026-12-03T15:00:00Z"


def qbr_of(s: Scenario) -> Qbr:
    with s.db() as session:
        return session.scalars(select(Qbr)).one()


def set_manager(s: Scenario, user: str, manager: str) -> None:
    with s.db.begin() as session:
        prefs = session.get(UserPrefs, (TEAM, user)) or UserPrefs(team_id=TEAM, user_id=user)
        prefs.manager_id = manager
        session.add(prefs)


def health_line(s: Scenario, when: str) -> str:
    return s.say(when, "/rapport", "health globex").text


def test_a_qbr_on_monday_is_reminded_on_friday_and_asked_about_the_day_after(
    s: Scenario,
) -> None:
    reply = s.say(THURSDAY, "/rapport", "qbr Globex next: 2026-12-14")
    assert "Mon 14 Dec 2026" in reply.text
    assert "*Mon 7 Dec 2026*" in reply.text, "a draft agenda a week ahead"
    assert "*Fri 11 Dec 2026*, the last working day before the QBR" in reply.text
    assert "Tue 15 Dec 2026, the working day after" in reply.text

    s.sweep("2026-12-07T09:00:00Z")
    (lead,) = s.dm_texts()
    assert "QBR with Globex* is in 7 days (Mon 14 Dec 2026)" in lead and "Draft agenda" in lead
    s.sweep("2026-12-11T09:00:00Z")
    assert "QBR with Globex* is on Monday (Mon 14 Dec 2026)" in s.dm_texts()[1]
    for weekend_or_the_day in ("2026-12-12", "2026-12-13", "2026-12-14"):
        s.sweep(f"{weekend_or_the_day}T10:00:00Z")
    assert len(s.dms()) == 2, "nothing held over the weekend, nothing saying 'tomorrow'"
    assert not any("tomorrow" in text for text in s.dm_texts())

    s.sweep("2026-12-15T09:00:00Z")
    asked = s.dms()[2]
    assert "Did the QBR with Globex happen?" in blocks_text(asked)
    buttons = [e for b in asked["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [e["action_id"] for e in buttons] == [
        "nudge_qbr_held",
        "nudge_qbr_moved",
        "nudge_qbr_skipped",
    ]
    assert "Held" in buttons[0]["text"]["text"] and "Moved to" in buttons[1]["placeholder"]["text"]


def test_a_qbr_missed_then_moved_then_held_counts_on_schedule(s: Scenario) -> None:
    s.say(THURSDAY, "/rapport", "qbr Globex next: 2026-12-14")
    s.sweep("2026-12-15T09:00:00Z")
    asked = s.dms()[-1]
    assert "Did the QBR with Globex happen?" in blocks_text(asked)

    s.click(
        "2026-12-15T10:00:00Z",
        asked,
        "nudge_qbr_moved",
        extra=lambda action: action.update(selected_date="2026-12-17"),
    )
    assert qbr_of(s).next_on.isoformat() == "2026-12-17"
    assert "Answered; the next QBR is on Thu 17 Dec 2026" in blocks_text(
        s.slack.calls("chat.update")[-1].args
    )
    s.sweep("2026-12-16T09:00:00Z")
    assert "QBR with Globex* is tomorrow (Thu 17 Dec 2026)" in s.dm_texts()[-1]
    s.sweep("2026-12-18T09:00:00Z")
    asked_again = s.dms()[-1]
    assert "Did the QBR with Globex happen?" in blocks_text(asked_again)
    s.click("2026-12-18T10:00:00Z", asked_again, "nudge_qbr_held")

    review = qbr_of(s)
    assert (review.held_count, review.on_time_count, review.missed_count) == (1, 1, 0)
    assert review.next_on.isoformat() == "2027-03-17"
    assert "1 of 1 QBR held on schedule" in health_line(s, "2026-12-18T11:00:00Z")


def test_a_qbr_nobody_answers_is_counted_missed_and_the_rhythm_goes_on(s: Scenario) -> None:
    s.say(THURSDAY, "/rapport", "qbr Globex next: 2026-12-14")
    for day in ("2026-12-15", "2026-12-21", "2026-12-22"):
        s.sweep(f"{day}T09:00:00Z")
    texts = s.dm_texts()
    assert "Did the QBR with Globex happen?" in texts[0]
    assert "counted it as missed" in texts[-1] and "Mon 15 Mar 2027" in texts[-1]
    review = qbr_of(s)
    assert (review.held_count, review.missed_count) == (0, 1)
    assert review.next_on.isoformat() == "2027-03-15", "14 Mar 2027 is a Sunday"
    assert "0 of 1 QBR held on schedule" in health_line(s, "2026-12-22T10:00:00Z")


def test_marking_held_45_days_early_asks_which_review_it_was(s: Scenario) -> None:
    s.say(THURSDAY, "/rapport", "qbr Globex next: 2027-01-17")
    asked = s.say(THURSDAY, "/rapport", "qbr Globex held")
    assert "Which review took place?" in asked.text
    assert "45 days from today" in asked.text
    assert qbr_of(s).held_count == 0, "nothing recorded before the answer"

    answer = s.click_reply(THURSDAY, asked, "qbr_held_planned")
    assert "outside its week either side, so not on schedule" in answer
    review = qbr_of(s)
    assert (review.held_count, review.on_time_count) == (1, 0)
    assert "0 of 1 QBR held on schedule" in health_line(s, THURSDAY)


def test_an_extra_review_leaves_the_schedule_alone(s: Scenario) -> None:
    s.say(THURSDAY, "/rapport", "qbr Globex next: 2027-01-17")
    asked = s.say(THURSDAY, "/rapport", "qbr Globex held")
    answer = s.click_reply(THURSDAY, asked, "qbr_held_extra")
    assert "Noted an extra review" in answer and "Sun 17 Jan 2027" in answer
    review = qbr_of(s)
    assert review.held_count == 0 and review.next_on.isoformat() == "2027-01-17"
    assert review.last_held_on is not None and review.last_held_on.isoformat() == "2026-12-03"


def test_qbr_next_friday_says_there_is_no_time_for_a_reminder(s: Scenario) -> None:
    reply = s.say(THURSDAY, "/rapport", "qbr Globex next: fri")
    assert "Fri 4 Dec 2026* (tomorrow)" in reply.text
    assert "too soon for a reminder" in reply.text and "7 days" not in reply.text
    assert "Mon 7 Dec 2026, the working day after" in reply.text


def test_a_due_date_on_a_sunday_says_when_the_reminder_really_comes(s: Scenario) -> None:
    reply = s.say(THURSDAY, "/followup", "Globex send deck due: in 3 days")
    assert "Sun 6 Dec 2026 is a Sunday, not one of your working days" in reply.text
    assert "I'll remind you on *Mon 7 Dec 2026*" in reply.text
    assert "on the day" not in reply.text
    s.sweep("2026-12-06T10:00:00Z")
    assert s.dms() == []
    s.sweep("2026-12-07T09:00:00Z")
    assert "send deck" in s.dm_texts()[0]


def test_check_ins_and_the_next_qbr_never_land_on_a_weekend(s: Scenario) -> None:
    won = s.say("2026-12-18T10:00:00Z", "/rapport", "won Hooli")
    # 30 days after Fri 18 Dec is Sun 17 Jan 2027: the check-in moves to Monday.
    assert "Mon 18 Jan 2027" in won.text and "Sun 17 Jan" not in won.text
    s.say("2026-11-20T10:00:00Z", "/rapport", "qbr Globex next: 2026-11-20")
    held = s.say("2026-11-20T15:00:00Z", "/rapport", "qbr Globex held")
    assert "The next one is on *Mon 22 Feb 2027*" in held.text, "not Sat 20 Feb"
    assert "(Sat 20 Feb 2027, a quarter on, is a Saturday, not one of your working days)" in (
        held.text
    )


def test_a_pause_over_a_holiday_resumes_on_the_first_working_day(s: Scenario) -> None:
    germany = s.settings.model_copy(update={"holiday_country": "DE"})
    s.slack.add_user(ALICE, is_admin=True)  # team days off are for workspace admins
    s.say(THURSDAY, "/followup", "Globex send the renewal terms due: 2026-12-22")
    s.say(THURSDAY, "/rapport", "holidays add 2026-12-28 Team day off")
    s.say(THURSDAY, "/rapport", "pause Globex until: 2026-12-26 reason: their year-end freeze")
    # 24 Dec is a working day in Germany's calendar here; 25 and 26 are public holidays,
    # 27 a Sunday, 28 the team's day off.
    for day in ("2026-12-22", "2026-12-23", "2026-12-24", "2026-12-25", "2026-12-28"):
        s.sweep(f"{day}T10:00:00Z", germany)
    assert s.dms() == []
    s.sweep("2026-12-29T09:00:00Z", germany)
    (back,) = s.dm_texts()
    assert "send the renewal terms" in back and "Tue 22 Dec 2026" in back
    assert "today" not in back.split("send the renewal terms")[1]


def test_a_dm_with_25_items_leads_with_today_and_names_rapport_due(s: Scenario) -> None:
    set_manager(s, BOB, ALICE)
    # Twelve of Bob's promises, long overdue: escalated to Alice as his manager.
    for n in range(12):
        s.say("2026-11-13T10:00:00Z", "/followup", f"Acme{n} old promise {n} due: 2026-11-16", BOB)
    # Alice's own: six overdue since Monday, three due today, three check-ins due
    # today (won a week ago), and a QBR tomorrow.
    for n in range(6):
        s.say("2026-11-26T10:00:00Z", "/followup", f"Globex overdue item {n} due: 2026-11-30")
    for n in range(3):
        s.say("2026-11-26T10:00:00Z", "/followup", f"Initech today item {n} due: 2026-12-03")
    for name in ("Hooli", "Umbrella", "Stark"):
        s.say("2026-11-26T10:00:00Z", "/rapport", f"won {name}")
    s.say("2026-11-26T10:00:00Z", "/rapport", "qbr Wayne next: 2026-12-04")

    s.sweep("2026-12-03T09:00:00Z")  # the first sweep in weeks: everything at once
    (dm,) = s.dms(ALICE)
    text = blocks_text(dm)
    assert "25 things" in text
    sections = [b["text"]["text"] for b in dm["blocks"] if b["type"] == "section"]
    assert len(sections) == 15
    first_six = "\n".join(sections[:6])
    assert first_six.count("today item") == 3 and first_six.count("check-in with") == 3
    assert sum("overdue item" in t for t in sections[6:12]) == 6
    assert "…and 10 more" in text and "`/rapport due`" in text
    assert "`/followup`" not in text.split("…and 10 more")[1]

    listing = s.say("2026-12-03T10:00:00Z", "/rapport", "due").text
    for expected in ("today item 2", "overdue item 5", "old promise 11", "Wayne", "Stark"):
        assert expected in listing, expected
    assert "Escalated to you" in listing and "Check-ins" in listing and "QBRs" in listing


def test_with_no_manager_and_no_channel_the_ladder_stops_at_the_owner(s: Scenario) -> None:
    s.say(THURSDAY, "/followup", "Globex send the security answers due: 2026-12-07")
    s.say(THURSDAY, "/followup", "Globex book the kickoff due: 2026-12-07")
    for day in ("2026-12-07", "2026-12-08", "2026-12-09", "2026-12-11", "2026-12-14"):
        s.sweep(f"{day}T09:00:00Z")
    texts = s.dm_texts()
    assert not any(":rotating_light:" in t or "Worth a quick word" in t for t in texts)
    notes = [t for t in texts if "Nobody else hears when your follow-ups stay unkept" in t]
    assert len(notes) == 1, "said once, not once per follow-up or per sweep"
    assert "`/rapport account Globex channel: #…`" in notes[0]
    note_dm = next(m for m in s.dms() if "Nobody else hears" in blocks_text(m))
    s.click("2026-12-11T10:00:00Z", note_dm, "home_edit_settings", item=_note_index(note_dm))
    (opened,) = s.slack.calls("views.open")
    assert opened.args["view"]["callback_id"] == "user_settings"

    # With a manager set, the next overdue promise reaches them, not the owner.
    set_manager(s, ALICE, BOB)
    s.say("2026-12-14T10:00:00Z", "/followup", "Globex send the pilot plan due: 2026-12-15")
    s.sweep("2026-12-21T09:00:00Z")
    assert any("send the pilot plan" in t and ":rotating_light:" in t for t in s.dm_texts(BOB))


def _note_index(message: dict) -> int:
    actions = [b for b in message["blocks"] if b["type"] == "actions"]
    return next(
        i
        for i, block in enumerate(actions)
        if any(e["action_id"] == "home_edit_settings" for e in block["elements"])
    )
