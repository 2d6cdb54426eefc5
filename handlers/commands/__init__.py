"""Slash commands, one module each."""

from __future__ import annotations

from slack_bolt import App

from handlers.commands import concede, followup, rapport

COMMANDS = {
    "/concede": concede.concede,
    "/followup": followup.followup,
    "/rapport": rapport.rapport,
}


def register(app: App) -> None:
    for name, listener in COMMANDS.items():
        app.command(name)(listener)
