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


# command -> work run right after the ack (Bolt lazy listener), for Slack calls.
AFTER_ACK = {
    "/rapport": rapport.rapport_after_ack,
    "/followup": followup.learn_caller_timezone,
}


def register(app: App) -> None:
    for name, listener in COMMANDS.items():
        if name in AFTER_ACK:
            app.command(name)(ack=listener, lazy=[AFTER_ACK[name]])
        else:
            app.command(name)(listener)
