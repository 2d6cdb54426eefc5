"""/meso meets the prep, the governance plan and the debrief, through the real app:
an offer below the prep's walk-away point is flagged and its share waits for a yes,
each offer is held against the anchor (over periods that convert), and the grid and
its post carry the governance plan and the last debrief's wish for the next set."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from sqlalchemy import select

from bot.devtools.localslack import LocalSlack
from bot.services import export, meso
from bot.services import prep as prep_service
from bot.services.errors import UsageError
from handlers.edge import after_ack
from handlers.meso import ALREADY_SHARED
from messages.ids import Action, MesoBlock, MesoOfferField, View, offer_block
from storage.db import SessionFactory
from storage.models import MesoSet
from tests.coaching_flow import (
    buttons,
    click_in_message,
    click_in_modal,
    write_debrief,
    write_plan,
    write_prep,
)
from tests.slackkit import BOB, TEAM, SlackSender, blocks_text, view_submission
from tests.test_meso import modal_values

ACME = "Acme Corp"
# Worth 120k and 95k a year to us; the prep walks away below 110k a year.
ONE_BELOW = (
    "A: list price, standard SLA value: 120k/yr | B: premium SLA, monthly reviews value: 95k/yr"
)


@pytest.fixture
def acme(slack_user: SlackSender) -> str:
    slack_user.command("/rapport", f"account {ACME} type: strategic")
    return ACME


def posts(slack: LocalSlack) -> list[str]:
    after_ack.drain()
    return [blocks_text(call.args) for call in slack.calls("chat.postMessage")]


def test_an_offer_below_the_walk_away_point_is_flagged_and_its_share_waits_for_a_yes(
    slack_user: SlackSender, slack: LocalSlack, db: SessionFactory, acme: str
) -> None:
    write_prep(slack_user, slack, acme)

    reply = slack_user.command("/meso", f"acme crop {ONE_BELOW} share")

    assert reply.status == 200 and reply.ephemeral
    assert "*Below your walk-away point* of 110,000 a year: *B* (95,000)" in reply.text
    assert "Don't put it to the buyer as it stands" in reply.text
    assert "opening anchor of 150,000 a year: *A* 20% below, *B* 36.7% below" in reply.text
    assert "Not posted to the team yet:* B is below your walk-away point" in reply.text
    assert posts(slack) == [], "held back: nothing reaches the channel without a yes"
    [share] = buttons(reply.body, Action.MESO_SHARE)
    assert share["text"]["text"] == "Share anyway" and share["style"] == "danger"
    assert share["confirm"]["confirm"]["text"] == "Share anyway"
    assert "B is worth less to us than the walk-away point" in share["confirm"]["text"]["text"]

    redrawn = click_in_message(slack_user, slack, share)

    [posted] = posts(slack)
    assert "premium SLA" in posted and "list price" in posted
    for secret in ("95,000", "110,000", "walk-away", "anchor", "Value to us"):
        assert secret not in posted, f"the post never shows {secret}"
    assert redrawn is not None and redrawn["replace_original"] is True
    assert "Posting it to <#C0LOCAL> for the team" in blocks_text(redrawn)
    assert buttons(redrawn, Action.MESO_SHARE) == []
    with db() as session:
        assert session.scalars(select(MesoSet.shared_at)).one() is not None

    again = click_in_message(slack_user, slack, share)

    assert len(posts(slack)) == 1, "a second click posts nothing"
    assert again is not None and ALREADY_SHARED in blocks_text(again)


def test_offers_clear_of_the_walk_away_point_share_at_once_and_are_held_against_the_anchor(
    slack_user: SlackSender, slack: LocalSlack, acme: str
) -> None:
    write_prep(slack_user, slack, acme)

    reply = slack_user.command(
        "/meso", f"{ACME} A: list price value: 12.5k/mo | B: premium SLA value: 12.4k/mo share"
    )

    assert "Every valued offer clears your walk-away point of 110,000 a year" in reply.text
    assert "_Value to us: 150,000 a year_ (typed as 12,500 a month)" in reply.text
    assert "shown per year, as your prep counts its walk-away point and anchor" in reply.text
    assert "opening anchor of 150,000 a year: *A* at the anchor, *B* 0.8% below" in reply.text
    assert "Posting it to <#C0LOCAL>" in reply.text
    assert len(posts(slack)) == 1
    assert buttons(reply.body, Action.MESO_SHARE) == []


def test_values_that_do_not_convert_to_the_preps_are_not_compared_and_it_says_so(
    slack_user: SlackSender, slack: LocalSlack, acme: str
) -> None:
    write_prep(slack_user, slack, acme)

    unsaid = slack_user.command("/meso", f"{ACME} A: list price value: 90k | B: premium value: 91k")

    assert "Not held against your prep: its points count per year" in unsaid.text
    assert "these values without saying per what" in unsaid.text
    assert "`value: 120k/year`" in unsaid.text
    assert "Below your walk-away point" not in unsaid.text
    [share] = buttons(unsaid.body, Action.MESO_SHARE)
    assert share["text"]["text"] == "Share with the team" and "confirm" not in share

    write_prep(slack_user, slack, acme, anchor="150k", target="130k", reservation="110k")
    per_month = slack_user.command(
        "/meso", f"{ACME} A: list value: 9k/mo | B: premium value: 9k/mo"
    )

    assert "its points count as totals, these values per month" in per_month.text


def test_offers_typed_per_month_quarter_and_year_are_compared_in_the_preps_period(
    slack_user: SlackSender, slack: LocalSlack, db: SessionFactory, acme: str
) -> None:
    """A hurried rep types each offer as the buyer spoke of it; two fall below the
    walk-away point (110k a year) and both are named, in the grid and the confirmation."""
    write_prep(slack_user, slack, acme)

    reply = slack_user.command(
        "/meso",
        "acme crop A: list price value: $9k/mo | B: premium SLA value: $120k per year"
        " | C: phased value: 27k/qtr share",
    )

    assert reply.status == 200 and reply.ephemeral
    assert "_Value to us: 108,000 a year_ (typed as 9,000 a month)" in reply.text
    assert reply.text.count("typed as") == 2, "B was typed per year: shown as typed"
    assert "_Value to us: 108,000 a year_ (typed as 27,000 a quarter)" in reply.text
    assert "shown per year, as your prep counts its walk-away point and anchor" in reply.text
    assert "*Below your walk-away point* of 110,000 a year: *A* (108,000), *C* (108,000)" in (
        reply.text
    )
    assert "Not posted to the team yet:* A, C are below your walk-away point" in reply.text
    assert "*B* is richer for us (11.1% above the middle offer)" in reply.text
    [share] = buttons(reply.body, Action.MESO_SHARE)
    assert share["confirm"]["text"]["text"].startswith("A, C are worth less to us")
    assert posts(slack) == []
    with db() as session:
        stored = session.scalars(select(MesoSet)).one()
        assert stored.value_period == "year"
        assert [o.value_to_us for o in stored.offers] == [108_000, 120_000, 108_000]
        [exported] = export.meso_sets_with_offers(session, team_id=TEAM)
    assert exported["value_period"] == "year"
    assert [o["value_to_us"] for o in exported["offers"]] == [108_000, 120_000, 108_000]  # type: ignore[index]

    click_in_message(slack_user, slack, share)
    [posted] = posts(slack)
    for secret in ("108,000", "120,000", "9,000", "a year", "typed as"):
        assert secret not in posted, f"the post never shows {secret}"


def test_a_total_beside_a_value_per_period_is_refused_naming_each_offer(
    slack_user: SlackSender, db: SessionFactory, acme: str
) -> None:
    reply = slack_user.command(
        "/meso", f"{ACME} A: list value: 120k | B: premium value: 10k/mo | C: pilot value: 9k/mo"
    )

    assert reply.status == 200 and reply.ephemeral
    assert "I read A 120,000 with no period, B 10,000 a month, C 9,000 a month" in reply.text
    assert "`value: 120k/yr`" in reply.text
    with db() as session:
        assert session.scalars(select(MesoSet)).all() == []


def test_without_a_prep_the_grid_says_what_it_would_check_and_shares_on_a_click(
    slack_user: SlackSender, slack: LocalSlack, acme: str
) -> None:
    reply = slack_user.command("/meso", f"{ACME} {ONE_BELOW}")

    assert "No negotiation prep for Acme Corp" in reply.text
    assert f"`/rapport prep {ACME}` sets the walk-away point" in reply.text
    [share] = buttons(reply.body, Action.MESO_SHARE)
    assert share["text"]["text"] == "Share with the team" and "confirm" not in share

    click_in_message(slack_user, slack, share, user=BOB)

    [posted] = posts(slack)
    assert "premium SLA" in posted


def test_the_form_holds_back_a_share_below_the_walk_away_point_until_confirmed(
    slack_user: SlackSender, slack: LocalSlack, acme: str
) -> None:
    write_prep(slack_user, slack, acme)
    values = modal_values(
        ACME, {"TERMS": "list price", "VALUE": "120k/yr"}, {"TERMS": "premium", "VALUE": "95k/yr"}
    )
    option = {"text": {"type": "plain_text", "text": "Post"}, "value": "share"}
    values[MesoBlock.SHARE.value] = {"value": {"type": "checkboxes", "selected_options": [option]}}

    done = slack_user.interact(
        view_submission(
            View.MESO,
            values,
            private_metadata=json.dumps({"channel_id": "C0DEAL"}),
            view_id="V0MESO",
        )
    )

    assert done.body["response_action"] == "update"
    view = done.body["view"]
    assert "Below your walk-away point" in blocks_text(view)
    assert "Not posted to the team yet" in blocks_text(view)
    assert posts(slack) == []
    [share] = buttons(view, Action.MESO_SHARE)

    redrawn = click_in_modal(slack_user, slack, view, share, view_id="V0MESO")

    [post] = slack.calls("chat.postMessage")
    assert post.args["channel"] == "C0DEAL", "where the form was opened"
    assert redrawn is not None and redrawn["type"] == "modal"
    assert "Posting it to <#C0DEAL>" in blocks_text(redrawn)


def test_the_form_takes_values_per_month_and_per_year_and_refuses_a_total_beside_them(
    slack_user: SlackSender, db: SessionFactory, acme: str
) -> None:
    mixed = modal_values(
        ACME, {"TERMS": "list price", "VALUE": "10k/mo"}, {"TERMS": "premium", "VALUE": "120k/yr"}
    )
    done = slack_user.interact(view_submission(View.MESO, mixed, view_id="V0MIXED"))

    assert done.body["response_action"] == "update"
    assert "(typed as 120,000 a year)" in blocks_text(done.body["view"])
    with db() as session:
        stored = session.scalars(select(MesoSet)).one()
        assert (stored.value_period, [o.value_to_us for o in stored.offers]) == (
            "month",
            [10_000, 10_000],
        )

    total = modal_values(
        ACME, {"TERMS": "list price", "VALUE": "10k/mo"}, {"TERMS": "premium", "VALUE": "120k"}
    )
    refused = slack_user.interact(view_submission(View.MESO, total, view_id="V0TOTAL"))

    assert refused.body["response_action"] == "errors"
    [(field, problem)] = refused.body["errors"].items()
    assert field == offer_block(1, MesoOfferField.VALUE), "the value that does not compare"
    assert "I read A 10,000 a month, B 120,000 with no period" in problem
    with db() as session:
        assert len(session.scalars(select(MesoSet)).all()) == 1, "nothing more stored"


def test_the_grid_and_its_post_carry_the_governance_plan_and_the_last_debrief(
    slack_user: SlackSender, slack: LocalSlack, acme: str
) -> None:
    bare = slack_user.command("/meso", f"{ACME} {ONE_BELOW}")
    assert "No governance plan yet" in bare.text
    [write] = buttons(bare.body, Action.GOVERNANCE_EDIT)
    assert write["text"]["text"] == "Write the plan"

    write_plan(slack_user, slack, ACME)
    write_debrief(slack_user, slack, ACME, next_meso="A pilot-first option with a 90-day exit")
    reply = slack_user.command(
        "/meso", f"{ACME} A: list price value: 120k | B: premium SLA value: 121k share"
    )

    assert "*Governance plan, to go with every offer*\nMonthly reviews, owned by <@U0ALICE>" in (
        reply.text
    )
    assert "*KPIs:* Uptime 99.9% monthly" in reply.text
    assert "said the next set should include: A pilot-first option with a 90-day exit" in (
        reply.text
    )
    [posted] = posts(slack)
    assert "*With each option, the governance plan*\nMonthly reviews" in posted
    assert "*Exit ramps:* Either side may pause" in posted

    overview = slack_user.command("/meso", ACME)
    assert "said the next set should include: A pilot-first option" in overview.text


# --- the rule, without Slack ------------------------------------------------------------


def prep_with(**points: float | str | None) -> prep_service.Prep:
    from tests.test_coaching_render import largest_prep

    return replace(largest_prep("x"), number=2, points=prep_service.Points(**points))  # type: ignore[arg-type]


def test_values_convert_between_periods_but_never_to_or_from_a_total() -> None:
    assert meso.converted(10.0, "month", "year") == 120.0
    assert meso.converted(120.0, "year", "quarter") == 30.0
    assert meso.converted(7.0, "", "") == 7.0
    assert meso.converted(7.0, "", "year") is None
    assert meso.converted(7.0, "month", "") is None


def test_each_valued_offer_is_held_against_the_walk_away_point_and_the_anchor() -> None:
    offers = [
        meso.OfferSpec(label="A", terms="list", value_to_us=10_000, period="month"),
        meso.OfferSpec(label="B", terms="premium", value_to_us=9_000, period="month"),
        meso.OfferSpec(label="C", terms="phased"),
    ]
    check = meso.check_against_prep(
        offers, "month", prep_with(reservation=110_000, anchor=120_000, period="year")
    )

    assert check.comparable and check.converted and check.prep_number == 2
    assert [(o.label, o.in_prep_terms, o.below_walk_away) for o in check.offers] == [
        ("A", 120_000, False),
        ("B", 108_000, True),
    ], "C has no value: nothing to hold"
    assert [o.from_anchor_pct for o in check.offers] == [0.0, -10.0]
    assert [o.label for o in check.below] == ["B"]


def test_no_walk_away_point_flags_nothing_and_an_anchor_of_nought_measures_nothing() -> None:
    offers = [meso.OfferSpec(label="A", terms="list", value_to_us=5.0)]

    check = meso.check_against_prep(offers, "", prep_with(anchor=0.0))

    assert check.below == () and check.offers[0].from_anchor_pct is None
    assert not meso.check_against_prep(offers, "", prep_with()).has_points
    apart = meso.check_against_prep(offers, "", prep_with(reservation=1.0, period="year"))
    assert not apart.comparable and apart.offers == ()


def spec(label: str, value: float | None, period: str = "") -> meso.OfferSpec:
    return meso.OfferSpec(label=label, terms=f"offer {label}", value_to_us=value, period=period)


def test_a_set_is_counted_per_the_preps_period_when_there_is_one() -> None:
    periods = meso.in_one_period(
        [spec("A", 10_000, "month"), spec("B", 120_000, "year"), spec("C", None)], "year"
    )

    assert (periods.period, periods.reason) == ("year", meso.PeriodReason.PREP)
    assert [o.value_to_us for o in periods.offers] == [120_000, 120_000, None]
    assert periods.retyped == (spec("A", 10_000, "month"),)
    equivalence = meso.check_equivalence(periods.offers[:2])
    assert equivalence.ok and equivalence.spread_pct == 0


def test_without_a_prep_the_most_common_period_wins_and_a_tie_goes_to_the_first() -> None:
    most = meso.in_one_period(
        [spec("A", 120, "year"), spec("B", 10, "month"), spec("C", 9, "month")]
    )
    tie = meso.in_one_period([spec("A", 30, "quarter"), spec("B", 120, "year")], "")
    same = meso.in_one_period([spec("A", 10, "month"), spec("B", 11, "month")], "year")

    assert (most.period, most.reason) == ("month", meso.PeriodReason.MOST)
    assert [o.value_to_us for o in most.offers] == [10, 10, 9]
    assert (tie.period, tie.reason) == ("quarter", meso.PeriodReason.FIRST)
    assert [o.value_to_us for o in tie.offers] == [30, 30]
    assert (same.period, same.reason) == ("year", meso.PeriodReason.PREP)
    assert [o.label for o in same.retyped] == ["A", "B"]


def test_values_without_a_period_stay_as_typed_and_never_meet_a_period() -> None:
    totals = meso.in_one_period([spec("A", 100), spec("B", 101), spec("C", None)], "year")
    assert (totals.period, totals.reason, totals.retyped) == ("", meso.PeriodReason.AS_TYPED, ())

    with pytest.raises(UsageError) as refused:
        meso.check_periods(
            [spec("A", 120_000), spec("B", 10_000, "month"), spec("C", 9.5, "month")]
        )
    assert "I read A 120,000 with no period, B 10,000 a month, C 9.5 a month" in (
        refused.value.problem
    )
