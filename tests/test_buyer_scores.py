"""CSAT and NPS read on their own scales: NPS by promoters, passives and detractors
(not as a 0-10 score), CSAT against its target of above 8, in health and the digest."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from bot.scheduler.delivery import ChannelPacer
from bot.services import buyer_scores, health
from bot.services.accounts import get_or_create_account
from bot.services.buyer_scores import Next, NpsGroup
from storage.db import SessionFactory
from storage.models import Rating
from tests.conftest import at
from tests.scheduling import Scenario
from tests.slackkit import ALICE, TEAM, blocks_text

NOW = at("2026-11-30T12:00:00")


@pytest.mark.parametrize(
    ("score", "group"),
    [(0, NpsGroup.DETRACTOR), (6, NpsGroup.DETRACTOR), (7, NpsGroup.PASSIVE)]
    + [(8, NpsGroup.PASSIVE), (9, NpsGroup.PROMOTER), (10, NpsGroup.PROMOTER)],
)
def test_nps_answers_fall_into_three_groups(score: int, group: NpsGroup) -> None:
    assert buyer_scores.nps_group(score) is group


@pytest.mark.parametrize(
    ("kind", "score", "move"),
    [
        ("csat", 10, Next.REFERRAL),
        ("csat", 9, Next.REFERRAL),
        ("csat", 8, None),  # on the line is not above the target
        ("csat", 7, None),
        ("csat", 6, Next.RECOVERY),
        ("csat", 0, Next.RECOVERY),
        ("nps", 10, Next.REFERRAL),
        ("nps", 9, Next.REFERRAL),
        ("nps", 8, None),
        ("nps", 7, None),
        ("nps", 6, Next.RECOVERY),
    ],
)
def test_a_high_answer_calls_for_a_referral_and_a_low_one_for_recovery(
    kind: str, score: int, move: Next | None
) -> None:
    assert buyer_scores.next_move(kind, score) is move


def test_the_nps_figure_is_promoters_less_detractors_once_there_are_several() -> None:
    summed = buyer_scores.sum_up([("nps", 10), ("nps", 9), ("nps", 8), ("nps", 3), ("csat", 7)])
    assert (summed.promoters, summed.passives, summed.detractors) == (2, 1, 1)
    assert summed.nps == 25  # 50% promoters less 25% detractors
    assert summed.csat_mean == 7 and summed.csat_met is False
    assert buyer_scores.sum_up([("nps", 10)]).nps is None, "one answer makes no figure"
    assert buyer_scores.sum_up([("nps", 3), ("nps", 5)]).nps == -100


def test_an_nps_answer_counts_by_its_group_not_as_a_score_out_of_ten() -> None:
    # A 7 is a passive: half marks, not 70%; a 6 is a detractor: none, not 60%.
    assert buyer_scores.answer_value("nps", 7) == 0.5
    assert buyer_scores.answer_value("nps", 6) == 0.0
    assert buyer_scores.answer_value("nps", 9) == 1.0
    assert buyer_scores.answer_value("csat", 7) == 0.7


def test_the_health_part_reads_each_kind_on_its_scale() -> None:
    day = timedelta(days=1)
    rows = [("nps", 10, NOW - 4 * day), ("nps", 9, NOW - 3 * day), ("nps", 8, NOW - 2 * day)]
    rows += [("nps", 3, NOW - day)]
    nps_only = health.ratings_part(rows, NOW)
    assert nps_only.detail == (
        "latest NPS 3/10, a detractor; NPS +25 over 4 answers (2 promoters, 1 passive, 1 detractor)"
    )
    # Four passives score half, where reading them as scores gave them 80%.
    passives = health.ratings_part([("nps", 8, NOW - day * n) for n in range(4)], NOW)
    assert passives.fraction == pytest.approx(0.5)

    csat = health.ratings_part([("csat", 9, NOW - 2 * day), ("csat", 8, NOW - day)], NOW)
    assert csat.detail.startswith("latest CSAT 8/10, 8.5 over 2 answers")
    assert csat.detail.endswith("(target: above 8, met)")
    assert health.ratings_part([("csat", 8, NOW)], NOW).detail == (
        "latest CSAT 8/10 (target: above 8, not met)"
    )
    both = health.ratings_part([("csat", 9, NOW - 2 * day), ("nps", 6, NOW - day)], NOW)
    assert both.detail == ("latest NPS 6/10, a detractor; latest CSAT 9/10 (target: above 8, met)")


def test_health_view_shows_the_csat_target_and_the_nps_groups(s: Scenario) -> None:
    s.say("2026-10-01T10:00:00Z", "/concede", "acme give: 5% discount get: 24-month term")
    text = s.say("2026-11-30T10:00:00Z", "/rapport", "health acme").text
    assert "CSAT aims for an average above 8 out of 10" in text
    assert "9-10 a promoter, 7-8 a passive, 0-6 a detractor" in text
    listed = s.say("2026-11-30T10:00:00Z", "/rapport", "health").text
    assert "The target for the buyers' CSAT: above 8 on average" in listed


def _rate(db: SessionFactory, kind: str, score: int, when: str) -> None:
    with db.begin() as session:
        account = get_or_create_account(
            session, team_id=TEAM, name="Acme", user_id=ALICE, now=at("2026-10-01T10:00")
        )
        session.add(
            Rating(
                team_id=TEAM,
                account_id=account.id,
                kind=kind,
                score=score,
                recorded_by=ALICE,
                recorded_at=at(when),
            )
        )


def test_the_digest_reads_this_weeks_answers_on_their_scales(s: Scenario) -> None:
    scene = replace(s, pacer=ChannelPacer(s.db, interval=0))
    _rate(scene.db, "csat", 9, "2026-11-26T10:00")
    _rate(scene.db, "csat", 6, "2026-11-27T10:00")
    _rate(scene.db, "nps", 10, "2026-11-26T11:00")
    _rate(scene.db, "nps", 6, "2026-11-27T11:00")
    _rate(scene.db, "nps", 2, "2026-11-02T11:00")  # weeks ago: not this week's
    scene.say("2026-11-27T12:00:00Z", "/rapport", "digest here")
    scene.sweep("2026-11-30T09:00:00Z")
    top, details, *_ = [
        c.args for c in scene.slack.calls("chat.postMessage") if c.args["channel"] == "C0LOCAL"
    ]
    assert (
        "*Buyers this week:* CSAT 7.5 on average over 2 answers (target: above 8, not met)"
        " · NPS +0 over 2 answers: 1 promoter, 1 detractor"
    ) in blocks_text(top)
    lines = blocks_text(details)
    assert "CSAT 9/10, meets the target (above 8)" in lines
    assert "CSAT 6/10, short of the target (above 8)" in lines
    assert "NPS 10/10, a promoter" in lines and "NPS 6/10, a detractor" in lines
    assert "NPS 2/10" not in lines
