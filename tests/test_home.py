"""App Home: opening the tab publishes the user's dashboard; what they do refreshes it."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from freezegun import freeze_time

from bot.config import Settings
from bot.devtools.localslack import LocalSlack
from bot.scheduler.delivery import ClientForTeam
from handlers.edge import after_ack
from handlers.home import SnoozeForm
from messages.ids import Action, View
from storage.db import SessionFactory
from storage.models import Account, CheckIn, Commitment, Concession, Qbr, UserPrefs
from tests.conftest import at
from tests.scheduling import Scenario
from tests.slackkit import (
    ALICE,
    BOB,
    OTHER_TEAM,
    TEAM,
    SlackSender,
    block_action,
    blocks_text,
    view_submission,
)

# Held in a tuple so freezegun leaves it alone: waits inside a frozen clock still end.
_REAL_CLOCK = (time.monotonic,)
MONDAY = "2026-11-23T10:00:00Z"
HOME = {"type": "view", "view_id": "V0HOME"}


def open_home(slack_user: SlackSender, user: str, team: str = TEAM) -> None:
    payload = {
        "token": "x",
        "team_id": team,
        "api_app_id": "A0RAPPORT",
        "type": "event_callback",
        "event_id": f"Ev{uuid.uuid4().hex[:10]}",  # each opening is an event of its own
        "event_time": int(time.time()),
        "event": {"type": "app_home_opened", "user": user, "channel": "D0HOME", "tab": "home"},
    }
    response = slack_user.post_signed(json.dumps(payload))
    assert response.status_code == 200


def wait_for(slack: LocalSlack, method: str, count: int) -> list[dict]:
    """The calls to `method` once there are `count` of them (work after an ack is async)."""
    deadline = _REAL_CLOCK[0]() + 10
    while _REAL_CLOCK[0]() < deadline:
        calls = slack.calls(method)
        if len(calls) >= count:
            return [c.args for c in calls]
        time.sleep(0.02)
    raise AssertionError(f"{method} was not called {count} times: {len(slack.calls(method))}")


def home_at(slack_user: SlackSender, slack: LocalSlack, when: str, user: str = ALICE) -> dict:
    """Open Home at `when` and return the view published for it."""
    before = len(slack.calls("views.publish"))
    with freeze_time(at(when), real_asyncio=True):
        open_home(slack_user, user)
        published = wait_for(slack, "views.publish", before + 1)[before]
    assert published["user_id"] == user
    view: dict[str, Any] = published["view"]
    return view


def section(view: dict, title: str) -> str:
    """The text under the header `title`, up to the next header."""
    text = blocks_text(view)
    assert title in text, f"no {title!r} section in:\n{text}"
    after = text.split(title, 1)[1]
    headers = [b["text"]["text"] for b in view["blocks"] if b["type"] == "header"]
    following = headers[headers.index(title) + 1 :]
    return after.split(following[0], 1)[0] if following else after


def element(view: dict, action_id: str, commitment_id: int | None = None) -> dict:
    for block in view["blocks"]:
        for candidate in block.get("elements", []) + [block.get("accessory") or {}]:
            if candidate.get("action_id") != action_id:
                continue
            if commitment_id is None or block.get("block_id") == f"home_commitment_{commitment_id}":
                return dict(candidate)
    raise AssertionError(f"no {action_id} on Home")


def click(
    s: Scenario, when: str, action_id: str, value: str, then: str = "views.publish", **extra: Any
) -> None:
    """Click a Home button at `when`, and wait (still at `when`) for the Slack call `then`."""
    payload = block_action(action_id, value, container=HOME)
    payload["view"] = {"id": "V0HOME", "type": "home"}
    payload["actions"][0].update(extra)
    before = len(s.slack.calls(then))
    with freeze_time(at(when), real_asyncio=True):
        assert s.slack_user.interact(payload).status == 200
        wait_for(s.slack, then, before + 1)


def command(slack_user: SlackSender, when: str, name: str, text: str, user: str = ALICE) -> None:
    with freeze_time(at(when), real_asyncio=True):
        reply = slack_user.command(name, text, user=user)
        assert reply.status == 200 and "Try:" not in reply.text, reply.text
        after_ack.drain()


def commitment_ids(db: SessionFactory) -> dict[str, int]:
    with db() as session:
        return {c.what: c.id for c in session.query(Commitment)}


@pytest.fixture
def s(
    slack_user: SlackSender,
    slack: LocalSlack,
    db: SessionFactory,
    client_for: ClientForTeam,
    settings: Settings,
) -> Iterator[Scenario]:
    yield Scenario(slack_user, slack, db, client_for, settings)


# --- the dashboard -----------------------------------------------------------------


def test_home_shows_every_section_of_my_dashboard(s: Scenario) -> None:
    with s.db.begin() as session:
        session.add(UserPrefs(team_id=TEAM, user_id=ALICE, tz_override="Asia/Tokyo"))
    command(s.slack_user, "2026-09-01T01:00:00Z", "/rapport", "account acme type: strategic")
    command(s.slack_user, "2026-09-01T01:00:00Z", "/rapport", "account globex")
    command(s.slack_user, "2026-09-01T01:00:00Z", "/rapport", "account initech", user=BOB)
    command(s.slack_user, MONDAY, "/followup", "acme send the pricing sheet due: fri")
    command(s.slack_user, MONDAY, "/followup", "initech call back due: fri", user=BOB)
    command(s.slack_user, MONDAY, "/rapport", "qbr acme next: 2026-12-10")
    command(s.slack_user, MONDAY, "/rapport", "qbr initech next: 2026-12-11", user=BOB)
    command(s.slack_user, MONDAY, "/rapport", "won globex")
    command(s.slack_user, MONDAY, "/concede", "acme give: free onboarding")
    command(s.slack_user, MONDAY, "/concede", "acme give: 5% off get: 24-month term")

    view = home_at(s.slack_user, s.slack, MONDAY)

    assert view["type"] == "home"
    text = blocks_text(view)
    # 10:00 UTC Monday is 19:00 Monday in Tokyo: dates are Alice's.
    assert "Dates are in Asia/Tokyo; today is Mon 23 Nov 2026" in text
    accounts = section(view, "Your accounts, weakest first")
    assert "*acme*" in accounts and "*globex*" in accounts and "initech" not in accounts
    assert "/100 · " in accounts and "Pulling it down: " in accounts
    assert accounts.index("*acme*") < accounts.index("*globex*"), "acme is quiet and owes a give"
    followups = section(view, "Open follow-ups")
    assert "send the pricing sheet" in followups and "due Fri 27 Nov 2026" in followups
    assert "call back" not in followups, "Bob's follow-up is Bob's"
    assert element(view, Action.HOME_DONE)["text"]["text"] == "Done"
    assert element(view, Action.HOME_SNOOZE)["type"] == "static_select"
    coming = section(view, "Coming up: QBRs and check-ins")
    assert "Thu 10 Dec 2026: QBR with *acme*" in coming
    assert "Mon 30 Nov 2026: one-week check-in with *globex*" in coming
    assert "initech" not in coming
    gives = section(view, "Your recent concessions")
    assert "nothing back yet\n:handshake: Mon 23 Nov 2026, *acme*: gave 5% off" not in gives
    assert "gave free onboarding; nothing back yet" in gives and "got 24-month term" in gives
    assert "Last 30 days: 1 give traded for something, 1 with nothing back." in gives
    quiet = section(view, "Going quiet")
    assert "*acme*: 83 days since the last touch (aim for every 7)" in quiet
    settings = section(view, "Your settings")
    assert "*Working hours:* 09:00–18:00, Mon–Fri" in settings
    assert "*Time zone:* Asia/Tokyo (set by you)" in settings
    assert "your accounts are included" in settings
    assert element(view, Action.HOME_EDIT_SETTINGS)["type"] == "button"


def test_home_of_a_new_user_says_how_to_start(s: Scenario) -> None:
    view = home_at(s.slack_user, s.slack, MONDAY)
    text = blocks_text(view)
    assert "You own no accounts yet" in text
    assert "Nothing open" in text and "Nothing in the next 30 days" in text
    assert "None logged" in text and "Going quiet" not in text
    assert "(the team default)" in text


def test_home_dates_follow_the_viewers_slack_time_zone(s: Scenario) -> None:
    # Alice never ran a command: opening Home asks Slack where she is.
    s.slack.state.users[ALICE] = {"tz": "Pacific/Kiritimati"}

    view = home_at(s.slack_user, s.slack, "2026-11-25T12:00:00Z")

    text = blocks_text(view)
    assert "*Time zone:* Pacific/Kiritimati (from your Slack profile)" in text
    assert "today is Thu 26 Nov 2026" in text  # 12:00 UTC is 02:00 the next day there


def test_home_of_another_team_shows_nothing_of_ours(s: Scenario) -> None:
    command(s.slack_user, MONDAY, "/followup", "acme send the pricing sheet due: fri")
    command(s.slack_user, MONDAY, "/rapport", "qbr acme next: 2026-12-10")
    command(s.slack_user, MONDAY, "/concede", "acme give: free onboarding")

    with freeze_time(at(MONDAY), real_asyncio=True):
        open_home(s.slack_user, ALICE, team=OTHER_TEAM)
        (published,) = wait_for(s.slack, "views.publish", 1)
    text = blocks_text(published["view"])
    assert "acme" not in text and "pricing sheet" not in text and "onboarding" not in text
    assert "You own no accounts yet" in text and "Nothing open" in text

    # Nor can a click from the other team close our follow-up.
    (commitment_id,) = commitment_ids(s.db).values()
    payload = block_action(Action.HOME_DONE, str(commitment_id), team=OTHER_TEAM, container=HOME)
    with freeze_time(at(MONDAY), real_asyncio=True):
        assert s.slack_user.interact(payload).status == 200
        wait_for(s.slack, "views.publish", 2)
    with s.db() as session:
        assert session.get(Commitment, commitment_id).done_at is None  # type: ignore[union-attr]


def test_a_big_book_of_business_stays_within_slacks_block_limit(s: Scenario) -> None:
    created = at("2026-06-01T09:00:00Z")
    with s.db.begin() as session:
        for n in range(60):
            account = Account(
                team_id=TEAM,
                key=f"account {n:02}",
                name=f"Account {n:02} " + "&" * 60,
                owner_id=ALICE,
                created_by=ALICE,
                created_at=created,
            )
            session.add(account)
            session.flush()
            for k in range(3):
                session.add(
                    Commitment(
                        team_id=TEAM,
                        account_id=account.id,
                        owner_id=ALICE,
                        what=f"promise {k} " + "<!channel> " * 300,
                        due_on=date(2026, 11, 20 + k),
                        due_at=datetime(2026, 11, 21 + k, tzinfo=UTC),
                        created_by=ALICE,
                        created_at=created,
                    )
                )
            session.add(
                Qbr(
                    team_id=TEAM,
                    account_id=account.id,
                    next_on=date(2026, 12, 1) + timedelta(days=n % 20),
                    created_by=ALICE,
                )
            )
            session.add(
                CheckIn(
                    team_id=TEAM, account_id=account.id, due_on=date(2026, 12, 2), label="one-month"
                )
            )
            session.add(
                Concession(
                    team_id=TEAM,
                    account_id=account.id,
                    give="x" * 500,
                    get=None,
                    logged_by=ALICE,
                    logged_at=at("2026-11-20T09:00:00Z"),
                )
            )

    view = home_at(s.slack_user, s.slack, MONDAY)

    assert len(view["blocks"]) <= 100
    text = blocks_text(view)
    assert "…and 45 more in better health" in text
    assert "…and 170 more open" in text
    assert "…and 110 more in the next 30 days" in text
    assert "…and 50 more going quiet" in text
    assert "Last 30 days: 0 gives traded for something, 60 with nothing back." in text
    assert "<!channel>" not in json.dumps(view)


# --- refreshing after what the user does ----------------------------------------------


def test_done_from_home_closes_the_followup_and_republishes(s: Scenario) -> None:
    command(s.slack_user, MONDAY, "/followup", "acme send the pricing sheet due: fri")
    command(s.slack_user, MONDAY, "/followup", "acme book the demo due: thu")
    view = home_at(s.slack_user, s.slack, MONDAY)
    ids = commitment_ids(s.db)
    done = element(view, Action.HOME_DONE, ids["send the pricing sheet"])

    click(s, "2026-11-24T10:00:00Z", Action.HOME_DONE, done["value"])

    published = wait_for(s.slack, "views.publish", 2)[1]
    followups = section(published["view"], "Open follow-ups")
    assert "pricing sheet" not in followups and "book the demo" in followups
    with s.db() as session:
        closed = session.get(Commitment, ids["send the pricing sheet"])
        assert closed is not None and closed.done_by == ALICE and closed.kept_on_time


def test_someone_elses_followup_cannot_be_closed_from_my_home(s: Scenario) -> None:
    command(s.slack_user, MONDAY, "/followup", "acme send the pricing sheet due: fri", user=BOB)
    (bobs,) = commitment_ids(s.db).values()

    click(s, MONDAY, Action.HOME_DONE, str(bobs))

    wait_for(s.slack, "views.publish", 1)
    with s.db() as session:
        assert session.get(Commitment, bobs).done_at is None  # type: ignore[union-attr]


def test_snooze_from_home_waits_until_my_next_working_morning(s: Scenario) -> None:
    with s.db.begin() as session:
        session.add(UserPrefs(team_id=TEAM, user_id=ALICE, tz_override="Europe/Berlin"))
    command(s.slack_user, MONDAY, "/followup", "acme send the pricing sheet due: fri")
    view = home_at(s.slack_user, s.slack, MONDAY)
    (commitment_id,) = commitment_ids(s.db).values()
    select = element(view, Action.HOME_SNOOZE, commitment_id)
    tomorrow = next(o for o in select["options"] if o["value"].endswith(":tomorrow"))

    click(s, MONDAY, Action.HOME_SNOOZE, "", selected_option=tomorrow)

    published = wait_for(s.slack, "views.publish", 2)[1]
    assert "snoozed until Tue 24 Nov 2026" in section(published["view"], "Open follow-ups")
    with s.db() as session:
        snoozed = session.get(Commitment, commitment_id)
        assert snoozed is not None
        assert snoozed.snoozed_until == at("2026-11-24T08:00:00Z")  # 09:00 in Berlin


def test_snooze_to_a_picked_day_from_home(s: Scenario) -> None:
    command(s.slack_user, MONDAY, "/followup", "acme send the pricing sheet due: fri")
    view = home_at(s.slack_user, s.slack, MONDAY)
    (commitment_id,) = commitment_ids(s.db).values()
    pick = next(
        o
        for o in element(view, Action.HOME_SNOOZE, commitment_id)["options"]
        if o["value"].endswith(":pick")
    )

    click(s, MONDAY, Action.HOME_SNOOZE, "", then="views.open", selected_option=pick)
    (opened,) = wait_for(s.slack, "views.open", 1)
    assert opened["view"]["callback_id"] == View.HOME_SNOOZE_UNTIL
    picked = {"until": {"day": {"type": "datepicker", "selected_date": "2026-12-01"}}}
    submission = view_submission(
        View.HOME_SNOOZE_UNTIL, picked, private_metadata=opened["view"]["private_metadata"]
    )
    with freeze_time(at(MONDAY), real_asyncio=True):
        assert s.slack_user.interact(submission).status == 200
        wait_for(s.slack, "views.publish", 2)
    with s.db() as session:
        snoozed = session.get(Commitment, commitment_id)
        assert snoozed is not None and snoozed.snoozed_until == at("2026-12-01T09:00:00Z")


def test_a_day_the_home_picker_refuses_snoozes_nothing(s: Scenario) -> None:
    command(s.slack_user, MONDAY, "/followup", "acme send the pricing sheet due: fri")
    home_at(s.slack_user, s.slack, MONDAY)
    (commitment_id,) = commitment_ids(s.db).values()
    picked = {"until": {"day": {"type": "datepicker", "selected_date": "2028-01-10"}}}
    form = SnoozeForm(commitment_id=commitment_id).dump()
    submission = view_submission(View.HOME_SNOOZE_UNTIL, picked, private_metadata=form)
    with freeze_time(at(MONDAY), real_asyncio=True):
        answer = s.slack_user.interact(submission).body
        after_ack.drain()
    assert "within one year" in answer["errors"]["until"]
    with s.db() as session:
        commitment = session.get(Commitment, commitment_id)
        assert commitment is not None and commitment.snoozed_until is None


def test_editing_settings_from_home_saves_them_and_republishes(s: Scenario) -> None:
    view = home_at(s.slack_user, s.slack, MONDAY)
    edit = element(view, Action.HOME_EDIT_SETTINGS)

    click(s, MONDAY, Action.HOME_EDIT_SETTINGS, edit["value"], then="views.open")
    (opened,) = wait_for(s.slack, "views.open", 1)
    modal = opened["view"]
    assert modal["callback_id"] == View.SETTINGS
    assert "Leave me out of team digests" in blocks_text(modal)

    opt_out = {"value": "opt_out", "text": {"type": "plain_text", "text": "x"}}
    values = {
        "work_start": {"value": {"type": "timepicker", "selected_time": "08:30"}},
        "work_end": {"value": {"type": "timepicker", "selected_time": "16:00"}},
        "work_days": {
            "value": {"type": "checkboxes", "selected_options": [{"value": "0"}, {"value": "2"}]}
        },
        "tz_override": {"value": {"type": "plain_text_input", "value": "America/Chicago"}},
        "digest": {"value": {"type": "checkboxes", "selected_options": [opt_out]}},
    }
    with freeze_time(at(MONDAY), real_asyncio=True):
        reply = s.slack_user.interact(view_submission(View.SETTINGS, values))
        assert reply.status == 200 and not reply.body.get("errors")
        published = wait_for(s.slack, "views.publish", 2)[1]

    settings = section(published["view"], "Your settings")
    assert "*Working hours:* 08:30–16:00, Mon, Wed" in settings
    assert "*Time zone:* America/Chicago (set by you)" in settings
    assert "your accounts are left out" in settings
    with s.db() as session:
        prefs = session.get(UserPrefs, (TEAM, ALICE))
        assert prefs is not None and prefs.digest_opt_out is True


def test_my_slash_commands_republish_my_home(s: Scenario) -> None:
    home_at(s.slack_user, s.slack, MONDAY)

    command(s.slack_user, MONDAY, "/followup", "acme send the pricing sheet due: fri")
    published = wait_for(s.slack, "views.publish", 2)[1]
    assert "send the pricing sheet" in section(published["view"], "Open follow-ups")

    command(s.slack_user, MONDAY, "/concede", "acme give: free onboarding")
    published = wait_for(s.slack, "views.publish", 3)[2]
    assert "free onboarding" in section(published["view"], "Your recent concessions")

    command(s.slack_user, MONDAY, "/rapport", "won acme")
    published = wait_for(s.slack, "views.publish", 4)[3]
    assert "check-in with *acme*" in section(published["view"], "Coming up: QBRs and check-ins")

    # Reading changes nothing: no publish.
    command(s.slack_user, MONDAY, "/followup", "")
    command(s.slack_user, MONDAY, "/concede", "acme")
    assert len(s.slack.calls("views.publish")) == 4


def test_nobody_elses_home_is_published_by_my_commands(s: Scenario) -> None:
    home_at(s.slack_user, s.slack, MONDAY, user=BOB)
    # Alice never opened her Home: her command publishes nothing, Bob's is left alone.
    command(s.slack_user, MONDAY, "/followup", "acme send the pricing sheet due: fri")
    assert [c.args["user_id"] for c in s.slack.calls("views.publish")] == [BOB]


def test_done_in_a_nudge_dm_republishes_home(s: Scenario) -> None:
    s.say(MONDAY, "/followup", "acme send the pricing sheet due: fri")
    s.sweep("2026-11-27T09:00:00Z")
    (message,) = s.dms()
    home_at(s.slack_user, s.slack, "2026-11-27T10:00:00Z")

    s.click("2026-11-27T10:00:00Z", message, "nudge_done")

    published = wait_for(s.slack, "views.publish", 2)[1]
    assert "pricing sheet" not in section(published["view"], "Open follow-ups")


def test_a_failed_publish_never_breaks_the_command(
    s: Scenario, caplog: pytest.LogCaptureFixture
) -> None:
    home_at(s.slack_user, s.slack, MONDAY)
    s.slack.fail_next("views.publish", error="internal_error", times=5)

    with freeze_time(at(MONDAY), real_asyncio=True):
        reply = s.slack_user.command("/followup", "acme send the pricing sheet due: fri")
        after_ack.drain()
    assert reply.status == 200 and "pricing sheet" in reply.text
    assert commitment_ids(s.db) != {}
    assert "could not refresh App Home of U0ALICE" in caplog.text
