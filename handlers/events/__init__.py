"""Events API listeners."""

from __future__ import annotations

from slack_bolt import App

from handlers.events import home


def register(app: App) -> None:
    # Ack at once; publishing the Home tab calls Slack, so it runs after the ack.
    app.event("app_home_opened")(ack=home.ack_event, lazy=[home.publish_home])
