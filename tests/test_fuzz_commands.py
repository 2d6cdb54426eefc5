"""Random text into every command: always a 200 reply, never half-written state."""

from __future__ import annotations

from hypothesis import example, given

from storage.db import SessionFactory
from storage.models import Account, Commitment, Concession
from tests.fuzzing import FUZZ, command_text, row_counts
from tests.slackkit import SlackSender

KEYWORDS = ["give:", "get:", "trigger:", "due:", '"', "“", "acme", " ", "tomorrow", "<!channel>"]
any_command_text = command_text(KEYWORDS)


def counts(db: SessionFactory) -> tuple[int, ...]:
    return row_counts(db, Account, Concession, Commitment)


@FUZZ
@given(text=any_command_text)
def test_concede_answers_any_text(slack_user: SlackSender, db: SessionFactory, text: str) -> None:
    before = counts(db)
    reply = slack_user.command("/concede", text)
    after = counts(db)

    assert reply.status == 200
    assert reply.ephemeral
    assert reply.text
    # Slack parses the fallback and mrkdwn; a header shows an account's name as typed.
    assert "<!channel>" not in reply.parsed
    logged = after[1] - before[1]
    assert logged in (0, 1)
    if logged == 0:
        assert after == before, "a refused command writes nothing"


@FUZZ
@given(text=any_command_text)
@example(text="acme x due: 9999-12-31")
@example(text="acme x due: in 999999999 days")
@example(text="acme x due: -1")
@example(text="acme \x00 due: \x00")
def test_followup_answers_any_text(slack_user: SlackSender, db: SessionFactory, text: str) -> None:
    before = counts(db)
    reply = slack_user.command("/followup", text)
    after = counts(db)

    assert reply.status == 200
    assert reply.ephemeral
    assert reply.text
    recorded = after[2] - before[2]
    assert recorded in (0, 1)
    if recorded == 0:
        assert after == before
        assert any(
            phrase in reply.text
            for phrase in ("Write it like this", "no account", "follow-ups", "Did you mean")
        )
