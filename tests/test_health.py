"""/rapport health and the rating buttons on check-in nudges, through signed Slack requests."""

from __future__ import annotations

import json
from typing import Any

from freezegun import freeze_time
from sqlalchemy import select

from storage.models import Account, Rating, Touch
from tests.conftest import at
from tests.scheduling import Scenario
from tests.slackkit import (
    ALICE,
    BOB,
    OTHER_TEAM,
    Reply,
    block_action,
    blocks_text,
    view_submission,
)

MONDAY = "2026-11-23T15:00:00Z"
# Accounts first named here are old enough on MONDAY to have a score (not "new").
MONTH_BEFORE = "2026-10-19T15:00:00Z"


def test_health_of_an_account_shows_every_part(s: Scenario) -> None:
    s.say(MONTH_BEFORE, "/concede", "acme give: 5% discount get: 24-month term")
    s.say(MONDAY, "/concede", "acme give: free onboarding")
    reply = s.say(MONDAY, "/rapport", "health acme")
    assert reply.status == 200 and reply.ephemeral
    text = reply.text
    assert "acme" in text and "/100" in text
    for label in (
        "Commitments kept on time",
        "Staying in touch",
        "The buyer's ratings",
        "Give/get balance",
        "QBRs on schedule",
        "Check-ins done",
    ):
        assert label in text
    assert "1 of 2 gives traded for something in return; 1 one-way" in text
    assert "no data yet: no QBR scheduled" in text
    assert "shared among the parts that have data" in text


def test_health_of_an_unknown_account_is_a_clear_error(s: Scenario) -> None:
    reply = s.say(MONDAY, "/rapport", "health initech")
    assert reply.status == 200 and reply.ephemeral
    assert "no account called “initech”" in reply.text


def test_health_alone_lists_my_accounts_lowest_first(s: Scenario) -> None:
    s.say(MONTH_BEFORE, "/concede", "acme give: 5% discount get: 24-month term")
    s.say(MONTH_BEFORE, "/concede", "globex give: free onboarding")
    s.say(MONDAY, "/concede", "initech give: a pilot", user=BOB)
    reply = s.say(MONDAY, "/rapport", "health")
    assert reply.ephemeral
    text = reply.text
    assert "globex" in text and "acme" in text and "initech" not in text
    assert text.index("globex") < text.index("acme"), "the one-way give scores lower"
    assert "weakest: give/get balance" in text


def test_a_brand_new_account_says_it_is_new_instead_of_a_score(s: Scenario) -> None:
    s.say(MONDAY, "/concede", "hooli give: a pilot get: a case study")
    reply = s.say(MONDAY, "/rapport", "health hooli")
    assert "new, not enough history yet" in reply.text and "/100" not in reply.text
    assert "new, not enough history yet" in s.say(MONDAY, "/rapport", "health").text


# --- rating a check-in from its nudge -------------------------------------------------

CHECKIN_DAY = "2026-11-30T09:00:00Z"


def _rating_modal(s: Scenario) -> dict[str, Any]:
    s.say(MONTH_BEFORE, "/concede", "acme give: 5% discount get: 24-month term")
    s.say(MONDAY, "/rapport", "won acme")
    s.sweep(CHECKIN_DAY)
    (message,) = s.dms()
    assert "Record their rating" in blocks_text(message)
    s.click("2026-11-30T10:00:00Z", message, "nudge_rate")
    (opened,) = s.slack.calls("views.open")
    view: dict[str, Any] = opened.args["view"]
    return view


def _pick_score(s: Scenario, view: dict[str, Any], score: int) -> dict[str, Any]:
    payload = block_action(f"rating_score_{score}", str(score))
    payload["container"] = {"type": "view", "view_id": "V0MODAL"}
    payload["actions"][0]["block_id"] = "rating_score"
    payload["view"] = {
        "id": "V0MODAL",
        "type": "modal",
        "callback_id": view["callback_id"],
        "private_metadata": view["private_metadata"],
        "hash": "1.abc",
        "state": {"values": {}},
    }
    before = len(s.slack.calls("views.update"))
    with freeze_time(at("2026-11-30T10:01:00Z"), real_asyncio=True):
        assert s.slack_user.interact(payload).status == 200
        s.settle()
    updated: dict[str, Any] = s.slack.calls("views.update")[before].args["view"]
    return updated


def _answer(view: dict[str, Any], kind: str = "csat", day: str = "2026-11-27", **kw: Any) -> Any:
    return view_submission(
        "buyer_rating",
        {
            "rating_kind": {"value": {"type": "radio_buttons", "selected_option": {"value": kind}}},
            "rating_contact": {"value": {"type": "datepicker", "selected_date": day}},
        },
        private_metadata=view["private_metadata"],
        **kw,
    )


def _submit(s: Scenario, payload: dict[str, Any], when: str = "2026-11-30T10:02:00Z") -> Reply:
    with freeze_time(at(when), real_asyncio=True):
        reply = s.slack_user.interact(payload)
        s.settle()
    assert reply.status == 200
    return reply


