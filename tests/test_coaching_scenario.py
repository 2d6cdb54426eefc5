"""Coaching that carries through, one negotiation end to end through the real app:
the prep, a MESO with one offer below the walk-away point (flagged, shared only on a
yes), the governance summary in the shared post, the debrief, its improvement steps
accepted as follow-ups, and the next negotiation's prep opening with the debrief."""

from __future__ import annotations

from datetime import date

from freezegun import freeze_time
from sqlalchemy import select

from bot.devtools.localslack import LocalSlack
from handlers.edge import after_ack
from messages.ids import Action, View
from storage.db import SessionFactory
from storage.models import Commitment, NegotiationPrep
from tests.coaching_flow import (
    buttons,
    click_in_message,
    click_in_modal,
    opened,
    write_debrief,
    write_plan,
    write_prep,
)
from tests.slackkit import ALICE, SlackSender, blocks_text, view_submission
from tests.test_prep import prep_values

# Thu 3 Dec 2026, 10:00 UTC.
NOW = "2026-12-03T10:00:00Z"


def test_prep_offer_share_debrief_follow_ups_and_the_next_prep(
    slack_user: SlackSender, slack: LocalSlack, db: SessionFactory
) -> None:
    with freeze_time(NOW, real_asyncio=True):
        slack_user.command("/rapport", "account Acme Corp type: strategic")

        # Prepare: walk away below 110k a year, open at 150k a year.
        saved = write_prep(slack_user, slack, "Acme Corp")
        assert "Walk-away 110,000 a year" in saved.text

        # Offer: one of the two is below the walk-away point, and `share` waits.
        write_plan(slack_user, slack, "Acme Corp", cadence="monthly")
        grid = slack_user.command(
            "/meso",
            "acme crop A: list price, standard SLA value: 120k/yr"
            " | B: premium SLA, monthly reviews value: 95k/yr share",
        )
        assert "*Below your walk-away point* of 110,000 a year: *B* (95,000)" in grid.text
        assert "*A* 20% below, *B* 36.7% below" in grid.text
        assert "Not posted to the team yet" in grid.text
        assert "*Governance plan, to go with every offer*\nMonthly reviews" in grid.text
        after_ack.drain()
        assert slack.calls("chat.postMessage") == []

        [share] = buttons(grid.body, Action.MESO_SHARE)
        assert "confirm" in share
        click_in_message(slack_user, slack, share)

        [post] = slack.calls("chat.postMessage")
        posted = blocks_text(post.args)
        assert "*With each option, the governance plan*\nMonthly reviews" in posted
        assert "*KPIs:* Uptime 99.9% monthly" in posted
        assert "110,000" not in posted and "walk-away" not in posted

        # Review: the debrief, then its three improvement steps, one click each.
        debriefed = write_debrief(
            slack_user,
            slack,
            "Acme Corp",
            trust="Grew when we admitted B was a stretch",
            next_meso="Keep every option above the walk-away; add a phased one",
        )
        view = debriefed.body["view"]
        for step in buttons(view, Action.DEBRIEF_STEP):
            view = click_in_modal(slack_user, slack, view, step, view_id="V0DEBRIEF") or view
        assert buttons(view, Action.DEBRIEF_STEP) == []
        with db() as session:
            recorded = session.scalars(select(Commitment).order_by(Commitment.due_on)).all()
            assert [(c.owner_id, c.due_on) for c in recorded] == [
                (ALICE, date(2026, 12, 8)),  # red-team the credit rules
                (ALICE, date(2026, 12, 10)),  # the role-reversal session
                (ALICE, date(2026, 12, 17)),  # rehearse the readout: no QBR yet
            ]

        card = slack_user.command("/rapport", "account Acme Corp")
        assert "*Trust:* Grew when we admitted B was a stretch" in card.text
        assert "*Follow-ups from it:* Rehearse the QBR readout (due Thu 17 Dec 2026)" in card.text

        # The next negotiation: its prep opens with what the debrief said.
        before = len(slack.calls("views.open"))
        slack_user.command("/rapport", "prep Acme Corp new")
        form = opened(slack, before)
        slack_user.interact(
            view_submission(
                View.PREP,
                prep_values(question="Will they take the phased option for the EU team?"),
                private_metadata=form["private_metadata"],
                view_id="V0PREPNEXT",
            )
        )
        next_prep = slack_user.command("/rapport", "prep acme crop")

    assert "Will they take the phased option for the EU team?" in next_prep.text
    assert "Negotiation 2 with Acme Corp" in next_prep.text
    assert "*What the last debrief said*" in next_prep.text
    assert "*Next set should include:* Keep every option above the walk-away" in next_prep.text
    with db() as session:
        assert len(session.scalars(select(NegotiationPrep)).all()) == 2
