"""messages.render's cached parse: the same documents as parsing each render in full."""

from __future__ import annotations

import importlib

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from bot.services.concessions import Balance, ConcessionLog
from handlers.edge.errors import usage_for
from messages import render
from messages.ids import Action
from tests.test_render import HOSTILE, account, concession

# `messages.render` is also the name of the function the package exports.
renderer = importlib.import_module("messages.render")


def full_parse(template_name: str, **context: object) -> object:
    source = renderer.render_source(template_name, **context)
    return yaml.load(source, Loader=renderer._YAML_LOADER)


def contexts(text: str) -> list[tuple[str, dict[str, object]]]:
    entries = [concession(text, with_get=i % 2 == 0) for i in range(12)]
    log = ConcessionLog(account=account(text[:80]), entries=entries, balance=Balance(3, 9))  # type: ignore[arg-type]
    return [
        ("concession_logged", {"entry": entries[0], "balance": Balance(1, 0)}),
        ("concession_logged", {"entry": entries[1], "balance": Balance(0, 1), "fits": ()}),
        ("concession_shared", {"entry": entries[1], "balance": Balance(0, 1)}),
        ("concession_log", {"log": log, "actions": Action}),
        (
            "user_error",
            {"problem": text, "key": None, "help": None, "example": None, "typed": None},
        ),
        (
            "user_error",
            {
                "problem": text,
                "key": "due",
                "help": usage_for("/followup"),
                "example": text,
                "typed": text,
            },
        ),
    ]


@given(st.text(max_size=300))
def test_cached_parse_equals_full_parse(text: str) -> None:
    for name, context in contexts(text):
        assert renderer._parse_rendered(name, context) == full_parse(name, **context)


@pytest.mark.parametrize(
    "text", [HOSTILE, "", "null", "true", "123", "- a", "~", "\ue000x:0", "\ud800 \udfff"]
)
def test_yaml_lookalikes_stay_text(text: str) -> None:
    for name, context in contexts(text):
        assert renderer._parse_rendered(name, context) == full_parse(name, **context)


def test_a_render_owns_its_document() -> None:
    first = render("concession_logged", entry=concession("one"), balance=Balance(1, 0))
    first["blocks"][0]["text"]["text"] = "changed"
    first["blocks"].clear()
    second = render("concession_logged", entry=concession("two"), balance=Balance(1, 0))
    assert second == full_parse("concession_logged", entry=concession("two"), balance=Balance(1, 0))
    assert "two" in second["blocks"][1]["text"]["text"]


def test_a_slot_inside_longer_text_is_not_filled() -> None:
    with pytest.raises(renderer._Unfillable):
        renderer._fill({"text": f"before {renderer._SLOT}0"}, ["x"])
    assert renderer._fill({"a": [f"{renderer._SLOT}1", 2, None]}, ["x", "y"]) == {
        "a": ["y", 2, None]
    }
