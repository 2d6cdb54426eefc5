"""The typed payloads Rapport round-trips through Slack (messages/payloads.py):
what `dump` writes reads back, and anything else is the one "out of date" answer."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handlers.edge.payloads import action_value
from messages.payloads import (
    BlockId,
    ButtonValue,
    Metadata,
    OutOfDate,
    Page,
    PayloadTooLarge,
    RowId,
    Text,
)


class Form(Metadata):
    OUT_OF_DATE = "This form is out of date. Run `/x` again."

    entry_id: RowId | None = None
    channel_id: Text | None = None


class Pair(ButtonValue):
    SEPARATOR = ":"

    entry_id: RowId
    page: Page


class Ref(BlockId):
    SEPARATOR = ":"

    kind: Text
    entry_id: RowId


def test_what_dump_writes_parse_reads() -> None:
    assert Form.parse(Form(entry_id=5, channel_id="C0DEALS").dump()) == Form(
        entry_id=5, channel_id="C0DEALS"
    )
    assert Form().dump() == "{}" and Form.parse("") == Form()
    assert Pair(entry_id=12, page=3).dump() == "12:3"
    assert Pair.parse("12:3") == Pair(entry_id=12, page=3)
    assert Ref.parse(Ref(kind="entry", entry_id=7).dump()) == Ref(kind="entry", entry_id=7)


def test_payloads_are_frozen() -> None:
    with pytest.raises(ValueError):
        Pair(entry_id=1, page=1).page = 2  # type: ignore[misc]


@pytest.mark.parametrize(
    "raw",
    [
        "not json",
        "[]",
        '{"entry_id": true}',
        '{"entry_id": -1}',
        '{"entry_id": 1.5}',
        '{"channel_id": ""}',
        '{"channel_id": 5}',
        '{"unknown": 1}',
        '{"entry_id": 99999999999999999999}',
        "x" * 3001,
    ],
)
def test_malformed_metadata_is_out_of_date(raw: str) -> None:
    with pytest.raises(OutOfDate) as caught:
        Form.parse(raw)
    assert caught.value.problem == "This form is out of date. Run `/x` again."


@pytest.mark.parametrize(
    "raw", ["", "1", "1:2:3", "a:1", "1:0", "1:", ":1", " 1:1", "1:1 ", "²:1", "1" * 19 + ":1"]
)
def test_malformed_button_values_are_out_of_date(raw: str) -> None:
    with pytest.raises(OutOfDate):
        Pair.parse(raw)


@given(st.text(max_size=300))
def test_any_text_parses_or_is_out_of_date(raw: str) -> None:
    # Anything but a parse or OutOfDate (a ValidationError, a KeyError) fails the test.
    for model in (Form, Pair, Ref):
        with contextlib.suppress(OutOfDate):
            model.parse(raw)


def test_what_would_not_fit_is_refused_when_written() -> None:
    with pytest.raises(PayloadTooLarge):
        Ref(kind="k" * 300, entry_id=1).dump()


@pytest.mark.parametrize(
    ("body", "value"),
    [
        ({"actions": [{"value": "12:3"}]}, "12:3"),
        ({"actions": [{"selected_option": {"value": "7"}}]}, "7"),
        ({"actions": []}, ""),
        ({"actions": [{"value": 5}]}, ""),
        ({}, ""),
    ],
)
def test_action_value_reads_a_button_or_a_menu(body: dict[str, Any], value: str) -> None:
    assert action_value(body) == value


def test_an_origin_that_does_not_read_means_no_redraw_not_a_lost_edit() -> None:
    from handlers.concede import ConcessionForm, Origin

    form = ConcessionForm(concession_id=3, channel_id="C0DEALS", origin=Origin(response_url="u"))
    assert ConcessionForm.parse(form.dump()) == form
    junk = '{"concession_id": 3, "origin": {"page": 0, "channel_id": "C0"}}'
    assert ConcessionForm.parse(junk) == ConcessionForm(concession_id=3)
    # What the form wrote before it was a model still reads.
    old = '{"concession_id": null, "channel_id": "", "origin": null}'
    assert ConcessionForm.parse(old) == ConcessionForm()


def test_the_features_buttons_say_which_command_to_run_again() -> None:
    from messages.ids import LogButton, PickButton

    with pytest.raises(OutOfDate, match="/concede ACCOUNT"):
        LogButton.parse("1:")
    with pytest.raises(OutOfDate, match="/meso ACCOUNT"):
        PickButton.parse("1:100")
    assert PickButton.parse("12:2") == PickButton(meso_id=12, position=2)


def test_an_account_choice_keeps_no_mention_in_the_message() -> None:
    from handlers.edge.accounts import AccountChoice

    choice = AccountChoice(command="/concede", text="<!channel> & co give: x", account_id=4)
    value = choice.dump()
    assert "<" not in value and ">" not in value and "&" not in value
    assert AccountChoice.parse(value) == choice
    with pytest.raises(OutOfDate):
        AccountChoice.parse('{"c": "/evil", "t": "x", "a": 1}')
