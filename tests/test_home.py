"""App Home: opening the tab publishes the user's own dashboard."""

from __future__ import annotations

import time

from freezegun import freeze_time

from bot.localslack import LocalSlack
from tests.slackkit import ALICE, BOB, OTHER_TEAM, SlackSender, blocks_text


def open_home(slack_user: SlackSender, user: str, team: str = "T0ACME") -> None:
    payload = {
        "token": "x",
        "team_id": team,
        "api_app_id": "A0RAPPORT",
        "type": "event_callback",
        "event_id": f"Ev{user}{team}",
        "event_time": int(time.time()),
        "event": {"type": "app_home_opened", "user": user, "channel": "D0HOME", "tab": "home"},
    }
    import json

    response = slack_user.post_signed(json.dumps(payload))
    assert response.status_code == 200


def wait_for(slack: LocalSlack, method: str, count: int) -> list[dict]:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        calls = slack.calls(method)
        if len(calls) >= count:
            return [c.args for c in calls]
        time.sleep(0.02)
    raise AssertionError(f"{method} was not called {count} times")


def test_home_lists_my_open_followups_and_gives(slack_user: SlackSender, slack: LocalSlack) -> None:
    with freeze_time("2026-11-23T10:00:00Z", real_asyncio=True):
        slack_user.command("/followup", "acme send the pricing sheet due: fri")
        slack_user.command("/followup", "globex call back due: fri", user=BOB)
        slack_user.command("/concede", "acme give: free onboarding")

    open_home(slack_user, ALICE)

    (published,) = wait_for(slack, "views.publish", 1)
    assert published["user_id"] == ALICE
    text = blocks_text(published["view"])
    assert "send the pricing sheet" in text
    assert "free onboarding" in text and "nothing back yet" in text
    assert "call back" not in text, "Bob's follow-up is Bob's"


def test_home_of_another_team_shows_nothing_of_ours(
    slack_user: SlackSender, slack: LocalSlack
) -> None:
    with freeze_time("2026-11-23T10:00:00Z", real_asyncio=True):
        slack_user.command("/followup", "acme send the pricing sheet due: fri")

    open_home(slack_user, ALICE, team=OTHER_TEAM)

    (published,) = wait_for(slack, "views.publish", 1)
    assert "send the pricing sheet" not in blocks_text(published["view"])
    assert "Nothing open" in blocks_text(published["view"])


def test_home_shows_accounts_going_quiet(slack_user: SlackSender, slack: LocalSlack) -> None:
    with freeze_time("2026-09-01T10:00:00Z", real_asyncio=True):
        slack_user.command("/rapport", "account acme type: strategic")
        slack_user.command("/rapport", "account globex type: transactional")
    with freeze_time("2026-09-20T10:00:00Z", real_asyncio=True):
        open_home(slack_user, ALICE)
        (published,) = wait_for(slack, "views.publish", 1)
    text = blocks_text(published["view"])
    assert "Going quiet" in text
    assert "*acme*: 19 days since the last touch (aim for every 7)" in text
    assert "globex" not in text.split("Going quiet")[1].split("recent concessions")[0]
