"""Socket Mode: Rapport behind a firewall, with no public URL and no signing secret."""

from __future__ import annotations

from urllib.parse import parse_qsl

from slack_bolt import BoltRequest

from bot.app.bolt import build_app
from bot.config import Settings
from bot.devtools.localslack import command_body
from storage.db import SessionFactory


def test_the_app_serves_socket_mode_without_a_signing_secret(
    settings: Settings, db: SessionFactory
) -> None:
    unsigned = settings.model_copy(update={"slack_signing_secret": None})
    app = build_app(unsigned, db=db)
    body = dict(parse_qsl(command_body("/concede", "acme give: 5% discount get: a case study")))
    response = app.dispatch(BoltRequest(body=body, mode="socket_mode"))
    assert response.status == 200
    assert "a case study" in response.body

