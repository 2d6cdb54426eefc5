"""messages.render: Slack-safe text, valid Block Kit, limits kept under hostile input."""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.services.concessions import Balance, ConcessionLog
from messages import escape, render
from messages.render import render_source

NOW = datetime(2026, 11, 22, 10, tzinfo=UTC)
HOSTILE = "<!channel> @here & <https://evil.test|invoice> \u2028 \x00 \ud800 *bold* \"q\" 'a' : - #"


def account(name: str = HOSTILE) -> SimpleNamespace:
    return SimpleNamespace(name=name, owner_id="U0ALICE")


def concession(text: str, with_get: bool = True) -> SimpleNamespace:
    return SimpleNamespace(
        account=account(text[:80]),
        give=text,
        get=text if with_get else None,
        trigger=text,
        logged_by="U0ALICE",
        logged_at=NOW,
    )


def commitment(text: str) -> SimpleNamespace:
    return SimpleNamespace(account=account(text[:80]), what=text, due_on=date(2026, 11, 27))


def every_template(text: str) -> dict[str, dict]:
    entries = [concession(text, with_get=i % 2 == 0) for i in range(15)]
    log = ConcessionLog(account=account(text[:80]), entries=entries, balance=Balance(8, 30))  # type: ignore[arg-type]
    summary = SimpleNamespace(
        accounts=[account(text[:80])] * 10,
        open_commitments=[commitment(text)] * 10,
        recent_concessions=entries[:5],
        more_commitments=True,
    )
    return {
        "concession_logged": render("concession_logged", entry=entries[0], balance=Balance(1, 0)),
        "concession_logged_one_way": render(
            "concession_logged", entry=entries[1], balance=Balance(0, 1)
        ),
        "concession_log": render("concession_log", log=log),
        "followup_recorded": render("followup_recorded", commitment=commitment(text)),
        "nudge_followup_overdue": render("nudge_followup_overdue", commitment=commitment(text)),
        "home": render("home", summary=summary),
        "user_error": render("user_error", problem=text, help=None),
        "unexpected_error": render("unexpected_error", reference="abc123"),
    }


def mrkdwn_texts(node: object) -> list[str]:
    if isinstance(node, dict):
        found = [node["text"]] if node.get("type") == "mrkdwn" else []
        return found + [t for value in node.values() for t in mrkdwn_texts(value)]
    if isinstance(node, list):
        return [t for item in node for t in mrkdwn_texts(item)]
    return []


def test_escape_defuses_mentions_and_links() -> None:
    escaped = escape("<!channel> <@U123> <https://x.test|y> a & b @here @Everyone")
    assert "<" not in escaped and ">" not in escaped
    assert "&amp;" in escaped
    assert "@here" not in escaped and "@Everyone" not in escaped


@pytest.mark.parametrize("text", [HOSTILE, "x" * 3500, "🤝 emoji ok", ""])
def test_every_template_renders_valid_block_kit(text: str) -> None:
    for name, message in every_template(text or "x").items():
        assert message.get("text") or message.get("type") == "home", name
        # Slack parses mrkdwn and the fallback text; plain_text is shown as typed.
        for parsed in [message.get("text", ""), *mrkdwn_texts(message)]:
            assert "<!channel>" not in parsed, name
            assert "<https://evil.test|" not in parsed, name
            assert "@here" not in parsed, name


@given(st.text(min_size=1, max_size=400))
def test_any_user_text_renders(text: str) -> None:
    every_template(text)


def test_templates_are_yaml_with_json_values() -> None:
    source = render_source("user_error", problem='a "quoted": value\nnext', help=None)
    assert '"a \\"quoted\\": value\\nnext"' in source
