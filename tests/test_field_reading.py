"""One reading of `give:`, `get:`, `value:` and the rest, as a hurried rep types them."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from bot.devtools.localslack import LocalSlack
from bot.services.errors import UsageError
from handlers.edge.parsing import colons_added, split_share_flag
from handlers.meso import parse_amount
from messages.ids import View
from storage.db import SessionFactory
from storage.models import Commitment, Concession
from tests.slackkit import SlackSender, block_action, view_submission
from tests.test_concede_log import form_values


def entries(db: SessionFactory) -> list[Concession]:
    with db() as session:
        found = list(
            session.scalars(
                select(Concession).options(joinedload(Concession.account)).order_by(Concession.id)
            )
        )
        session.expunge_all()
        return found


@pytest.mark.parametrize(
    "nothing", ["nothing", "none", "n/a", "N/A", "-", "TBD", "nothing yet", "no", "None.", "—"]
)
def test_a_get_that_says_nothing_is_a_one_way_give(
    slack_user: SlackSender, db: SessionFactory, nothing: str
) -> None:
    reply = slack_user.command("/concede", f"Globex give: rush delivery get: {nothing}")

    assert "one-way concession" in reply.text
    assert f"`get: {nothing}` reads as nothing in return" in reply.text
    (entry,) = entries(db)
    assert entry.get is None


def test_an_empty_get_is_one_way_too(slack_user: SlackSender, db: SessionFactory) -> None:
    reply = slack_user.command("/concede", "Globex give: rush delivery get:")
    assert "one-way concession" in reply.text
    assert entries(db)[0].get is None


@pytest.mark.parametrize("real", ["a 2-year term", "no-code connector", "nothing less than a PO"])
def test_a_real_get_is_kept_even_when_it_starts_like_nothing(
    slack_user: SlackSender, db: SessionFactory, real: str
) -> None:
    reply = slack_user.command("/concede", f"Globex give: rush delivery get: {real}")
    assert "traded concession" in reply.text
    assert entries(db)[0].get == real


def test_the_form_reads_a_nothing_get_the_same_way(
    slack_user: SlackSender, db: SessionFactory
) -> None:
    values = form_values(ACCOUNT="Globex", GIVE="rush delivery", GET="n/a")
    slack_user.interact(view_submission(View.CONCESSION, values))
    (entry,) = entries(db)
    assert entry.get is None


@pytest.mark.parametrize(
    ("value", "to_us", "to_them"),
    [
        ("us -4% margin, them 15k/yr saved", "-4% margin", "15k/yr saved"),
        ("us: -2%, them: 3%", "-2%", "3%"),
        ("us −12k, them $1,200/mo", "−12k", "$1,200/mo"),
        ("them +€5,000 one-off; us - 3 pts", "3 pts", "+€5,000 one-off"),
        ("to us -$1.2m ARR, to them 20 hrs/week", "-$1.2m ARR", "20 hrs/week"),
    ],
)
def test_values_keep_signs_currencies_and_units_as_typed(
    slack_user: SlackSender, db: SessionFactory, value: str, to_us: str, to_them: str
) -> None:
    reply = slack_user.command("/concede", f"Globex give: 5% get: 2 years value: {value}")
    (entry,) = entries(db)
    assert (entry.value_to_us, entry.value_to_them) == (to_us, to_them)
    assert f"to us {to_us}" in reply.text


def test_keys_without_colons_get_the_exact_correction_and_a_button(
    slack_user: SlackSender, slack: LocalSlack, db: SessionFactory
) -> None:
    reply = slack_user.command("/concede", "Globex give 10% get 2 years")

    assert reply.status == 200 and reply.ephemeral
    assert "Did you mean `give: 10% get: 2 years`?" in reply.text
    assert "`/concede Globex give: 10% get: 2 years`" in reply.text
    assert entries(db) == []
    (actions,) = [b for b in reply.body["blocks"] if b["type"] == "actions"]
    (button,) = actions["elements"]
    slack_user.interact(
        block_action(button["action_id"], button["value"], response_url=slack.response_url())
    )
    (entry,) = entries(db)
    assert (entry.account.name, entry.give, entry.get) == ("Globex", "10%", "2 years")
    (answer,) = slack.wait_for("response_url")
    assert "traded concession" in str(answer.args["blocks"])


def test_followup_due_without_its_colon_gets_the_correction(
    slack_user: SlackSender, db: SessionFactory
) -> None:
    reply = slack_user.command("/followup", "Globex send deck due fri")
    assert "Did you mean `due: fri`?" in reply.text
    assert "`/followup Globex send deck due: fri`" in reply.text
    with db() as session:
        assert session.scalars(select(Commitment)).all() == []


@pytest.mark.parametrize(
    ("text", "kept", "flag"),
    [
        ("Globex give: 5% get: market share", "Globex give: 5% get: market share", False),
        ("Globex give: 5% get: a bigger share", "Globex give: 5% get: a bigger share", False),
        ("Globex give: 5% get: share", "Globex give: 5% get: share", False),
        ("Globex give: 5% get: 2 years share", "Globex give: 5% get: 2 years", True),
        ("Globex give: 5% get: 2 years SHARE ", "Globex give: 5% get: 2 years", True),
        ("Globex give: 5% get: shareholder intro", "Globex give: 5% get: shareholder intro", False),
    ],
)
def test_share_is_a_flag_only_as_a_last_word_outside_a_phrase(
    text: str, kept: str, flag: bool
) -> None:
    assert split_share_flag(text) == (kept, flag)


def test_market_share_stays_a_get_and_posts_nothing(
    slack_user: SlackSender, slack: LocalSlack, db: SessionFactory
) -> None:
    reply = slack_user.command("/concede", "Globex give: 5% get: market share")
    assert "Posting it" not in reply.text
    assert entries(db)[0].get == "market share"
    assert slack.calls("chat.postMessage") == []


@pytest.mark.parametrize(
    ("text", "keys", "corrected"),
    [
        ("Acme Corp give rush delivery", ("give", "get"), "Acme Corp give: rush delivery"),
        ("Globex give 10% get 2 years", ("give", "get"), "Globex give: 10% get: 2 years"),
        ("Globex give: 10% get 2 years", ("give", "get"), "Globex give: 10% get: 2 years"),
        ("Give Inc", ("give",), None),
        ("Globex give", ("give",), None),
    ],
)
def test_colons_added_after_bare_keys_past_the_account(
    text: str, keys: tuple[str, ...], corrected: str | None
) -> None:
    found = colons_added(text, keys)
    assert (found[0] if found else None) == corrected


@pytest.mark.parametrize(
    ("typed", "amount"),
    [
        ("120,000", (120000.0, "")),
        ("$120k", (120000.0, "")),
        ("1.2m", (1200000.0, "")),
        ("82 pts", (82.0, "")),
        ("$1,200/mo", (1200.0, "month")),
        ("EUR 14k per year", (14000.0, "year")),
        ("14k EUR/yr", (14000.0, "year")),
        ("10k ARR", (10000.0, "year")),
        ("+5k", (5000.0, "")),
        # As a hurried rep types a period: short, Latin, or with the line's last comma.
        ("10k pm", (10000.0, "month")),
        ("$10k/m", (10000.0, "month")),
        ("10k each month", (10000.0, "month")),
        ("120k per annum", (120000.0, "year")),
        ("120k p.a.", (120000.0, "year")),
        ("120k/yr.", (120000.0, "year")),
        ("30k per qtr", (30000.0, "quarter")),
        ("82pts", (82.0, "")),
    ],
)
def test_meso_values_read_currencies_scales_and_periods(
    typed: str, amount: tuple[float, str]
) -> None:
    assert parse_amount(typed) == amount


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("−12k", "reads as -12,000"),
        ("-5", "from 0 up"),
        ("10k per week", "I read 10,000, then “per week”, which is no period I know"),
        ("lots", "“lots” is not a number"),
    ],
)
def test_a_negative_meso_value_is_refused_with_what_was_read(typed: str, says: str) -> None:
    with pytest.raises(UsageError) as refused:
        parse_amount(typed)
    assert says in refused.value.problem


def test_colons_added_from_the_start_once_the_account_is_read_off() -> None:
    # The caller (qbr) read "Right Next Door" with the resolver and passes the rest.
    assert colons_added("next 20 Jan", ("next",), past_first_word=False) == (
        "next: 20 Jan",
        "next: 20 Jan",
    )
    assert colons_added("next 20 Jan", ("next",)) is None
