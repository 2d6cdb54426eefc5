"""Each prompt line says when the relationship approach is the wrong tool, and the
buyer's expectations have a line of their own (`/rapport prompt expectations`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.services.playbook_search import find_prompt
from messages.playbook import PlaybookError, load_playbook
from tests.slackkit import SlackSender


def test_every_built_in_prompt_says_when_not_to_lean_on_the_relationship() -> None:
    library = load_playbook()
    missing = [p.key for p in library.prompts if not p.not_when]
    assert missing == []
    # Each says it in its own words, for its own moment.
    assert len({p.not_when for p in library.prompts}) == len(library.prompts)


@pytest.mark.parametrize(
    "words",
    ["expectations", "expectatons", "what they expect", "in my shoes", "expect", "Expectations"],
)
def test_expectations_have_a_line(words: str) -> None:
    match = find_prompt(load_playbook(), words)
    assert match.prompt is not None and match.prompt.key == "expectations"
    assert "in my shoes" in match.prompt.line and "what would you want to see" in match.prompt.line


def test_prompt_expectations_answers_with_the_line_and_when_not_to_use_it(
    slack_user: SlackSender,
) -> None:
    reply = slack_user.command("/rapport", "prompt expectations")

    assert reply.status == 200 and reply.ephemeral
    assert "I have no line" not in reply.text
    assert "Imagine you were in my shoes: what would you want to see from me" in reply.text
    assert "When not to lean on the relationship" in reply.text
    assert "transaction" in reply.text


def test_a_move_shows_when_not_to_use_it_beside_when_to(slack_user: SlackSender) -> None:
    reply = slack_user.command("/rapport", "prompt align")
    assert "When to use it" in reply.text
    assert "When not to lean on the relationship" in reply.text
    assert "commodity" in reply.text


def test_a_team_entry_may_leave_it_out_or_reword_it(tmp_path: Path) -> None:
    team = tmp_path / "team.yaml"
    team.write_text(
        "situations:\n"
        "  price:\n"
        "    not_when: Our own words for a spot buy.\n"
        "  site-visit:\n"
        "    title: Visiting their site\n"
        "    line: Could you show me how your team uses it day to day?\n"
        "    why: Seeing the work shows needs nobody wrote down.\n"
        "    risk: Don't turn the visit into a pitch.\n",
        "utf-8",
    )
    library = load_playbook(team)
    prompts = {p.key: p for p in library.prompts}
    assert prompts["price"].not_when == "Our own words for a spot buy."
    assert prompts["site-visit"].not_when is None


def test_an_empty_not_when_is_named(tmp_path: Path) -> None:
    team = tmp_path / "team.yaml"
    team.write_text("moves:\n  exit-ramps:\n    not_when: ''\n", "utf-8")
    with pytest.raises(PlaybookError, match="moves.exit-ramps: `not_when` must be non-empty"):
        load_playbook(team)
