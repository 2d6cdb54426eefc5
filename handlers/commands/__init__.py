"""Slash commands, one module each."""

from __future__ import annotations

from slack_bolt import App

from handlers.commands import concede, followup, meso, rapport

COMMANDS = {
    "/concede": concede.concede,
    "/followup": followup.followup,
    "/meso": meso.meso,
    "/rapport": rapport.rapport,
}


def register(app: App) -> None:
    # Listeners that need Slack calls hand them to handlers.after_ack.later().
    for name, listener in COMMANDS.items():
        app.command(name)(listener)
