"""bot.services.meso without Slack: the equivalence rule, choices and revealed priorities."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.services import meso
from bot.services.errors import NotAllowed, NotFound, UsageError
from bot.services.meso import IssueKind, OfferSpec, check_equivalence
from storage.db import SessionFactory
from tests.conftest import at

NOW = at("2026-11-22T10:00:00")
TEAM = "T0ACME"


def offer(label: str, terms: str, value: float | None = None) -> OfferSpec:
    return OfferSpec(label=label, terms=terms, value_to_us=value)


def kinds(result: meso.Equivalence) -> dict[IssueKind, tuple[str, ...]]:
    return {issue.kind: issue.labels for issue in result.issues}


def test_offers_within_tolerance_are_equivalent() -> None:
    result = check_equivalence(
        [offer("A", "list price", 100_000), offer("B", "premium SLA", 104_000)],
        tolerance_pct=5,
    )
    assert result.ok and result.valued
    assert result.spread_pct == pytest.approx(4.0)


def test_exactly_at_the_tolerance_is_still_equivalent() -> None:
    result = check_equivalence([offer("A", "x", 100), offer("B", "y", 105)], tolerance_pct=5)
    assert result.ok


def test_the_offer_out_of_line_is_named() -> None:
    result = check_equivalence(
        [offer("A", "a", 100), offer("B", "b", 101), offer("C", "c", 120)], tolerance_pct=5
    )
    assert not result.ok
    assert kinds(result) == {IssueKind.VALUE_GAP: ("C",)}
    assert result.spread_pct == pytest.approx(20.0)


def test_every_offer_outside_the_band_is_named_with_its_direction() -> None:
    result = check_equivalence(
        [offer("A", "a", 100_000), offer("B", "b", 130_000), offer("C", "c", 90_000)],
        tolerance_pct=5,
    )
    (issue,) = result.issues
    assert [(g.label, g.richer_for_us, round(g.pct_from_middle)) for g in issue.gaps] == [
        ("B", True, 30),
        ("C", False, -10),
    ]


def test_a_spread_just_over_the_tolerance_still_names_someone() -> None:
    result = check_equivalence([offer("A", "a", 100), offer("B", "b", 105.1)], tolerance_pct=5)
    (issue,) = result.issues
    assert issue.labels == ("A", "B")


def test_two_offers_apart_are_both_out_of_line() -> None:
    result = check_equivalence([offer("A", "a", 100), offer("B", "b", 110)], tolerance_pct=5)
    assert kinds(result) == {IssueKind.VALUE_GAP: ("A", "B")}


def test_a_wider_tolerance_accepts_the_same_offers() -> None:
    offers = [offer("A", "a", 100), offer("B", "b", 108)]
    assert not check_equivalence(offers, tolerance_pct=5).ok
    assert check_equivalence(offers, tolerance_pct=10).ok


def test_a_single_offer_is_not_a_meso() -> None:
    result = check_equivalence([offer("A", "list price", 100)], tolerance_pct=5)
    assert kinds(result) == {IssueKind.SINGLE: ("A",)}


def test_offers_that_differ_in_nothing_are_flagged() -> None:
    result = check_equivalence(
        [offer("A", "List price, standard SLA", 100), offer("B", "standard SLA,  list price", 100)],
        tolerance_pct=5,
    )
    assert kinds(result) == {IssueKind.IDENTICAL: ("A", "B")}


def test_an_offer_without_a_value_cannot_be_checked() -> None:
    result = check_equivalence([offer("A", "a", 100), offer("B", "b")], tolerance_pct=5)
    assert kinds(result) == {IssueKind.UNVALUED: ("B",)}
    assert not result.valued


def test_no_values_at_all_is_not_an_issue_but_unchecked() -> None:
    result = check_equivalence([offer("A", "a"), offer("B", "b")], tolerance_pct=5)
    assert result.ok and not result.valued and result.spread_pct is None


def test_zero_value_against_a_positive_one_is_out_of_line() -> None:
    result = check_equivalence([offer("A", "a", 0), offer("B", "b", 10)], tolerance_pct=50)
    assert IssueKind.VALUE_GAP in kinds(result)


def test_an_offer_must_say_something() -> None:
    with pytest.raises(UsageError):
        OfferSpec(label="A")


def build(db: SessionFactory, offers: list[OfferSpec], *, minutes: int = 0, **kw: object) -> int:
    with db.begin() as session:
        built = meso.build_meso(
            session,
            team_id=TEAM,
            account_name="acme",
            user_id="U0ALICE",
            offers=offers,
            now=NOW + timedelta(minutes=minutes),
            **kw,  # type: ignore[arg-type]
        )
        return built.meso.account_id


def pick(db: SessionFactory, label: str, *, minutes: int = 0) -> None:
    with db.begin() as session:
        meso.record_choice(
            session,
            team_id=TEAM,
            account_name="acme",
            label=label,
            user_id="U0ALICE",
            now=NOW + timedelta(minutes=minutes),
        )


def test_revealed_priorities_count_the_terms_that_set_the_pick_apart(db: SessionFactory) -> None:
    build(
        db,
        [
            offer("A", "list price, standard SLA, quarterly reviews", 100),
            offer("B", "higher price, premium SLA, quarterly reviews", 100),
        ],
    )
    pick(db, "b", minutes=1)
    account_id = build(
        db,
        [
            offer("A", "list price, premium SLA, monthly reviews", 90),
            offer("B", "lower price, standard SLA, monthly reviews", 100),
        ],
        minutes=2,
    )
    pick(db, "A", minutes=3)

    with db() as session:
        revealed = meso.revealed_priorities(session, TEAM, account_id)

    assert revealed.decided == 2
    top = revealed.terms[0]
    assert (top.term.casefold(), top.times) == ("premium sla", 2)
    named = {term.term.casefold() for term in revealed.terms}
    # Shared by every offer of its set, so choosing it said nothing.
    assert "quarterly reviews" not in named and "monthly reviews" not in named
    assert "higher price" in named and "list price" in named
    assert (revealed.chose_highest_value, revealed.chose_lowest_value) == (0, 1)


def test_no_choices_reveal_nothing(db: SessionFactory) -> None:
    account_id = build(db, [offer("A", "a", 1), offer("B", "b", 1)])
    with db() as session:
        revealed = meso.revealed_priorities(session, TEAM, account_id)
    assert not revealed.any and revealed.terms == ()


def test_choice_goes_on_the_latest_set_and_must_be_one_of_its_offers(db: SessionFactory) -> None:
    build(db, [offer("A", "a", 1), offer("B", "b", 1)])
    build(db, [offer("X", "x", 1), offer("Y", "y", 1)], minutes=1)
    with pytest.raises(UsageError, match="X, Y"):
        pick(db, "A", minutes=2)
    pick(db, "y", minutes=2)
    with db() as session:
        overview = meso.meso_overview(session, team_id=TEAM, account_name="ACME")
    assert overview.latest is not None and overview.latest.chosen_label == "Y"
    assert overview.previous is not None and overview.previous.id == overview.latest.id


def test_choice_without_a_set_is_not_found(db: SessionFactory) -> None:
    with pytest.raises(NotFound):
        pick(db, "A")


def test_team_tolerance_is_the_default_and_a_command_overrides_it(db: SessionFactory) -> None:
    with db.begin() as session:
        assert meso.team_tolerance(session, team_id=TEAM) == meso.DEFAULT_TOLERANCE_PCT
        meso.set_team_tolerance(
            session,
            team_id=TEAM,
            tolerance_pct=12,
            user_id="U0ALICE",
            is_workspace_admin=True,
            now=NOW,
        )
    offers = [offer("A", "a", 100), offer("B", "b", 110)]
    with db.begin() as session:
        built = meso.build_meso(
            session, team_id=TEAM, account_name="acme", user_id="U0A", offers=offers, now=NOW
        )
        assert built.meso.tolerance_pct == 12 and built.equivalence.ok
        strict = meso.build_meso(
            session,
            team_id=TEAM,
            account_name="acme",
            user_id="U0A",
            offers=offers,
            now=NOW,
            tolerance_pct=5,
        )
        assert not strict.equivalence.ok


def test_only_an_admin_may_change_the_team_tolerance(db: SessionFactory) -> None:
    with db.begin() as session:
        with pytest.raises(NotAllowed, match="stays at 5%"):
            meso.set_team_tolerance(
                session,
                team_id=TEAM,
                tolerance_pct=12,
                user_id="U0BOB",
                is_workspace_admin=False,
                now=NOW,
            )
        assert meso.team_tolerance(session, team_id=TEAM) == meso.DEFAULT_TOLERANCE_PCT


def test_the_same_form_builds_one_set(db: SessionFactory) -> None:
    offers = [offer("A", "a", 1), offer("B", "b", 1)]
    with db.begin() as session:
        first = meso.build_meso(
            session,
            team_id=TEAM,
            account_name="acme",
            user_id="U0A",
            offers=offers,
            now=NOW,
            source_key="view:V1",
        )
        again = meso.build_meso(
            session,
            team_id=TEAM,
            account_name="acme",
            user_id="U0A",
            offers=offers,
            now=NOW,
            source_key="view:V1",
        )
        assert first.created and not again.created
        assert again.meso.id == first.meso.id


def test_templates_make_a_full_set_with_the_chosen_one_first() -> None:
    offers = meso.template_set("premium")
    assert [o.label for o in offers] == ["A", "B", "C"]
    assert offers[0].scope is not None and "premium" in offers[0].scope
    assert check_equivalence(offers).ok
    with pytest.raises(NotFound):
        meso.template_set("nonsense")
