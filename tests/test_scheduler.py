"""Nudges in the owner's hours and zone, on working days, once, with working buttons."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import Account, CheckIn, Commitment, GovernancePlan, Qbr, Touch, UserPrefs
from tests.conftest import at
from tests.scheduling import Scenario
from tests.slackkit import ALICE, BOB, blocks_text, view_submission

MONDAY = "2026-11-23T15:00:00Z"  # "fri" is 2026-11-27; Thanksgiving (US) is Thu 26 Nov


def test_nudges_arrive_at_nine_in_the_owners_own_time_zone(s: Scenario) -> None:
    s.slack.add_user(ALICE, tz="America/Los_Angeles")
    s.say(MONDAY, "/followup", "acme send the pricing sheet due: fri")

    s.sweep("2026-11-27T16:59:00Z")  # 08:59 in Los Angeles
    assert s.dms() == []
    s.sweep("2026-11-27T17:00:00Z")
    (due,) = s.dm_texts()
    assert "Due today" in due
    with s.db() as session:
        commitment = session.scalars(select(Commitment)).one()
    # The due day ends at midnight in Los Angeles, not in UTC.
    assert commitment.due_at == at("2026-11-28T08:00:00Z")


def test_daylight_saving_change_does_not_move_the_hour(s: Scenario) -> None:
    s.slack.add_user(ALICE, tz="Europe/Berlin")
    s.say("2027-03-22T10:00:00Z", "/followup", "acme before the change due: 2027-03-26")
    s.say("2027-03-22T10:00:00Z", "/followup", "globex after the change due: 2027-03-29")

    s.sweep("2027-03-26T07:59:00Z")
    assert s.dms() == []
    s.sweep("2027-03-26T08:00:00Z")  # 09:00 CET
    assert "before the change" in s.dm_texts()[0]

    s.sweep("2027-03-29T06:59:00Z")
    assert len(s.dms()) == 1
    s.sweep("2027-03-29T07:00:00Z")  # 09:00 CEST: the clock moved, the nudge did not
    assert "after the change" in s.dm_texts()[1]


def test_due_on_a_saturday_arrives_monday_morning(s: Scenario) -> None:
    s.say(MONDAY, "/followup", "acme send the deck due: 2026-11-28")
    s.sweep("2026-11-28T09:00:00Z")
    s.sweep("2026-11-29T12:00:00Z")
    assert s.dms() == []
    s.sweep("2026-11-30T09:00:00Z")
    assert len(s.dms()) == 1


def test_public_holiday_of_the_team_country_holds_nudges(s: Scenario) -> None:
    us = s.settings.model_copy(update={"holiday_country": "US"})
    s.say(MONDAY, "/followup", "acme send the deck due: 2026-11-26")
    s.sweep("2026-11-26T09:00:00Z", us)  # Thanksgiving
    assert s.dms() == []
    s.sweep("2026-11-27T09:00:00Z", us)
    # By Friday morning the day has passed: one message, saying it is still open.
    (late,) = s.dm_texts()
    assert "Still open" in late and "send the deck" in late


def test_team_day_off_holds_nudges(s: Scenario) -> None:
    s.slack.add_user(ALICE, is_admin=True)
    s.say(MONDAY, "/rapport", "holidays add 2026-11-27 Office closed")
    assert "Office closed" in s.answer().text
    s.say(MONDAY, "/followup", "acme send the deck due: fri")
    s.sweep("2026-11-27T09:00:00Z")
    assert s.dms() == []
    s.sweep("2026-11-30T09:00:00Z")
    assert len(s.dms()) == 1


def test_time_away_holds_nudges_until_back(s: Scenario) -> None:
    with s.db.begin() as session:
        session.add(
            UserPrefs(
                team_id="T0ACME",
                user_id=ALICE,
                away_from=at("2026-11-26").date(),
                away_until=at("2026-12-01").date(),
            )
        )
    s.say(MONDAY, "/followup", "acme send the deck due: fri")
    for day in ("2026-11-27", "2026-11-30", "2026-12-01"):
        s.sweep(f"{day}T10:00:00Z")
    assert s.dms() == []
    s.sweep("2026-12-02T09:00:00Z")
    (back,) = s.dm_texts()
    assert "send the deck" in back  # one message, the latest reminder about it


def test_unkept_ladder_escalates_to_the_manager(s: Scenario) -> None:
    with s.db.begin() as session:
        session.add(UserPrefs(team_id="T0ACME", user_id=ALICE, manager_id=BOB))
    s.say(MONDAY, "/followup", "acme send the pricing sheet due: fri")

    s.sweep("2026-11-27T09:00:00Z")  # due today
    s.sweep("2026-11-30T09:00:00Z")  # unkept
    s.sweep("2026-12-01T09:00:00Z")  # second reminder: 2 working days after the due day
    s.sweep("2026-12-02T09:00:00Z")
    texts = s.dm_texts()
    assert ["Due today" in texts[0], "Still open" in texts[1], "Second reminder" in texts[2]] == [
        True
    ] * 3
    assert len(texts) == 3
    assert s.dms(BOB) == []
    s.sweep("2026-12-03T09:00:00Z")  # 4 working days after: the manager hears of it
    (escalated,) = s.dm_texts(BOB)
    assert f"<@{ALICE}>" in escalated and "send the pricing sheet" in escalated


def test_activity_on_the_account_restarts_the_ladder(s: Scenario) -> None:
    s.say(MONDAY, "/followup", "acme send the pricing sheet due: fri")
    s.sweep("2026-11-27T09:00:00Z")
    s.sweep("2026-11-30T09:00:00Z")  # unkept
    s.say("2026-11-30T11:00:00Z", "/rapport", "touch acme called them about the delay")
    s.sweep("2026-12-01T09:00:00Z")
    assert len(s.dms()) == 2, "the touch on Monday moved the second reminder"
    s.sweep("2026-12-02T09:00:00Z")
    assert "Second reminder" in s.dm_texts()[2]


def test_done_button_closes_it_in_place_once(s: Scenario) -> None:
    s.say(MONDAY, "/followup", "acme send the pricing sheet due: fri")
    s.sweep("2026-11-27T09:00:00Z")
    (message,) = s.dms()

    s.click("2026-11-27T10:00:00Z", message, "nudge_done")
    s.click("2026-11-27T10:01:00Z", message, "nudge_done")

    updates = s.slack.calls("chat.update")
    assert len(updates) == 2 and all("Done" in blocks_text(u.args) for u in updates)
    assert updates[0].args["blocks"] == updates[1].args["blocks"], "a second click changes nothing"
    with s.db() as session:
        commitment = session.scalars(select(Commitment)).one()
    assert commitment.kept_on_time is True and commitment.done_by == ALICE
    s.sweep("2026-12-10T09:00:00Z")
    assert len(s.dms()) == 1


def test_snooze_for_an_hour_brings_it_back(s: Scenario) -> None:
    s.say(MONDAY, "/followup", "acme send the pricing sheet due: fri")
    s.sweep("2026-11-27T09:00:00Z")
    (message,) = s.dms()
    s.click(
        "2026-11-27T10:00:00Z",
        message,
        "nudge_snooze",
        extra=lambda a: a.update(selected_option={"value": "1h"}),
    )
    assert ":zzz:" in blocks_text(s.slack.calls("chat.update")[0].args)

    s.sweep("2026-11-27T10:59:00Z")
    assert len(s.dms()) == 1
    s.sweep("2026-11-27T11:00:00Z")
    assert "Back from snooze" in s.dm_texts()[1]


def test_snooze_to_a_picked_date_asks_in_a_modal(s: Scenario) -> None:
    s.say(MONDAY, "/followup", "acme send the pricing sheet due: fri")
    s.sweep("2026-11-27T09:00:00Z")
    (message,) = s.dms()
    s.click(
        "2026-11-27T10:00:00Z",
        message,
        "nudge_snooze",
        extra=lambda a: a.update(selected_option={"value": "pick"}),
    )
    (opened,) = s.slack.calls("views.open")
    view = opened.args["view"]
    with_date = view_submission(
        "snooze_until",
        {"until": {"day": {"type": "datepicker", "selected_date": "2026-12-04"}}},
        private_metadata=view["private_metadata"],
    )
    from freezegun import freeze_time

    with freeze_time(at("2026-11-27T10:01:00Z"), real_asyncio=True):
        assert s.slack_user.interact(with_date).status == 200
        s.settle()
    s.sweep("2026-12-03T09:00:00Z")
    assert len(s.dms()) == 1
    s.sweep("2026-12-04T09:00:00Z")
    assert "Back from snooze" in s.dm_texts()[-1]


def test_reassign_hands_the_next_nudge_to_the_new_owner(s: Scenario) -> None:
    s.say(MONDAY, "/followup", "acme send the pricing sheet due: fri")
    s.sweep("2026-11-27T09:00:00Z")
    (message,) = s.dms()
    s.click(
        "2026-11-27T10:00:00Z",
        message,
        "nudge_reassign",
        extra=lambda a: a.update(selected_user=BOB),
    )
    s.sweep("2026-11-30T09:00:00Z")
    assert len(s.dms(ALICE)) == 1
    assert "send the pricing sheet" in s.dm_texts(BOB)[0]


def test_worker_down_for_days_sends_one_message_not_a_flood(s: Scenario) -> None:
    s.say(MONDAY, "/followup", "acme send the pricing sheet due: fri")
    s.say(MONDAY, "/followup", "globex book the kickoff due: fri")
    report = s.sweep("2026-12-03T09:00:00Z")  # first sweep in a week
    assert report.delivery.sent == 1
    (only,) = s.dm_texts()
    assert "2 things" in only
    assert only.count("send the pricing sheet") == 1


def test_qbr_reminders_with_agenda_and_roll_forward(s: Scenario) -> None:
    reply = s.say(MONDAY, "/rapport", "qbr acme next: 2026-12-10 every: quarter")
    assert "Thu 10 Dec 2026" in reply.text
    s.say(MONDAY, "/followup", "acme share usage report due: 2026-12-15")

    s.sweep("2026-12-02T09:00:00Z")
    assert s.dms() == []
    s.sweep("2026-12-03T09:00:00Z")  # a week ahead
    (lead,) = s.dm_texts()
    assert "QBR with acme" in lead and "share usage report" in lead and "Draft agenda" in lead
    assert "none written down yet" in lead, "no governance plan, so no KPIs yet"
    s.sweep("2026-12-09T09:00:00Z")
    assert "is tomorrow" in s.dm_texts()[1]

    s.click("2026-12-10T15:00:00Z", s.dms()[1], "nudge_qbr_held")
    with s.db() as session:
        qbr = session.scalars(select(Qbr)).one()
    assert str(qbr.next_on) == "2027-03-10" and qbr.held_count == 1
    s.sweep("2027-03-03T09:00:00Z")
    assert "Wed 10 Mar 2027" in s.dm_texts()[-1]


def test_won_schedules_check_ins_and_lost_stops_everything(s: Scenario) -> None:
    reply = s.say(MONDAY, "/rapport", "won acme")
    assert "Mon 30 Nov 2026" in reply.text
    s.say(MONDAY, "/followup", "acme send onboarding plan due: 2026-12-04")

    s.sweep("2026-11-30T09:00:00Z")
    (checkin,) = s.dm_texts()
    assert "check-in with acme" in checkin and "Bring something useful" in checkin
    s.click("2026-11-30T11:00:00Z", s.dms()[0], "nudge_done")
    with s.db() as session:
        done = session.scalars(select(CheckIn).where(CheckIn.done_at.is_not(None))).all()
    assert len(done) == 1

    s.say("2026-12-01T10:00:00Z", "/rapport", "lost acme")
    for day in ("2026-12-04", "2026-12-07", "2026-12-23", "2027-02-22"):
        s.sweep(f"{day}T10:00:00Z")
    assert len(s.dms()) == 1


def test_check_ins_continue_quarterly_after_the_first_three(s: Scenario) -> None:
    s.say(MONDAY, "/rapport", "won acme")
    for day in ("2026-11-30", "2026-12-23", "2027-02-22"):
        s.sweep(f"{day}T10:00:00Z")
    assert len(s.dms()) == 3
    with s.db() as session:
        dates = sorted(str(c.due_on) for c in session.scalars(select(CheckIn)))
    # The 90-day check-in would fall on Sun 21 Feb 2027: it moved to Monday the 22nd,
    # and the next one is 91 days after that, on a Monday again.
    assert dates[-2:] == ["2027-02-22", "2027-05-24"]


def test_pause_holds_nudges_until_the_date_then_resumes(s: Scenario) -> None:
    s.say(MONDAY, "/followup", "acme send the deck due: fri")
    reply = s.say(MONDAY, "/rapport", "pause acme until: 2026-12-07 reason: budget freeze")
    assert "budget freeze" in reply.text
    s.sweep("2026-11-27T09:00:00Z")
    s.sweep("2026-12-04T09:00:00Z")
    assert s.dms() == []
    s.sweep("2026-12-07T09:00:00Z")
    assert len(s.dms()) == 1


def test_stay_in_touch_nudge_after_the_longest_gap(s: Scenario) -> None:
    s.say(MONDAY, "/rapport", "won acme")
    with s.db.begin() as session:
        session.execute(CheckIn.__table__.delete())
    s.sweep("2027-01-21T10:00:00Z")
    assert s.dms() == []
    s.sweep("2027-01-22T15:00:00Z")  # 60 days with no touch
    (quiet,) = s.dm_texts()
    assert "has not heard from you in 60 days" in quiet
    s.click("2027-01-22T16:00:00Z", s.dms()[0], "nudge_touched")
    assert "Touch logged" in blocks_text(s.slack.calls("chat.update")[0].args)
    s.click("2027-01-22T16:05:00Z", s.dms()[0], "nudge_touched")
    with s.db() as session:
        assert len(session.scalars(select(Touch)).all()) == 1, "a second click logs nothing"


def test_settings_modal_opens_and_saves(s: Scenario) -> None:
    s.say(MONDAY, "/rapport", "settings")
    (opened,) = s.slack.calls("views.open")
    assert opened.args["view"]["callback_id"] == "user_settings"

    def values(tz: str) -> dict:
        return {
            "work_start": {"value": {"type": "timepicker", "selected_time": "08:00"}},
            "work_end": {"value": {"type": "timepicker", "selected_time": "16:00"}},
            "work_days": {
                "value": {
                    "type": "checkboxes",
                    "selected_options": [{"value": str(d)} for d in range(4)],
                }
            },
            "tz_override": {"value": {"type": "plain_text_input", "value": tz}},
            "away_from": {"value": {"type": "datepicker", "selected_date": None}},
            "away_until": {"value": {"type": "datepicker", "selected_date": None}},
            "manager": {"value": {"type": "users_select", "selected_user": BOB}},
            "digest": {"value": {"type": "checkboxes", "selected_options": []}},
        }

    bad = s.slack_user.interact(view_submission("user_settings", values("Mars/Olympus")))
    assert bad.body["response_action"] == "errors" and "tz_override" in bad.body["errors"]
    good = s.slack_user.interact(view_submission("user_settings", values("Asia/Tokyo")))
    assert good.status == 200 and not good.body.get("errors")
    with s.db() as session:
        prefs = session.get(UserPrefs, ("T0ACME", ALICE))
    assert prefs is not None and prefs.tz_override == "Asia/Tokyo" and prefs.work_days == "0123"

    s.say(MONDAY, "/followup", "acme send the deck due: fri")  # Friday is not a working day now
    s.sweep("2026-11-27T00:00:00Z")  # 09:00 Friday in Tokyo
    assert s.dms() == []
    s.sweep("2026-11-29T23:00:00Z")  # 08:00 Monday in Tokyo
    assert len(s.dms()) == 1


def test_without_a_manager_the_account_channel_hears_of_it(s: Scenario) -> None:
    s.say(MONDAY, "/rapport", "account acme channel: <#C0ACMEDEAL|acme-deal>")
    s.say(MONDAY, "/followup", "acme send the pricing sheet due: fri")
    for day in ("2026-11-27", "2026-11-30", "2026-12-01", "2026-12-03"):
        s.sweep(f"{day}T09:00:00Z")
    (posted,) = [
        c.args for c in s.slack.calls("chat.postMessage") if c.args["channel"] == "C0ACMEDEAL"
    ]
    text = blocks_text(posted)
    assert "A follow-up needs attention" in text and f"<@{ALICE}>" in text
    assert not [b for b in posted["blocks"] if b["type"] == "actions"], "no buttons in a channel"


def test_qbr_agenda_carries_the_governance_kpis(s: Scenario) -> None:
    s.say(MONDAY, "/rapport", "qbr acme next: 2026-12-10")
    with s.db.begin() as session:
        account = session.scalars(select(Account)).one()
        session.add(
            GovernancePlan(
                team_id="T0ACME",
                account_id=account.id,
                cadence="quarterly",
                owner_ids=[ALICE],
                kpis="uptime 99.9%, tickets closed in 4 hours",
                created_by=ALICE,
                created_at=at(MONDAY),
                updated_by=ALICE,
                updated_at=at(MONDAY),
            )
        )
    s.sweep("2026-12-03T09:00:00Z")
    (lead,) = s.dm_texts()
    assert "uptime 99.9%, tickets closed in 4 hours" in lead
