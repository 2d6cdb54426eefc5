"""The account lifecycle: one truth per account, whatever surface is asked.

Scenarios with a frozen clock: a signed command in, the reply, the DMs, App Home,
the digest and the database out; and a property test over any run of lifecycle
commands.
"""

from __future__ import annotations

from typing import Any

from freezegun import freeze_time
from sqlalchemy import select

from messages.ids import Action
from storage.models import (
    Account,
    AccountChange,
    CheckIn,
    Commitment,
    Concession,
    Nudge,
    NudgeStatus,
    OutboxMessage,
    Qbr,
    TeamHoliday,
    UserPrefs,
)
from tests.conftest import at
from tests.scheduling import Scenario
from tests.slackkit import ALICE, BOB, TEAM, Reply, block_action, blocks_text
from tests.test_home import home_at

MONDAY = "2026-11-23T10:00:00Z"


def account_named(s: Scenario, name: str) -> Account:
    with s.db() as session:
        found = session.scalars(select(Account).where(Account.key == name)).one()
        session.expunge(found)
        return found


def open_checkins(s: Scenario) -> list[str]:
    with s.db() as session:
        return sorted(
            str(c.due_on) for c in session.scalars(select(CheckIn).where(CheckIn.done_at.is_(None)))
        )


def team_days_off(s: Scenario) -> list[str]:
    with s.db() as session:
        return [str(day) for day in session.scalars(select(TeamHoliday.day))]