def _score(s: Scenario, when: str = "2026-11-30T10:05:00Z") -> int:
    text = s.say(when, "/rapport", "health acme").text
    return int(text.split("health ", 1)[1].split("/100", 1)[0])


def test_rating_from_the_check_in_nudge_feeds_the_score_once(s: Scenario) -> None:
    view = _rating_modal(s)
    assert view["callback_id"] == "buyer_rating"
    assert "2026-11-30" in json.dumps(view), "the last contact defaults to today"
    before = _score(s, "2026-11-30T10:00:30Z")

    chosen = _pick_score(s, view, 3)
    (three,) = [
        e for b in chosen["blocks"] if b.get("block_id") == "rating_score" for e in b["elements"]
    ][3:4]
    assert three.get("style") == "primary" and "Chosen: *3*/10" in blocks_text(chosen)

    _submit(s, _answer(chosen))
    (update,) = s.slack.calls("chat.update")
    assert "CSAT 3/10 recorded" in blocks_text(update.args)
    assert "Record their rating" not in blocks_text(update.args)
    with s.db() as session:
        (rating,) = session.scalars(select(Rating)).all()
        touch = session.scalars(select(Touch)).one()
        account = session.scalars(select(Account)).one()
    assert (rating.kind, rating.score, str(rating.contact_on)) == ("csat", 3, "2026-11-27")
    assert rating.checkin_id is not None and rating.recorded_by == ALICE
    assert touch.at == at("2026-11-27T12:00:00Z") and account.last_touch_at == touch.at

    after = _score(s)
    assert after < before, "a 3/10 from the buyer lowers the score"
    health_text = s.say("2026-11-30T10:05:00Z", "/rapport", "health acme").text
    assert "latest CSAT 3/10" in health_text

    # The same form submitted again, and a click on an old copy of the nudge.
    _submit(s, _answer(chosen), when="2026-11-30T10:06:00Z")
    s.click("2026-11-30T10:07:00Z", s.dms()[0], "nudge_rate")
    with s.db() as session:
        assert len(session.scalars(select(Rating)).all()) == 1
        assert len(session.scalars(select(Touch)).all()) == 1
    assert len(s.slack.calls("views.open")) == 1, "no second modal once it is recorded"
    assert _score(s, "2026-11-30T10:08:00Z") == after


def test_a_rating_needs_a_score_and_a_past_day(s: Scenario) -> None:
    view = _rating_modal(s)
    no_score = _submit(s, _answer(view))
    assert no_score.body["response_action"] == "update"
    assert "Click the score they gave" in blocks_text(no_score.body["view"])

    chosen = _pick_score(s, view, 9)
    # The one range rule for dates, in its words, under the date picker (issue 11).
    future = _submit(s, _answer(chosen, day="2026-12-05"))
    assert future.body == {
        "response_action": "errors",
        "errors": {
            "rating_contact": "Sat 5 Dec 2026, which is still ahead. The last contact must be "
            "today (Mon 30 Nov 2026) or before."
        },
    }
    too_old = _submit(s, _answer(chosen, day="2025-11-29"))
    assert too_old.body["errors"] == {
        "rating_contact": "Sat 29 Nov 2025, more than one year ago. The last contact must be "
        "within one year, from Sun 30 Nov 2025 on."
    }
    with s.db() as session:
        assert session.scalars(select(Rating)).all() == []
        assert session.scalars(select(Touch)).all() == []
    assert s.slack.calls("chat.update") == []
    # A year ago to the day is within the rule.
    assert _submit(s, _answer(chosen, day="2025-11-30")).body == {}
    with s.db() as session:
        assert len(session.scalars(select(Rating)).all()) == 1


def test_another_team_cannot_record_on_our_check_in(s: Scenario) -> None:
    view = _pick_score(s, _rating_modal(s), 0)
    _submit(s, _answer(view, team=OTHER_TEAM))
    with s.db() as session:
        assert session.scalars(select(Rating)).all() == []
    # Their own account of the same name, rated, leaves ours alone.
    s.say(MONDAY, "/concede", "acme give: a pilot", user=BOB)
    with freeze_time(at("2026-11-30T10:03:00Z"), real_asyncio=True):
        theirs = s.slack_user.command("/rapport", "health acme", user=BOB, team=OTHER_TEAM)
    assert "no account called" in theirs.text
    assert "no CSAT or NPS answer recorded" in s.say(MONDAY, "/rapport", "health acme").text


def test_a_check_in_marked_done_can_still_be_rated(s: Scenario) -> None:
    s.say(MONDAY, "/rapport", "won acme")
    s.sweep(CHECKIN_DAY)
    s.click("2026-11-30T10:00:00Z", s.dms()[0], "nudge_done")
    (update,) = s.slack.calls("chat.update")
    text = blocks_text(update.args)
    assert ":white_check_mark: Done" in text and "Record their rating" in text
    s.click("2026-11-30T10:01:00Z", update.args | {"channel": s.dms()[0]["channel"]}, "nudge_rate")
    assert len(s.slack.calls("views.open")) == 1
