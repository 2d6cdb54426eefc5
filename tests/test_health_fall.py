"""When an account's health falls, its owner hears once: through the real Bolt app and
the sweep (the daily score, a nudge planned, grouped into the owner's working hours,
rendered by compose), never for a lost or paused account, and by the team's rule."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import HealthAlerts, HealthFall
from tests.scheduling import Scenario
from tests.slackkit import ALICE, BOB, blocks_text

MONTH_BEFORE = "2026-10-19T15:00:00Z"
FELL = "health fell from"


def _acme_with_a_good_week(s: Scenario, first_sweep: str) -> None:
    """Acme, a month old, every give traded; the day's score taken by `first_sweep`."""
    s.say(MONTH_BEFORE, "/concede", "acme give: 5% discount get: 24-month term")
    s.sweep(first_sweep)


def _three_one_way_gives(s: Scenario, when: str, user: str = ALICE) -> None:
    for give in ("free onboarding", "a second sandbox", "priority support"):
        s.say(when, "/concede", f"acme give: {give}", user=user)


def _falls(s: Scenario, user: str = ALICE) -> list[str]:
    return [text for text in s.dm_texts(user) if FELL in text]


def test_a_health_drop_sends_the_owner_one_dm_and_not_a_second_that_week(s: Scenario) -> None:
    _acme_with_a_good_week(s, "2026-11-23T09:00:00Z")
    assert _falls(s) == []
    # Bob, not the owner, hands three gives over one way on Alice's account.
    _three_one_way_gives(s, "2026-11-24T08:00:00Z", user=BOB)
    s.sweep("2026-11-24T09:00:00Z")

    (dm,) = _falls(s)
    assert "*acme*: health fell from" in dm and "in the seven days to Tue 24 Nov 2026" in dm
    assert "What slipped: *Give/get balance*" in dm
    assert "1 of 4 gives traded for something in return; 3 one-way" in dm
    assert "Most likely to help:* *Giving without getting*: Ask for something back" in dm
    assert "`/rapport health acme` shows every part." in dm
    assert _falls(s, BOB) == [], "the owner hears of it, not whoever made the change"
    with s.db() as session:
        (found,) = session.scalars(select(HealthFall)).all()
    assert found.before - found.after > 15
    score_now = s.say("2026-11-24T09:05:00Z", "/rapport", "health acme").text
    assert f"health {found.after}/100" in score_now

    # Still as low the next days: no second DM that week.
    for day in ("25", "26", "27"):
        s.sweep(f"2026-11-{day}T09:00:00Z")
    assert len(_falls(s)) == 1


def test_a_fall_found_on_a_saturday_waits_for_monday_morning(s: Scenario) -> None:
    _acme_with_a_good_week(s, "2026-11-27T09:00:00Z")  # a Friday
    _three_one_way_gives(s, "2026-11-28T08:00:00Z")
    s.sweep("2026-11-28T09:00:00Z")
    s.sweep("2026-11-29T12:00:00Z")
    assert _falls(s) == [], "not on the weekend"
    s.sweep("2026-11-30T09:00:00Z")
    (dm,) = _falls(s)
    assert "in the seven days to Sat 28 Nov 2026" in dm


def test_a_lost_or_paused_account_brings_no_dm(s: Scenario) -> None:
    _acme_with_a_good_week(s, "2026-11-27T09:00:00Z")
    _three_one_way_gives(s, "2026-11-28T08:00:00Z")
    s.sweep("2026-11-28T09:00:00Z")  # found on Saturday, held for Monday
    s.say("2026-11-29T10:00:00Z", "/rapport", "lost acme")
    s.sweep("2026-11-30T09:00:00Z")
    assert _falls(s) == []

    s.say("2026-11-30T10:00:00Z", "/rapport", "reopen acme")
    s.say(
        "2026-11-30T10:01:00Z", "/rapport", "pause acme until: 2026-12-14 reason: year-end freeze"
    )
    _three_one_way_gives(s, "2026-12-01T08:00:00Z")
    for day in ("01", "02", "03"):
        s.sweep(f"2026-12-{day}T09:00:00Z")
    assert _falls(s) == []


def test_the_team_rule_is_shown_and_only_an_admin_changes_it(s: Scenario) -> None:
    s.say(MONTH_BEFORE, "/concede", "acme give: 5% discount get: 24-month term")
    listed = s.say("2026-11-23T08:00:00Z", "/rapport", "health").text
    assert "when its score drops more than 15 points in a week or falls under 45" in listed

    s.slack.add_user(BOB)  # a member, neither admin nor owner
    s.say("2026-11-23T08:01:00Z", "/rapport", "health drop: off below: off", user=BOB)
    (refused,) = s.slack.wait_for("response_url")
    assert "Only a Slack workspace admin or owner" in blocks_text(refused.args)
    with s.db() as session:
        assert session.scalars(select(HealthAlerts)).all() == []

    s.slack.clear()
    s.slack.add_user(ALICE, is_admin=True)
    s.say("2026-11-23T08:02:00Z", "/rapport", "health drop: off below: off")
    (changed,) = s.slack.wait_for("response_url")
    assert "nobody hears when an account's health falls" in blocks_text(changed.args)
    assert "the team turned it off" in s.say("2026-11-23T08:03:00Z", "/rapport", "health acme").text

    # With the rule off, a fall goes untold.
    s.sweep("2026-11-23T09:00:00Z")
    _three_one_way_gives(s, "2026-11-24T08:00:00Z")
    s.sweep("2026-11-24T09:00:00Z")
    assert _falls(s) == []


def test_a_rule_that_cannot_be_read_is_answered_and_nothing_changes(s: Scenario) -> None:
    reply = s.say("2026-11-23T08:00:00Z", "/rapport", "health drop: lots")
    assert "`drop:` takes points a score may fall in a week" in reply.text
    both = s.say("2026-11-23T08:00:00Z", "/rapport", "health acme drop: 20")
    assert "come without an account name" in both.text
    assert s.slack.calls("users.info") == []
    with s.db() as session:
        assert session.scalars(select(HealthAlerts)).all() == []


def test_a_fall_that_is_no_fall_by_the_time_it_would_go_is_not_sent(s: Scenario) -> None:
    _acme_with_a_good_week(s, "2026-11-27T09:00:00Z")
    _three_one_way_gives(s, "2026-11-28T08:00:00Z")
    s.sweep("2026-11-28T09:00:00Z")  # found on Saturday, held for Monday
    with s.db() as session:
        (found,) = session.scalars(select(HealthFall)).all()
    # Over the weekend the team decides that only a bigger drop is news.
    s.slack.add_user(ALICE, is_admin=True)
    s.say("2026-11-29T10:00:00Z", "/rapport", f"health drop: {found.before - found.after + 5}")
    s.sweep("2026-11-30T09:00:00Z")
    assert _falls(s) == []
