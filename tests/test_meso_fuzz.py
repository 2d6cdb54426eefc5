"""Random text into /meso: always a 200 answer, and either one whole set or nothing."""

from __future__ import annotations

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from storage.db import SessionFactory
from storage.models import Account
from storage.negotiation_models import MesoOffer, MesoSet
from tests.slackkit import SlackSender
from tests.test_meso_render import mrkdwn_texts

KEYWORDS = [
    "acme",
    "A:",
    "B:",
    "C:",
    "|",
    "value:",
    "120k",
    "$1,200.50",
    "tolerance:",
    "10%",
    "picked:",
    "share",
    '"',
    "“",
    ":",
    " ",
    "<!channel>",
]
meso_text = st.one_of(
    st.text(max_size=300),
    st.lists(st.one_of(st.sampled_from(KEYWORDS), st.text(max_size=12)), max_size=16).map(" ".join),
)
FUZZ = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def counts(db: SessionFactory) -> tuple[int, int, int]:
    with db() as session:
        return tuple(  # type: ignore[return-value]
            session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Account, MesoSet, MesoOffer)
        )


@FUZZ
@given(text=meso_text)
@example(text="acme A: x value: 1e400 | B: y")
@example(text="acme A: x value: 99999999999999999999 | B: y")
@example(text="acme A: x | B: y tolerance: nan%")
@example(text="acme A: x | B: y tolerance: -0%")
@example(text="acme picked: " + "B" * 30)
@example(text="acme A: \x00 | B: \u2028")
@example(text="x" * 81 + " A: a | B: b")
def test_meso_answers_any_text(slack_user: SlackSender, db: SessionFactory, text: str) -> None:
    before = counts(db)
    reply = slack_user.command("/meso", text)
    after = counts(db)

    assert reply.status == 200
    assert reply.ephemeral
    assert reply.text
    # Slack parses mrkdwn and the fallback text; plain_text (a header) is shown as typed.
    for parsed in [reply.body.get("text", ""), *mrkdwn_texts(reply.body)]:
        assert "<!channel>" not in parsed
    assert "Something went wrong" not in reply.text, reply.text
    built = after[1] - before[1]
    assert built in (0, 1)
    if built == 0:
        assert after == before, "a refused command writes nothing"
    else:
        assert 1 <= after[2] - before[2] <= 3
