"""The reminder DM's payloads, typed: the item block id the template writes (and the
sweep sends) reads back as the item it names; the snooze modal's metadata and the
rating modal's form read back as written, in the shapes modals already open carry,
and anything else reads as out of date."""

from __future__ import annotations

import json
from datetime import date

import pytest

from handlers.nudges import SnoozeTarget
from handlers.ratings import RatingForm
from messages.ids import HeldReview, NudgeRef, ReviewAnswer
from messages.payloads import OutOfDate


def test_the_block_id_the_template_writes_reads_back_as_its_item() -> None:
    block_id = NudgeRef.block_id(12, "checkin:34", 56)
    assert block_id == "act:12:checkin:34:56"
    ref = NudgeRef.parse(block_id)
    assert ref == NudgeRef(outbox_id=12, kind="checkin", subject_id=34, nudge_id=56)
    assert str(ref) == block_id


@pytest.mark.parametrize(
    "raw",
    [
        "act:1:checkin:2",  # a part missing
        "act:1:checkin:2:3:4",  # one too many
        "nudge:1:checkin:2:3",  # the section's block id, not the buttons'
        "act:1:person:2:3",  # no button names a person
        "act:x:checkin:2:3",
        "act:1:checkin:²:3",  # a digit, but not one Rapport writes
        "act:1:checkin:2:" + "9" * 19,  # past a bigint
        None,
        "act:1:qbr:2:3" + " " * 300,
    ],
)
def test_anything_else_names_no_item(raw: object) -> None:
    assert NudgeRef.parse(raw) is None


def test_the_snooze_modal_carries_the_item_and_its_message() -> None:
    target = SnoozeTarget(
        block_id=NudgeRef(outbox_id=1, kind="commitment", subject_id=2, nudge_id=3),
        channel_id="D0ALICE",
        message_ts="1700000000.000100",
    )
    # The shape modals opened before the model carry.
    assert target.dump() == "act:1:commitment:2:3|D0ALICE|1700000000.000100"
    assert SnoozeTarget.parse(target.dump()) == target
    # Slack sent no container: the item is snoozed, the message left as it is.
    assert SnoozeTarget.parse("act:1:commitment:2:3||").channel_id == ""
    for raw in ("", "act:1:commitment:2:3|D0ALICE", "x:1:commitment:2:3|D|1", None):
        with pytest.raises(OutOfDate):
            SnoozeTarget.parse(raw)


def test_the_rating_form_reads_back_as_written_and_as_it_was() -> None:
    form = RatingForm("act:1:checkin:2:3", "D0ALICE", "1.1", "Globex", "one-week", score=4)
    assert RatingForm.parse(form.dump()) == form
    # A modal opened before the model: every field written, the score as null.
    was = {**form.model_dump(), "score": None}
    assert RatingForm.parse(json.dumps(was)) == form.model_copy(update={"score": None})
    # A lone surrogate reads back as the modal shows it.
    odd = RatingForm("act:1:checkin:2:3", "D0ALICE", "1.1", "Glo\ud800bex", "one-week")
    assert RatingForm.parse(odd.dump()).account_name == "Glo\ufffdbex"
    for raw in ("", "{", "[]", json.dumps({**was, "score": True}), json.dumps({**was, "x": 1})):
        with pytest.raises(OutOfDate, match="Ask for the rating again"):
            RatingForm.parse(raw)


def test_which_review_buttons_carry_the_review_and_its_planned_day() -> None:
    answer = ReviewAnswer(qbr_id=4, planned=date(2027, 1, 17))
    # The shape qbr_which writes, and questions already in Slack carry.
    assert answer.dump() == "4:2027-01-17"
    assert ReviewAnswer.parse("4:2027-01-17") == answer
    for raw in ("4", "x:2027-01-17", "4:2027-13-01", "4:2027-01-17:5", "9" * 19 + ":2027-01-17"):
        with pytest.raises(OutOfDate, match="answered since"):
            ReviewAnswer.parse(raw)


def test_a_held_button_carries_the_day_of_its_review() -> None:
    held = HeldReview(review_on=date(2027, 1, 17))
    # The shape the reminder writes (the review's day, ISO), as buttons in Slack carry it.
    assert held.dump() == "2027-01-17"
    assert HeldReview.parse("2027-01-17") == held
    for raw in ("", "held", "2027-13-01", "2027-01-17:4", None):
        with pytest.raises(OutOfDate):
            HeldReview.parse(raw)
