"""The governance plan's review cadence and the QBR rhythm, through the real app: the
saved plan and the account card say when they disagree (or no QBR is planned), and one
click lines the rhythm up with the plan, in the modal or under the card."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from bot.devtools.localslack import LocalSlack
from bot.services import governance, review_cadence
from bot.services.governance import PlanFields
from messages.ids import Action
from storage.db import SessionFactory
from storage.models import Qbr, QbrCadence, ReviewCadence
from tests.coaching_flow import buttons, click_in_message, click_in_modal, write_plan
from tests.conftest import at
from tests.slackkit import ALICE, BOB, OTHER_TEAM, TEAM, SlackSender, blocks_text
from tests.test_home_service import account

ACME = "Acme Corp"
# Thu 3 Dec 2026, 10:00 UTC: a month on is Sun 3 Jan, so the first review is Mon 4 Jan.
NOW = "2026-12-03T10:00:00Z"


@pytest.fixture
def acme(slack_user: SlackSender) -> str:
    slack_user.command("/rapport", f"account {ACME} type: strategic")
    return ACME


def qbr(db: SessionFactory) -> Qbr | None:
    with db() as session:
        found = session.scalars(select(Qbr)).one_or_none()
        session.expunge_all()
        return found


def test_a_weekly_plan_with_no_qbrs_plans_monthly_ones_from_the_saved_plan(
    slack_user: SlackSender, slack: LocalSlack, db: SessionFactory, acme: str
) -> None:
    with freeze_time(NOW, real_asyncio=True):
        saved = write_plan(slack_user, slack, ACME, cadence="weekly")

        view = saved.body["view"]
        assert "No QBRs are planned yet, so the plan's weekly reviews get no reminders" in (
            blocks_text(view)
        )
        [plan_them] = buttons(view, Action.QBR_ALIGN)
        assert plan_them["text"]["text"] == "Plan QBRs every month"

        redrawn = click_in_modal(slack_user, slack, view, plan_them, view_id="V0PLAN")

    review = qbr(db)
    assert review is not None
    assert (review.cadence, review.next_on, review.created_by) == ("month", date(2027, 1, 4), ALICE)
    assert redrawn is not None and redrawn["type"] == "modal"
    assert "QBRs every month, next on Mon 4 Jan 2027, as close to the plan's weekly reviews" in (
        blocks_text(redrawn)
    )
    assert buttons(redrawn, Action.QBR_ALIGN) == []


# The account card and the plan itself show the cadence beside the QBRs, each with the
# very button the saved plan offers: one action, one listener.
@pytest.mark.parametrize("shows", ["account", "governance"])
def test_the_card_says_when_plan_and_qbrs_disagree_and_one_click_lines_them_up(
    slack_user: SlackSender, slack: LocalSlack, db: SessionFactory, acme: str, shows: str
) -> None:
    with freeze_time(NOW, real_asyncio=True):
        slack_user.command("/rapport", f"qbr {ACME} next: 2027-01-20 every: quarter")
        write_plan(slack_user, slack, ACME, cadence="monthly")

        card = slack_user.command("/rapport", f"{shows} acme crop", user=BOB)
        assert "The plan says monthly reviews, but QBRs are set for every quarter" in card.text
        assert "next on Wed 20 Jan 2027" in card.text
        [line_up] = buttons(card.body, Action.QBR_ALIGN)
        assert line_up["text"]["text"] == "Set QBRs to every month"

        answer = click_in_message(slack_user, slack, line_up, user=BOB)

        assert answer is not None and answer["replace_original"] is False
        told = blocks_text(answer)
        assert "now follow the plan's monthly reviews: every month, no longer every quarter" in told
        assert "Next QBR with *Acme Corp*: *Mon 4 Jan 2027*" in told
        review = qbr(db)
        assert review is not None and (review.cadence, review.next_on) == (
            "month",
            date(2027, 1, 4),
        )

        again = click_in_message(slack_user, slack, line_up, user=BOB)

        assert again is not None and "were already every month" in blocks_text(again)
        assert "Nothing changed" in blocks_text(again)
        card = slack_user.command("/rapport", f"{shows} {ACME}")
        assert "QBRs every month, next on Mon 4 Jan 2027, in step with the plan" in card.text
        assert buttons(card.body, Action.QBR_ALIGN) == []


def test_setting_qbrs_by_hand_says_when_they_leave_the_plan(
    slack_user: SlackSender, slack: LocalSlack, acme: str
) -> None:
    with freeze_time(NOW, real_asyncio=True):
        write_plan(slack_user, slack, ACME, cadence="monthly")

        apart = slack_user.command("/rapport", f"qbr {ACME} next: 2027-01-20 every: quarter")

        assert "Next QBR with *Acme Corp*: *Wed 20 Jan 2027*" in apart.text
        assert "The plan says monthly reviews, but QBRs are set for every quarter" in apart.text
        [line_up] = buttons(apart.body, Action.QBR_ALIGN)
        assert line_up["text"]["text"] == "Set QBRs to every month"

        along = slack_user.command("/rapport", f"qbr {ACME} next: 2027-01-20 every: month")

        assert "The plan says" not in along.text and "in step" not in along.text
        assert buttons(along.body, Action.QBR_ALIGN) == []


def test_a_review_within_the_new_interval_keeps_its_day(
    slack_user: SlackSender, slack: LocalSlack, db: SessionFactory, acme: str
) -> None:
    with freeze_time(NOW, real_asyncio=True):
        slack_user.command("/rapport", f"qbr {ACME} next: 2026-12-15 every: month")
        saved = write_plan(slack_user, slack, ACME, cadence="quarterly")
        [line_up] = buttons(saved.body["view"], Action.QBR_ALIGN)
        assert line_up["text"]["text"] == "Set QBRs to every quarter"

        click_in_modal(slack_user, slack, saved.body["view"], line_up, view_id="V0PLAN")

    review = qbr(db)
    assert review is not None and (review.cadence, review.next_on) == (
        "quarter",
        date(2026, 12, 15),
    )


def test_a_lost_account_is_offered_nothing_to_line_up(
    slack_user: SlackSender, slack: LocalSlack, acme: str
) -> None:
    write_plan(slack_user, slack, ACME, cadence="monthly")
    slack_user.command("/rapport", f"lost {ACME}")

    card = slack_user.command("/rapport", f"account {ACME}")

    assert "nothing is planned for a lost account" in card.text
    assert buttons(card.body, Action.QBR_ALIGN) == []


@pytest.mark.parametrize(
    ("plan", "qbr_cadence", "fitting", "agrees", "exact"),
    [
        (ReviewCadence.WEEKLY, QbrCadence.MONTH, "month", True, False),
        (ReviewCadence.FORTNIGHTLY, QbrCadence.QUARTER, "month", False, False),
        (ReviewCadence.MONTHLY, QbrCadence.QUARTER, "month", False, True),
        (ReviewCadence.QUARTERLY, QbrCadence.QUARTER, "quarter", True, True),
        (ReviewCadence.TWICE_A_YEAR, None, "quarter", False, False),
    ],
)
def test_each_plan_cadence_calls_for_the_nearest_qbr_rhythm(
    plan: str, qbr_cadence: str | None, fitting: str, agrees: bool, exact: bool
) -> None:
    account = SimpleNamespace(id=1, stage="won")
    review = SimpleNamespace(cadence=qbr_cadence, next_on=date(2027, 1, 4), dropped_at=None)
    fit = review_cadence.fit_of(
        account,  # type: ignore[arg-type]
        SimpleNamespace(cadence=plan),  # type: ignore[arg-type]
        review if qbr_cadence else None,  # type: ignore[arg-type]
    )
    assert (fit.fitting, fit.agrees, fit.exact, fit.can_align) == (fitting, agrees, exact, True)


def test_rapport_governance_without_a_plan_offers_no_rhythm(
    slack_user: SlackSender, acme: str
) -> None:
    shown = slack_user.command("/rapport", f"governance {ACME}")

    assert "has no governance plan yet" in blocks_text(shown.body)
    assert "QBRs" not in blocks_text(shown.body)
    assert buttons(shown.body, Action.QBR_ALIGN) == []


def _account_with_plan(db: SessionFactory, *, stage: str = "open") -> int:
    with db.begin() as s:
        acme = account(s, ACME, team=TEAM, stage=stage)
        fields = PlanFields(cadence=ReviewCadence.QUARTERLY, owner_ids=(ALICE,), kpis="uptime")
        governance.save_plan(
            s, team_id=TEAM, account_id=acme.id, user_id=ALICE, fields=fields, now=at(NOW)
        )
        return acme.id


def test_cadence_fit_reads_the_live_qbr_of_the_callers_team_only(db: SessionFactory) -> None:
    acme = _account_with_plan(db)
    with db.begin() as s:
        s.add(
            Qbr(
                team_id=TEAM,
                account_id=acme,
                next_on=date(2027, 1, 20),
                cadence=QbrCadence.MONTH,
                created_by=ALICE,
            )
        )

    with db() as s:
        fit = review_cadence.cadence_fit(s, team_id=TEAM, account_id=acme)
        assert fit is not None
        assert (fit.plan_cadence, fit.qbr_cadence, fit.fitting) == ("quarterly", "month", "quarter")
        assert not fit.agrees and fit.can_align and fit.next_on == date(2027, 1, 20)
        # Another workspace naming the same id sees no plan at all.
        assert review_cadence.cadence_fit(s, team_id=OTHER_TEAM, account_id=acme) is None

    with db.begin() as s:
        s.scalars(select(Qbr)).one().dropped_at = at("2026-12-02T10:00:00")
    with db() as s:
        dropped = review_cadence.cadence_fit(s, team_id=TEAM, account_id=acme)
        assert dropped is not None and (dropped.qbr_cadence, dropped.next_on) == (None, None)


def test_cadence_fit_of_a_lost_account_offers_nothing_to_line_up(db: SessionFactory) -> None:
    acme = _account_with_plan(db, stage="lost")
    with db() as s:
        fit = review_cadence.cadence_fit(s, team_id=TEAM, account_id=acme)
    assert fit is not None and not fit.can_align
