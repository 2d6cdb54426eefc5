"""The MESO and concession templates stay valid Block Kit under hostile and oversized text."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.services import concessions, meso
from bot.services.prep import Points
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
        account=SimpleNamespace(id=1, name=text[:80], channel_id=None, stage="lost", lost_at=NOW),
        offers=items,
        created_by="U0ALICE",
        created_at=NOW,
        chosen_label=chosen if chosen is None else items[1].label,
        tolerance_pct=5.0,
        value_period="quarter",
        shared_at=None,
    )


def held_against_prep(text: str, offers_: list[SimpleNamespace]) -> meso.PrepCheck:
    """The offers against a prep that flags every one of them, at the largest numbers."""
    prep = SimpleNamespace(
        number=12, points=Points(reservation=1e12, anchor=9.99e11, target=1e12, period="year")
    )
    return meso.check_against_prep(offers_, "quarter", prep)  # type: ignore[arg-type]


def debrief(text: str) -> SimpleNamespace:
    return SimpleNamespace(at=NOW, by_user="U0BOB", next_meso=(text * 2000)[:2000])


def grids(text: str, built: SimpleNamespace) -> dict[str, dict[str, Any]]:
    """The grid with each of the prep's answers, each share state, in and out of a modal."""
    from handlers.meso import ShareOffer, meso_done, meso_reply
    from tests.test_playbook_render import plan

    prep = built.against_prep
    variants = {
        "held": SimpleNamespace(**{**vars(built), "plan": None}),
        "no prep": SimpleNamespace(**{**vars(built), "against_prep": None, "last_debrief": None}),
        "no points": SimpleNamespace(
            **{**vars(built), "against_prep": replace(prep, points=Points(target=1.0))}
        ),
        "apart": SimpleNamespace(
            **{**vars(built), "against_prep": replace(prep, comparable=False, offers=())}
        ),
        "total": SimpleNamespace(
            **{
                **vars(built),
                "against_prep": replace(
                    prep, comparable=False, points=Points(reservation=1.0), offers=()
                ),
                "plan": plan(text),
            }
        ),
    }
    drawn: dict[str, dict[str, Any]] = {}
    for name, variant in variants.items():
        variant.needs_confirmation = bool(variant.against_prep and variant.against_prep.below)
        share = ShareOffer(channel_id="C0FROM", held=name == "held")
        drawn[f"meso_grid {name}"] = meso_reply(variant, None, share=share)  # type: ignore[arg-type]
        drawn[f"meso_done {name}"] = meso_done(variant, None, share)  # type: ignore[arg-type]
    return drawn


def every_template(text: str) -> dict[str, dict[str, Any]]:
    latest = meso_set(text)
    previous = meso_set(text, chosen="B")
    from tests.test_playbook_render import plan

    built = SimpleNamespace(
        meso=latest,
        equivalence=meso.check_equivalence(latest.offers, tolerance_pct=5),
        previous=previous,
        created=True,
        against_prep=held_against_prep(text, latest.offers),
        plan=plan((text * 1000)[:1000]),
        last_debrief=debrief(text),
        needs_confirmation=True,
        # Every value typed per another period than the set shows (the longest notes).
        periods=meso.InOnePeriod(
            "quarter",
            meso.PeriodReason.FIRST,
            (),
            tuple(
                meso.OfferSpec(label=o.label[:20], terms="x", value_to_us=1e12, period="month")
                for o in latest.offers
            ),
        ),
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
        prep=SimpleNamespace(
            number=12,
            points=SimpleNamespace(reservation=1e12, anchor=9.99e11, target=1e12, period="year"),
        ),
        last_debrief=debrief(text),
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
    grid = render(
        "meso_grid", built=built, shared=Shared(channel="C0X", ok=True), actions=Action, share=None
    )
    again = SimpleNamespace(**{**vars(built), "created": False})
    slots = meso.template_set("phased")
    return {
        **grids(text, built),
        "meso_grid": grid,
        "meso_shared": render("meso_shared", built=built),
        "meso_shared without a plan": render(
            "meso_shared", built=SimpleNamespace(**{**vars(built), "plan": None})
        ),
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
            "meso_done",
            message=render("meso_grid", built=again, shared=None, actions=None, share=None),
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


@pytest.mark.parametrize("text", [HOSTILE, "x" * 3500])
def test_the_grid_with_its_prep_plan_and_debrief_fits_one_message(text: str) -> None:
    """Every offer flagged against the prep, the longest plan and debrief: the grid,
    its post and the overview still fit one message (and the done view one modal)."""
    from tests.test_playbook_render import check

    drawn = every_template(text)
    for name, message in drawn.items():
        if name.startswith(("meso_grid", "meso_shared", "meso_overview")):
            check(message)
        if name.startswith("meso_done"):
            assert message["type"] == "modal" and len(message["blocks"]) <= 100, name
    held = drawn["meso_grid held"]
    share = next(b for b in held["blocks"] if b.get("block_id") == "meso_share")
    assert share["elements"][0]["confirm"]["confirm"]["text"] == "Share anyway"
    assert "Not posted to the team yet" in str(held)
    assert "walk-away" not in str(drawn["meso_shared"]), "the post never names our walk-away"