def undo_value(message: dict[str, Any]) -> str:
    (button,) = [
        element
        for block in message["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
        if element["action_id"] == Action.CHANGE_UNDO
    ]
    return str(button["value"])


def click_undo(s: Scenario, when: str, value: str, user: str) -> Reply:
    """Click Undo as `user`; the answer comes back through the message's response_url."""
    before = len(s.slack.calls("response_url"))
    payload = block_action(
        Action.CHANGE_UNDO.value, value, user=user, response_url=s.slack.response_url("undo")
    )
    with freeze_time(at(when), real_asyncio=True):
        assert s.slack_user.interact(payload).status == 200
        s.settle()
    answers = s.slack.wait_for("response_url", before + 1)
    return Reply(200, answers[-1].args)


def test_won_lost_won_on_one_day_reschedules_from_that_day(s: Scenario) -> None:
    first = s.say(MONDAY, "/rapport", "won Hooli")
    assert "is won" in first.text and "Mon 30 Nov 2026" in first.text
    s.say("2026-11-23T11:00:00Z", "/rapport", "lost Hooli")
    again = s.say("2026-11-23T12:00:00Z", "/rapport", "won Hooli")

    assert "won again" in again.text and "Something went wrong" not in again.text
    assert account_named(s, "hooli").stage == "won"
    assert open_checkins(s) == ["2026-11-30", "2026-12-23", "2027-02-22"]
    repeated = s.say("2026-11-23T13:00:00Z", "/rapport", "won Hooli")
    assert "already won" in repeated.text and "nothing changed" in repeated.text
    assert open_checkins(s) == ["2026-11-30", "2026-12-23", "2027-02-22"]

    s.sweep("2026-11-30T10:00:00Z")
    (checkin,) = s.dm_texts()
    assert "check-in with Hooli" in checkin


def test_won_again_weeks_later_counts_from_the_new_day(s: Scenario) -> None:
    s.say(MONDAY, "/rapport", "won Hooli")
    s.say("2026-11-25T10:00:00Z", "/rapport", "lost Hooli")
    s.say("2026-12-07T10:00:00Z", "/rapport", "won Hooli")
    assert open_checkins(s) == ["2026-12-14", "2027-01-06", "2027-03-08"]
    with s.db() as session:
        dropped = session.scalars(select(CheckIn).where(CheckIn.dropped_at.is_not(None))).all()
    assert len(dropped) == 3, "what the loss dropped stays on record as dropped"


def test_lost_closes_what_is_open_and_the_account_leaves_every_working_list(
    s: Scenario,
) -> None:
    s.say(MONDAY, "/rapport", "won Umbrella")
    s.say(MONDAY, "/followup", "Umbrella send NDA due: 2026-11-25")
    s.say(MONDAY, "/rapport", "qbr Umbrella next: 2026-12-14")
    s.say(MONDAY, "/followup", "Globex send deck due: 2026-11-25")
    s.sweep("2026-11-25T09:00:00Z")
    assert len(s.dms()) == 1, "one DM with both follow-ups of the day"

    lost = s.say("2026-11-27T10:00:00Z", "/rapport", "lost Umbrella")
    assert "marked lost" in lost.text and "dropped (account lost)" in lost.text
    assert "send NDA" in lost.text and "Mon 14 Dec 2026" in lost.text
    assert "one-week" in lost.text, "the check-ins it closed are named"
    assert undo_value(lost.body)

    mine = s.say("2026-11-27T10:05:00Z", "/followup", "")
    assert "send NDA" not in mine.text and "send deck" in mine.text
    assert "send NDA" not in s.say("2026-11-27T10:05:00Z", "/followup", "Umbrella").text
    due = s.say("2026-11-27T10:05:00Z", "/rapport", "due")
    assert "Umbrella" not in due.text and "send deck" in due.text
    overdue = s.say("2026-11-27T10:05:00Z", "/rapport", "overdue")
    assert "Umbrella" not in overdue.text and "Globex" in overdue.text
    health = s.say("2026-11-27T10:05:00Z", "/rapport", "health Umbrella")
    assert "no health score" in health.text and "/100" not in health.text
    assert "Umbrella" not in s.say("2026-11-27T10:05:00Z", "/rapport", "health").text
    s.say("2026-11-27T10:05:00Z", "/rapport", "digest preview")
    digest = s.answer().text
    assert "send deck" in digest and "Umbrella" not in digest
    view = s.say("2026-11-27T10:05:00Z", "/rapport", "account Umbrella")
    assert "Lost since Fri 27 Nov 2026" in view.text, "shown where asked for"

    for command, text in (
        ("/rapport", "qbr Umbrella next: 2026-12-20"),
        ("/followup", "Umbrella send the NDA again due: 2026-12-04"),
        ("/rapport", "touch Umbrella called them"),
        ("/rapport", "pause Umbrella until: 2026-12-20 reason: budget"),
    ):
        refused = s.say("2026-11-27T10:10:00Z", command, text)
        assert "Umbrella is marked lost" in refused.text, text
        assert (
            "/rapport won Umbrella" in refused.text and "/rapport reopen Umbrella" in refused.text
        )
    again = s.say("2026-11-27T10:15:00Z", "/rapport", "lost Umbrella")
    assert "already marked lost" in again.text

    with s.db() as session:
        assert session.scalars(select(Qbr)).one().dropped_at is not None
        planned = session.scalars(
            select(Commitment).where(Commitment.next_nudge_at.is_not(None))
        ).all()
        assert [c.what for c in planned] == ["send deck"]
    for day in ("2026-11-30", "2026-12-07", "2026-12-14", "2026-12-23", "2027-02-22"):
        s.sweep(f"{day}T10:00:00Z")
    assert not any("Umbrella" in text for text in s.dm_texts()[1:])

    home = blocks_text(home_at(s.slack_user, s.slack, "2026-12-01T10:00:00Z"))
    assert "Umbrella" not in home and "send deck" in home


def test_a_non_owner_marks_lost_the_owner_is_told_and_undo_puts_it_all_back(
    s: Scenario,
) -> None:
    s.say(MONDAY, "/rapport", "won Globex")
    s.say(MONDAY, "/followup", "Globex send the renewal draft due: 2026-12-02")
    lost = s.say("2026-11-24T10:00:00Z", "/rapport", "lost Globex", user=BOB)
    assert "send the renewal draft" in lost.text

    s.sweep("2026-11-24T10:01:00Z")
    (notice,) = s.dms(ALICE)
    said = blocks_text(notice)
    assert f"<@{BOB}> marked it lost (was won)" in said and "*Globex*" in said
    assert "1 follow-up" in said and "history" in said
    assert s.dms(BOB) == [], "the one who made the change is not told"

    undone = click_undo(s, "2026-11-24T11:00:00Z", undo_value(notice), user=ALICE)
    assert "Undone" in undone.text and "won" in undone.text
    globex = account_named(s, "globex")
    assert globex.stage == "won" and globex.lost_at is None
    with s.db() as session:
        (commitment,) = session.scalars(select(Commitment)).all()
        assert commitment.done_at is None and commitment.dropped_at is None
        assert commitment.next_nudge_at is not None
    assert open_checkins(s) == ["2026-11-30", "2026-12-23", "2027-02-22"]

    twice = click_undo(s, "2026-11-24T11:05:00Z", undo_value(lost.body), user=BOB)
    assert "already undone" in twice.text
    assert account_named(s, "globex").stage == "won"
    stranger = click_undo(s, "2026-11-24T11:06:00Z", undo_value(notice), user="U0MALLORY")
    assert "already undone" in stranger.text

    history = s.say("2026-11-24T12:00:00Z", "/rapport", "account Globex history")
    lines = history.text
    assert f"<@{BOB}> marked it lost (was won)" in lines and f"undone by <@{ALICE}>" in lines
    assert f"<@{ALICE}> marked it won (was prospect)" in lines
    # The Undo is an entry of its own, newest first: who undid what, before → after.
    newest = history.text.split("\n• ")[1]
    assert newest.startswith(f"Tue 24 Nov 2026 11:00, <@{ALICE}> undid <@{BOB}>'s change")
    assert "“marked it lost (was won), closing 1 follow-up, 3 check-ins as dropped”" in newest
    assert newest.endswith("_lost_ → _won_")

    s.sweep("2026-11-30T10:00:00Z")
    s.sweep("2026-12-02T09:00:00Z")
    assert any("send the renewal draft" in text for text in s.dm_texts(ALICE))


def test_only_the_owner_or_the_one_who_changed_it_may_undo(s: Scenario) -> None:
    s.say(MONDAY, "/rapport", "won Globex")
    lost = s.say("2026-11-24T10:00:00Z", "/rapport", "lost Globex", user=BOB)
    refused = click_undo(s, "2026-11-24T10:05:00Z", undo_value(lost.body), user="U0MALLORY")
    assert "can undo it" in refused.text
    assert account_named(s, "globex").stage == "lost"


def test_undo_of_a_loss_is_refused_once_the_account_moved_on(s: Scenario) -> None:
    s.say(MONDAY, "/rapport", "won Globex")
    lost = s.say("2026-11-24T10:00:00Z", "/rapport", "lost Globex")
    s.say("2026-11-24T10:05:00Z", "/rapport", "reopen Globex")
    refused = click_undo(s, "2026-11-24T10:10:00Z", undo_value(lost.body), user=ALICE)
    assert "has changed since" in refused.text
    assert account_named(s, "globex").stage == "open"


def test_won_on_a_transactional_account_speaks_of_a_smooth_purchase(s: Scenario) -> None:
    s.say(MONDAY, "/rapport", "account Initech type: transactional")
    reply = s.say(MONDAY, "/rapport", "won Initech")
    assert "transactional buyer" in reply.text and "relationship starts" not in reply.text
    assert "Wed 23 Dec 2026" in reply.text  # 30 days on


def test_changes_by_someone_else_tell_the_owner_with_undo(s: Scenario) -> None:
    s.say(MONDAY, "/rapport", "account Initech type: strategic")
    s.say(MONDAY, "/rapport", "account Initech type: functional", user=BOB)
    s.say(MONDAY, "/rapport", "pause Initech until: 2026-12-07 reason: reorg", user=BOB)
    s.say(MONDAY, "/rapport", f"account Initech owner: <@{BOB}>", user=BOB)
    s.sweep("2026-11-23T10:05:00Z")
    told = s.dm_texts(ALICE)
    assert len(told) == 3
    assert any("from strategic to functional" in text for text in told)
    assert any("paused until Mon 7 Dec 2026: reorg" in text for text in told)
    assert any(f"changed the owner from <@{ALICE}> to <@{BOB}>" in text for text in told)
    assert s.dms(BOB) == []

    owner_notice = next(m for m in s.dms(ALICE) if "changed the owner" in blocks_text(m))
    click_undo(s, "2026-11-23T11:00:00Z", undo_value(owner_notice), user=ALICE)
    initech = account_named(s, "initech")
    assert initech.owner_id == ALICE and initech.relationship_type == "functional"
    history = s.say("2026-11-23T11:05:00Z", "/rapport", "account Initech history").text
    for words in ("relationship type from not set to strategic", "from strategic to functional"):
        assert words in history


def test_stopping_someone_elses_digest_tells_them_and_undo_restarts_it(s: Scenario) -> None:
    s.say(MONDAY, "/rapport", "digest here day: mon time: 09:00")
    stopped = s.say("2026-11-24T10:00:00Z", "/rapport", "digest off", user=BOB)
    assert stopped.status == 200
    s.sweep("2026-11-24T10:01:00Z")
    (notice,) = s.dms(ALICE)
    assert "stopped the weekly digest" in blocks_text(notice)
    click_undo(s, "2026-11-24T10:05:00Z", undo_value(notice), user=ALICE)
    shown = s.say("2026-11-24T10:06:00Z", "/rapport", "digest")
    assert "no weekly digest" not in shown.text


def test_withdrawing_another_reps_concession_tells_them(s: Scenario) -> None:
    s.say(MONDAY, "/concede", "Globex give: 5% off get: two-year term")
    with s.db() as session:
        concession_id = session.scalars(select(Concession.id)).one()
    payload = block_action(
        Action.CONCESSION_WITHDRAW.value,
        f"{concession_id}:1",
        user=BOB,
        response_url=s.slack.response_url("log"),
    )
    with freeze_time(at("2026-11-24T10:00:00Z"), real_asyncio=True):
        assert s.slack_user.interact(payload).status == 200
        s.settle()
    s.sweep("2026-11-24T10:01:00Z")
    (notice,) = s.dms(ALICE)
    said = blocks_text(notice)
    assert "withdrew a concession" in said and "5% off" in said
    click_undo(s, "2026-11-24T10:05:00Z", undo_value(notice), user=ALICE)
    with s.db() as session:
        assert session.get(Concession, concession_id).withdrawn_at is None  # type: ignore[union-attr]


def test_the_owners_own_changes_are_recorded_but_not_announced(s: Scenario) -> None:
    s.say(MONDAY, "/rapport", "won Globex")
    s.say(MONDAY, "/rapport", "lost Globex")
    with s.db() as session:
        assert session.scalars(select(OutboxMessage)).all() == []
        kinds = [c.kind for c in session.scalars(select(AccountChange).order_by(AccountChange.id))]
    assert kinds == ["won", "lost"]


def test_team_calendar_changes_are_for_workspace_admins_only(s: Scenario) -> None:
    s.slack.add_user(ALICE)  # a member
    s.slack.add_user(BOB, is_admin=True)
    checking = s.say(MONDAY, "/rapport", "holidays add 2026-12-24 Office closed")
    assert "checking that with Slack" in checking.text
    refused = s.answer().text
    assert "Only a Slack workspace admin or owner" in refused and "Thu 24 Dec 2026" in refused
    s.say(MONDAY, "/rapport", "holidays country: DE")
    assert "Nothing changed" in s.answer().text
    assert team_days_off(s) == []

    s.say(MONDAY, "/rapport", "holidays add 2026-12-24 Office closed", user=BOB)
    assert "Office closed" in s.answer().text
    s.slack.clear()
    s.say(MONDAY, "/rapport", "holidays remove 2026-12-24", user="U0NOBODY")
    assert "would not say whether you are a workspace admin" in s.answer().text
    assert team_days_off(s) == ["2026-12-24"]


def test_a_lost_account_with_follow_ups_left_open_stays_off_the_lists(s: Scenario) -> None:
    """Accounts lost before losses closed their follow-ups: still kept off every list."""
    s.say(MONDAY, "/followup", "Umbrella send NDA due: 2026-11-25")
    with s.db.begin() as session:
        session.scalars(select(Account)).one().stage = "lost"
    assert "send NDA" not in s.say("2026-11-27T10:00:00Z", "/followup", "").text
    assert "Umbrella" not in s.say("2026-11-27T10:00:00Z", "/rapport", "overdue").text
    s.sweep("2026-11-25T10:00:00Z")
    assert s.dms() == []
    with s.db() as session:
        assert session.scalars(select(Nudge).where(Nudge.status == NudgeStatus.PENDING)).all() == []


def test_won_on_a_saturday_says_the_first_check_in_moved_to_monday(s: Scenario) -> None:
    # Won on Sat 28 Nov: a week on is Sat 5 Dec, not one of the owner's working days.
    won = s.say("2026-11-28T10:00:00Z", "/rapport", "won Hooli")
    assert (
        "check-ins for Mon 7 Dec 2026 (Sat 5 Dec 2026, 7 days on, is a Saturday, "
        "not one of your working days), Mon 28 Dec 2026, Fri 26 Feb 2027" in won.text
    )
    on_a_weekday = s.say(MONDAY, "/rapport", "won Initech")
    assert "Mon 30 Nov 2026, Wed 23 Dec 2026" in on_a_weekday.text
    assert "days on, is" not in on_a_weekday.text, "nothing moved, nothing said"


def test_a_pause_ending_on_a_day_off_says_the_working_day_reminders_resume(
    s: Scenario,
) -> None:
    s.slack.add_user(ALICE, is_admin=True)
    s.say("2026-12-03T10:00:00Z", "/rapport", "holidays add 2026-12-07 Team offsite")
    s.say("2026-12-03T10:00:00Z", "/rapport", "account Globex type: functional")
    paused = s.say("2026-12-03T10:00:00Z", "/rapport", "pause Globex until: sat reason: freeze")
    assert "paused until *Sat 5 Dec 2026*" in paused.text
    assert "on that day" not in paused.text
    assert (
        "They resume by themselves on *Tue 8 Dec 2026*, the first working day from then "
        "(Sat 5 Dec 2026 is a Saturday, not one of your working days)" in paused.text
    )
    weekday = s.say("2026-12-03T10:05:00Z", "/rapport", "pause Globex until: 2026-12-09 reason: x")
    assert "They resume by themselves on that day" in weekday.text


def test_a_date_moved_by_the_owners_calendar_is_not_called_the_readers(s: Scenario) -> None:
    # Alice's account; Bob wins it and pauses it: the dates follow Alice's working days,
    # and the reply says so rather than calling them Bob's.
    s.say("2026-11-27T10:00:00Z", "/rapport", "account Hooli type: functional")
    won = s.say("2026-11-28T10:00:00Z", "/rapport", "won Hooli", user=BOB)
    assert "is a Saturday, not one of the owner's working days" in won.text
    paused = s.say("2026-12-03T10:00:00Z", "/rapport", "pause Hooli until: sat reason: x", user=BOB)
    assert "(Sat 5 Dec 2026 is a Saturday, not one of the owner's working days)" in paused.text
    assert "your working days" not in paused.text + won.text


def test_a_new_owner_given_an_account_is_told_by_whom_and_what_is_open(s: Scenario) -> None:
    s.say(MONDAY, "/followup", "Globex send the renewal draft due: 2026-12-02")
    s.say(MONDAY, "/rapport", "qbr Globex next: 2027-01-18")
    s.say(MONDAY, "/rapport", f"account Globex owner: <@{BOB}>")  # Alice gives it away
    s.sweep("2026-11-23T10:05:00Z")
    (given,) = s.dms(BOB)
    said = blocks_text(given)
    assert f"<@{ALICE}> gave you *Globex* (theirs until now), Mon 23 Nov 2026" in said
    assert "It has 2 open items" in said and "`/rapport account Globex`" in said
    assert not [b for b in given["blocks"] if b["type"] == "actions"], "no Undo for the gift"
    assert s.dms(ALICE) == [], "the one who gave it away knows"

    # A third person moves it from Bob to Alice: both hear of it.
    s.say("2026-11-24T10:00:00Z", "/rapport", f"account Globex owner: <@{ALICE}>", user="U0CAROL")
    s.sweep("2026-11-24T10:05:00Z")
    (taken,) = s.dms(BOB)[1:]
    assert f"<@U0CAROL> changed the owner from <@{BOB}> to <@{ALICE}>" in blocks_text(taken)
    (told,) = s.dms(ALICE)
    assert f"<@U0CAROL> gave you *Globex* (it was <@{BOB}>'s)" in blocks_text(told)

    # Taking it oneself tells the old owner only; given and undone at once, nobody new.
    s.say("2026-11-25T10:00:00Z", "/rapport", "account Globex owner: <@U0CAROL>", user="U0CAROL")
    gift = s.say("2026-11-25T10:01:00Z", "/rapport", f"account Globex owner: <@{BOB}>", "U0CAROL")
    assert gift.status == 200
    with s.db() as session:
        latest = session.scalars(select(AccountChange).order_by(AccountChange.id.desc())).first()
        assert latest is not None and latest.kind == "owner"
    click_undo(s, "2026-11-25T10:02:00Z", str(latest.id), user="U0CAROL")
    s.sweep("2026-11-25T10:05:00Z")
    assert s.dms("U0CAROL") == [] and len(s.dms(BOB)) == 2
    assert len(s.dms(ALICE)) == 2, "Alice hears Carol took it"


def test_history_shows_the_time_of_each_change_in_the_readers_zone(s: Scenario) -> None:
    with s.db.begin() as session:
        session.add(UserPrefs(team_id=TEAM, user_id=BOB, tz_override="Asia/Tokyo"))
    s.say("2026-11-23T10:07:00Z", "/rapport", "won Globex")
    mine = s.say("2026-11-23T12:00:00Z", "/rapport", "account Globex history").text
    assert f"Mon 23 Nov 2026 10:07, <@{ALICE}> marked it won" in mine and "times in UTC" in mine
    bobs = s.say("2026-11-23T12:00:00Z", "/rapport", "account Globex history", user=BOB).text
    assert f"Mon 23 Nov 2026 19:07, <@{ALICE}> marked it won" in bobs
    assert "times in Asia/Tokyo" in bobs
