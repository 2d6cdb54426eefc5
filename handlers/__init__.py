"""Slack listeners: parse, call a service, render, respond. No rules live here."""

from __future__ import annotations

from slack_bolt import App

from handlers import actions, after_ack, commands, errors, events, shortcuts, views


def register_listeners(app: App) -> None:
    commands.register(app)
    actions.register(app)
    views.register(app)
    shortcuts.register(app)
    events.register(app)
    errors.register(app)
    after_ack.register(app)
