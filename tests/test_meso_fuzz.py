"""Random text into /meso: always a 200 answer, and either one whole set or nothing."""

from __future__ import annotations

from hypothesis import example, given

from storage.db import SessionFactory
from storage.models import Account, MesoOffer, MesoSet
from tests.fuzzing import FUZZ, command_text, row_counts
from tests.slackkit import SlackSender, mrkdwn_texts

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
meso_text = command_text(KEYWORDS, max_words=16)


def counts(db: SessionFactory) -> tuple[int, ...]:
    return row_counts(db, Account, MesoSet, MesoOffer)


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
