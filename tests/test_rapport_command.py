"""/rapport: the entry point to every subcommand, with help for the lost."""

from __future__ import annotations

import pytest

from handlers.rapport import COMMANDS, SUBCOMMANDS, help_sections
from messages.commands import command_reference, subcommand_reference
from tests.slackkit import SlackSender


def test_rapport_alone_shows_help(slack_user: SlackSender) -> None:
    reply = slack_user.command("/rapport", "")
    assert reply.status == 200 and reply.ephemeral
    assert "/concede ACCOUNT" in reply.text
    assert "don't know" not in reply.text


def test_every_routed_subcommand_has_its_help_and_nothing_else_does() -> None:
    # Help is made from the routing table; a name routed without a line in
    # subcommands.yaml (or a line for a name nobody routes) is a mistake.
    assert set(subcommand_reference()) == set(SUBCOMMANDS)
    for name in COMMANDS:
        if name != "/rapport":
            assert command_reference()[name].help, f"{name} has no help lines"


def test_help_lists_every_command_the_app_answers(slack_user: SlackSender) -> None:
    text = slack_user.command("/rapport", "help").text
    for name in COMMANDS:
        assert f"*{name}*" in text
    for name in SUBCOMMANDS:
        assert f"`/rapport {name}" in text
    assert "`/meso ACCOUNT A:" in text
    assert "they:" in text
    assert [name for name, _ in help_sections()] == list(COMMANDS)


def test_a_subcommand_routed_without_help_cannot_render_help(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(SUBCOMMANDS, "frobnicate", SUBCOMMANDS["help"])
    with pytest.raises(KeyError):
        help_sections()


@pytest.mark.parametrize(
    ("typed", "meant", "rest"),
    [
        ("hlep", "/rapport help", ""),
        ("pitfall", "/rapport pitfalls", ""),
        ("template", "/rapport templates", ""),
        ("prompts price", "/rapport prompt", " price"),
        ("helth Globex", "/rapport health", " Globex"),
        ("meso Globex", "/meso", " Globex"),
    ],
)
def test_unknown_subcommand_suggests_the_closest_with_its_usage(
    slack_user: SlackSender, typed: str, meant: str, rest: str
) -> None:
    reply = slack_user.command("/rapport", typed)
    assert reply.status == 200 and reply.ephemeral
    # The line as it should have been typed, ready to copy.
    assert f"Did you mean `{meant}{rest}`?" in reply.text
    assert f"`{meant} " in reply.text or f"`{meant}`:" in reply.text  # its usage line
    # Not the whole list.
    assert "`/rapport overdue" not in reply.text
    assert "`/rapport governance" not in reply.text


def test_unknown_subcommand_with_nothing_close_points_at_help(slack_user: SlackSender) -> None:
    reply = slack_user.command("/rapport", "frobnicate <!here> now")
    assert reply.ephemeral
    assert "I don't know `/rapport frobnicate`" in reply.text
    assert "`/rapport help` lists everything" in reply.text
    assert "Did you mean" not in reply.text
    assert "<!here>" not in reply.text
