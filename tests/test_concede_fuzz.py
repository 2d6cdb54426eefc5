"""Random text into the extended /concede: always a 200 answer, one whole entry or nothing."""

from __future__ import annotations

from hypothesis import example, given

from storage.db import SessionFactory
from storage.models import Account, Concession
from tests.fuzzing import FUZZ, command_text, row_counts
from tests.slackkit import SlackSender, mrkdwn_texts

KEYWORDS = [
    "acme",
    "give:",
    "get:",
    "item:",
    "trigger:",
    "value:",
    "us",
    "them",
    "to us",
    ",",
    ";",
    "share",
    '"',
    " ",
    "<!channel>",
]
concede_text = command_text(KEYWORDS, max_words=16)


def counts(db: SessionFactory) -> tuple[int, ...]:
    return row_counts(db, Account, Concession)


@FUZZ
@given(text=concede_text)
@example(text="acme give: x value: us")
@example(text="acme give: x value: them a, them b")
@example(text="acme give: x item: " + "i" * 200)
@example(text="acme give: x value: us \x00, them \u2028 share")
@example(text="share")
def test_concede_answers_any_text(slack_user: SlackSender, db: SessionFactory, text: str) -> None:
    before = counts(db)
    reply = slack_user.command("/concede", text)
    after = counts(db)

    assert reply.status == 200
    assert reply.ephemeral
    assert reply.text
    # Slack parses mrkdwn and the fallback text; plain_text (a header) is shown as typed.
    for parsed in [reply.body.get("text", ""), *mrkdwn_texts(reply.body)]:
        assert "<!channel>" not in parsed
    assert "Something went wrong" not in reply.text, reply.text
    logged = after[1] - before[1]
    assert logged in (0, 1)
    if logged == 0:
        assert after == before, "a refused command writes nothing"
