"""NUL and Slack's escaping are handled once, at the edge (handlers/edge/middleware.py),
for every payload: what a listener reads is what the user typed, and PostgreSQL (whose
text cannot hold NUL) saves it as SQLite does."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from handlers.edge.middleware import without_nul
from messages.ids import ConcessionBlock, DebriefBlock, MesoBlock, MesoOfferField, View, offer_block
from storage.db import SessionFactory
from storage.models import Account, Concession, Debrief, MesoOffer
from tests.slackkit import SlackSender, view_submission


def typed(block: str, text: str) -> dict[str, dict[str, Any]]:
    return {block: {"value": {"type": "plain_text_input", "value": text}}}


def test_nul_is_dropped_from_every_string_keys_included() -> None:
    body: dict[str, Any] = {
        "a\x00": "x\x00y",
        "nested": [{"deep": "\x00z"}, "w\x00", 3, None],
        "clean": "kept",
    }
    without_nul(body)
    assert body == {"a": "xy", "nested": [{"deep": "z"}, "w", 3, None], "clean": "kept"}


def test_a_command_with_nul_anywhere_saves_cleanly(
    slack_user: SlackSender, db: SessionFactory
) -> None:
    reply = slack_user.command(
        "/concede", "ac\x00me give: R&amp;D\x00 hours get: a &lt;pilot&gt;", channel="C0\x00DEALS"
    )
    assert reply.status == 200 and reply.ephemeral
    with db() as session:
        entry = session.scalars(select(Concession)).one()
        account = session.get_one(Account, entry.account_id)
    assert (account.name, entry.give, entry.get) == ("acme", "R&D hours", "a <pilot>")


def test_a_concession_form_with_nul_saves_cleanly(
    slack_user: SlackSender, db: SessionFactory
) -> None:
    values = {
        **typed(ConcessionBlock.ACCOUNT, "Ac\x00me"),
        **typed(ConcessionBlock.GIVE, "free\x00 onboarding"),
        **typed(ConcessionBlock.VALUE_TO_THEM, "\x00two weeks faster"),
    }
    reply = slack_user.interact(
        view_submission(
            View.CONCESSION,
            values,
            private_metadata=json.dumps({"concession_id": None, "channel_id": "C0\x00DEALS"}),
            view_id="V0\x00NUL",
        )
    )
    assert reply.status == 200 and reply.body["response_action"] == "update"
    with db() as session:
        entry = session.scalars(select(Concession)).one()
        account = session.get_one(Account, entry.account_id)
    assert (account.name, entry.give, entry.value_to_them, entry.source_key) == (
        "Acme",
        "free onboarding",
        "two weeks faster",
        "view:V0NUL",
    )


def test_a_meso_form_with_nul_saves_cleanly(slack_user: SlackSender, db: SessionFactory) -> None:
    values = {
        **typed(MesoBlock.ACCOUNT, "ac\x00me"),
        **typed(offer_block(0, MesoOfferField.TERMS), "3 years\x00, 5% off"),
        **typed(offer_block(0, MesoOfferField.VALUE), "120\x00k"),
        **typed(offer_block(1, MesoOfferField.TERMS), "1 year, list\x00 price"),
        **typed(offer_block(1, MesoOfferField.VALUE), "110k"),
    }
    reply = slack_user.interact(view_submission(View.MESO, values, view_id="V0MESO\x00"))
    assert reply.status == 200 and reply.body["response_action"] == "update"
    with db() as session:
        offers = session.scalars(select(MesoOffer).order_by(MesoOffer.position)).all()
        assert [(o.terms, o.value_to_us) for o in offers] == [
            ("3 years, 5% off", 120000),
            ("1 year, list price", 110000),
        ]


def test_a_debrief_with_nul_saves_cleanly(slack_user: SlackSender, db: SessionFactory) -> None:
    slack_user.command("/concede", "acme give: a get: b")
    with db() as session:
        account_id = session.scalars(select(Account.id)).one()
    reply = slack_user.interact(
        view_submission(
            View.DEBRIEF,
            typed(DebriefBlock.TRUST, "high\x00, after the pilot"),
            private_metadata=json.dumps({"account_id": account_id}),
            view_id="V0\x00DEBRIEF",
        )
    )
    assert reply.status == 200 and reply.body["response_action"] == "update"
    with db() as session:
        debrief = session.scalars(select(Debrief)).one()
    assert debrief.trust == "high, after the pilot"
