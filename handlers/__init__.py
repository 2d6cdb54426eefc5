"""Slack listeners, one module per feature: parse, call a service, render, respond. No
rules live here.

Each feature module holds every surface of its feature (its slash command or /rapport
subcommands, its buttons, its modals, its events) and exposes `register(app)`; a
feature reached only through /rapport lists its subcommands in `SUBCOMMANDS`, which
the router (`rapport.py`) composes. What every listener shares (middleware, the error
handler, the after-ack runner, reading payloads) is `handlers/edge/`.
"""

from __future__ import annotations

from slack_bolt import App

from handlers import (
    account,
    concede,
    followups,
    governance,
    home,
    meso,
    nudges,
    prep,
    qbr,
    questions,
    rapport,
    ratings,
    rhythm,
    settings,
    uninstall,
)
from handlers.edge import install
from handlers.edge.context import Deps

# The features with listeners of their own; digest, due, health, holidays and playbook
# are /rapport subcommands only, reached through the router.
FEATURES = (
    concede,
    followups,
    questions,
    meso,
    rapport,
    account,
    governance,
    prep,
    qbr,
    rhythm,
    settings,
    nudges,
    ratings,
    home,
    uninstall,
)


def register_listeners(app: App, deps: Deps) -> None:
    """Install the edge, then every feature's listeners."""
    install(app, deps)
    for feature in FEATURES:
        feature.register(app)
