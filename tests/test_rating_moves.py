"""Acting on a buyer's answer, from the check-in reminder: a high one suggests asking
for a referral, with a line to say; a low one suggests the recovery move and records
its follow-up with one click. Through signed Slack requests and the sweep."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from messages.ids import RecoveryButton
from storage.models import Commitment, Rating
from tests.scheduling import Scenario
from tests.slackkit import blocks_text
from tests.test_health import _answer, _pick_score, _rating_modal, _submit

REFERRAL_LINE = "Who else do you know wrestling with the same problem?"
RECOVERY_LINE = "What went wrong from where you sit"


def _rate(s: Scenario, kind: str, score: int) -> dict[str, Any]:
    """Record `kind` `score` from the check-in reminder; the reminder as redrawn."""
    view = _pick_score(s, _rating_modal(s), score)
    _submit(s, _answer(view, kind=kind))
    (update,) = s.slack.calls("chat.update")
    return update.args


def test_a_csat_of_ten_suggests_asking_for_a_referral(s: Scenario) -> None:
    text = blocks_text(_rate(s, "csat", 10))
    assert "CSAT 10/10 recorded, meets the target of above 8" in text
    assert "A high point: the moment to ask for an introduction." in text
    assert "*Ask for a referral at a high point*" in text and REFERRAL_LINE in text
    assert RECOVERY_LINE not in text and "Record a follow-up" not in text


def test_an_nps_detractor_suggests_recovery_and_records_its_follow_up_once(s: Scenario) -> None:
    reminder = _rate(s, "nps", 4)
    text = blocks_text(reminder)
    assert "NPS 4/10 recorded, a detractor" in text
    assert "A low score: find out what went wrong before anything else." in text
    assert "*Recover after a low score*" in text and RECOVERY_LINE in text
    assert REFERRAL_LINE not in text

    s.click("2026-11-30T10:10:00Z", reminder, "nudge_recovery")
    with s.db() as session:
        (followup,) = session.scalars(select(Commitment)).all()
        rating = session.scalars(select(Rating)).one()
    assert followup.what == "Hear what is behind their NPS of 4/10 and agree one fix, with a date"
    # The next working day after Monday's answer, the owner's to keep.
    assert followup.due_on == date(2026, 12, 1) and followup.owner_id == rating.recorded_by
    assert rating.followup_id == followup.id
    redrawn = s.slack.calls("chat.update")[-1].args
    assert "Follow-up recorded: Hear what is behind their NPS of 4/10" in blocks_text(redrawn)
    assert "due Tue 1 Dec" in blocks_text(redrawn)
    assert "Record a follow-up" not in blocks_text(redrawn)

    # A second click on the old copy of the reminder records nothing more.
    s.click("2026-11-30T10:11:00Z", reminder, "nudge_recovery")
    with s.db() as session:
        assert len(session.scalars(select(Commitment)).all()) == 1
    listed = s.say("2026-11-30T10:12:00Z", "/followup", "").text
    assert "Hear what is behind their NPS of 4/10" in listed


@pytest.mark.parametrize(("kind", "score"), [("nps", 8), ("csat", 7)])
def test_an_answer_in_between_suggests_neither(s: Scenario, kind: str, score: int) -> None:
    text = blocks_text(_rate(s, kind, score))
    assert f"{kind.upper()} {score}/10 recorded" in text
    assert REFERRAL_LINE not in text and RECOVERY_LINE not in text
    assert "Record a follow-up" not in text


def test_a_low_csat_is_a_low_mark_too(s: Scenario) -> None:
    text = blocks_text(_rate(s, "csat", 6))
    assert "CSAT 6/10 recorded, short of the target of above 8" in text
    assert RECOVERY_LINE in text and "Record a follow-up" in text


def test_a_forged_rating_on_the_button_records_nothing(s: Scenario) -> None:
    reminder = _rate(s, "nps", 2)
    with s.db() as session:
        rating_id = session.scalars(select(Rating.id)).one()
    # Another rating's id (none such), and a value this code never wrote.
    s.click(
        "2026-11-30T10:10:00Z",
        reminder,
        "nudge_recovery",
        value=RecoveryButton(rating_id=rating_id + 1).dump(),
    )
    s.click("2026-11-30T10:10:00Z", reminder, "nudge_recovery", value="rate")
    with s.db() as session:
        assert session.scalars(select(Commitment)).all() == []
