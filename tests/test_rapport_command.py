"""/rapport: the entry point to every subcommand, with help for the lost."""

from __future__ import annotations

from tests.slackkit import SlackSender


def test_rapport_alone_shows_help(slack_user: SlackSender) -> None:
    reply = slack_user.command("/rapport", "")
    assert reply.status == 200 and reply.ephemeral
    assert "/concede ACCOUNT" in reply.text
    assert "Unknown command" not in reply.text


def test_rapport_help_lists_subcommands(slack_user: SlackSender) -> None:
    assert "`/rapport help`" in slack_user.command("/rapport", "help").text


def test_unknown_subcommand_says_so_and_shows_help(slack_user: SlackSender) -> None:
    reply = slack_user.command("/rapport", "frobnicate <!here> now")
    assert reply.ephemeral
    assert "Unknown command: `frobnicate`" in reply.text
    assert "/followup ACCOUNT" in reply.text
