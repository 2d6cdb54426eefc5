"""The MESO and concession templates stay valid Block Kit under hostile and oversized text."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.services import concessions, meso
from handlers.edge.sharing import Shared
from messages import render
from messages.ids import Action, ConcessionBlock, MesoBlock, MesoOfferField, View, offer_block
from tests.slackkit import mrkdwn_texts

NOW = datetime(2026, 11, 22, 10, tzinfo=UTC)
HOSTILE = "<!channel> @here & <https://evil.test|invoice> \u2028 *bold* \"q\" 'a' : - # | ~"


def offers(text: str) -> list[SimpleNamespace]:
    return [
        SimpleNamespace(
            label=label + text[:19],
            position=position,
            terms=text,
            scope=text if label != "C" else None,
            cadence=text,
            extras=text,
            value_to_us=value,
        )
        for position, (label, value) in enumerate((("A", 100.0), ("B", 1e12), ("C", None)))
    ]


def meso_set(text: str, chosen: str | None = None) -> SimpleNamespace:
    items = offers(text)
    return SimpleNamespace(
        id=1,
        # lost, so the grid carries its longest line too
        account=SimpleNamespace(name=text[:80], channel_id=None, stage="lost", lost_at=NOW),
        offers=items,
        created_by="U0ALICE",
        created_at=NOW,
        chosen_label=chosen if chosen is None else items[1].label,
        tolerance_pct=5.0,
    )


def every_template(text: str) -> dict[str, dict[str, Any]]:
    latest = meso_set(text)
    previous = meso_set(text, chosen="B")
    built = SimpleNamespace(
        meso=latest,
        equivalence=meso.check_equivalence(latest.offers, tolerance_pct=5),
        previous=previous,
        created=True,
    )
    priorities = meso.RevealedPriorities(
        decided=3,
        terms=tuple(meso.PreferredTerm(term=text, times=n) for n in range(6)),
        chose_highest_value=2,
        chose_lowest_value=1,
    )
    overview = SimpleNamespace(
        account_name=text[:80],
        latest=latest,
        previous=previous,
        priorities=priorities,
        tolerance_pct=7.5,
        templates=meso.bundle_templates(),
    )
    entry = SimpleNamespace(
        id=3,
        account=SimpleNamespace(name=text[:80], id=1, channel_id=None, stage="lost", lost_at=NOW),
        item=text[:120],
        give=text,
        get=None,
        trigger=text,
        value_to_us=text,
        value_to_them=text,
        logged_by="U0ALICE",
        logged_at=NOW,
        edited_at=None,
        withdrawn_at=None,
        withdrawn_by=None,
    )
    fits = tuple(concessions.fits_for_give("5% discount for a pilot"))
    balance = concessions.Balance(1, 2, 3)
    logged = render(
        "concession_logged",
        entry=entry,
        balance=balance,
        fits=fits,
        shared=Shared(channel="C0X", ok=False, error=text),
    )
    grid = render("meso_grid", built=built, shared=Shared(channel="C0X", ok=True), actions=Action)
    again = SimpleNamespace(**{**vars(built), "created": False})
    slots = meso.template_set("phased")
    return {
        "meso_grid": grid,
        "meso_shared": render("meso_shared", built=built),
        "meso_overview": render("meso_overview", overview=overview, actions=Action),
        "meso_picked": render(
            "meso_picked",
            meso=previous,
            offer=previous.offers[1],
            account=previous.account,
            priorities=priorities,
        ),
        "meso_tolerance": render("meso_tolerance", tolerance=12.5),
        "meso_tolerance_checking": render("meso_tolerance_checking", tolerance=12.5),
        "meso_form_opened": render("meso_form_opened"),
        "meso_done": render(
            "meso_done", message=render("meso_grid", built=again, shared=None, actions=None)
        ),
        "meso_modal": render(
            "meso_modal",
            callback_id=View.MESO,
            metadata=json.dumps({"channel_id": text[:40]}),
            blocks=MesoBlock,
            fields=MesoOfferField,
            offer_block=offer_block,
            account_name=text,
            slots=[*slots[:2], None],
            max_text=500,
            max_label=20,
            max_account=80,
        ),
        "concession_logged": logged,
        "concession_shared": render("concession_shared", entry=entry, balance=balance),
        "concession_done": render("concession_done", title=text, message=logged),
        "concession_form_opened": render("concession_form_opened"),
        "concession_modal_edit": render(
            "concession_modal",
            callback_id=View.CONCESSION,
            metadata="{}",
            blocks=ConcessionBlock,
            account_name="",
            entry=entry,
            max_text=500,
            max_item=120,
            max_account=80,
        ),
    }


@pytest.mark.parametrize("text", [HOSTILE, "x" * 3500, "🤝 emoji ok"])
def test_every_negotiation_template_renders_valid_block_kit(text: str) -> None:
    for name, message in every_template(text).items():
        assert message.get("text") or message.get("type") == "modal", name
        for parsed in [message.get("text", ""), *mrkdwn_texts(message)]:
            assert "<!channel>" not in parsed, name
            assert "<https://evil.test|" not in parsed, name
            assert "@here" not in parsed, name


# Each example renders every negotiation template; the hostile, longest and emoji texts
# above are checked on every run. 30 examples, as tests/test_render.py's same property.
@settings(max_examples=30)
@given(st.text(min_size=1, max_size=300))
def test_any_user_text_renders(text: str) -> None:
    every_template(text)


def test_the_grid_puts_offers_side_by_side() -> None:
    grid = every_template("plain")["meso_grid"]
    fields = next(block["fields"] for block in grid["blocks"] if block.get("fields"))
    assert len(fields) == 3
    assert "1,000,000,000,000" in fields[1]["text"]
