"""manifest.yml: valid against Slack's schema, and in step with what the app registers."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from handlers.rapport import COMMANDS
from messages.commands import command_reference

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT.parent / "shared" / "slack" / "manifest.schema.json"


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "manifest.yml").read_text())
    return loaded


@pytest.mark.skipif(not SCHEMA.exists(), reason="Slack's manifest schema is not beside the repo")
def test_manifest_matches_slacks_schema(manifest: dict[str, Any]) -> None:
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft7Validator(schema).validate(manifest)


@pytest.mark.skipif(not SCHEMA.exists(), reason="Slack's manifest schema is not beside the repo")
def test_manifest_sets_up_socket_mode_and_http_is_one_switch_away(
    manifest: dict[str, Any],
) -> None:
    """The README's quick start needs no public URL; HTTP is socket_mode_enabled: false
    and the public address in the URLs, which all lead to the one endpoint."""
    assert manifest["settings"]["socket_mode_enabled"] is True
    over_http = {**manifest, "settings": {**manifest["settings"], "socket_mode_enabled": False}}
    jsonschema.Draft7Validator(json.loads(SCHEMA.read_text())).validate(over_http)
    settings = manifest["settings"]
    urls = [c["url"] for c in manifest["features"]["slash_commands"]] + [
        settings["event_subscriptions"]["request_url"],
        settings["interactivity"]["request_url"],
    ]
    assert {url.removeprefix("https://rapport.example.com") for url in urls} == {"/slack/events"}


def test_every_registered_command_is_in_the_manifest(manifest: dict[str, Any]) -> None:
    declared = {c["command"] for c in manifest["features"]["slash_commands"]}
    assert declared == set(COMMANDS)
    assert set(command_reference()) == set(COMMANDS), "every command has usage text"


def test_manifest_subscribes_to_home_and_interactivity(manifest: dict[str, Any]) -> None:
    assert "app_home_opened" in manifest["settings"]["event_subscriptions"]["bot_events"]
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True


def test_manifest_tells_rapport_of_uninstalls_and_leaves_token_rotation_off(
    manifest: dict[str, Any],
) -> None:
    """Both events, in either order, stop a workspace's messages; token rotation is an
    option for distributed mode only (a pasted SLACK_BOT_TOKEN cannot be renewed)."""
    events = manifest["settings"]["event_subscriptions"]["bot_events"]
    assert {"app_uninstalled", "tokens_revoked"} <= set(events)
    assert manifest["settings"]["token_rotation_enabled"] is False


@pytest.mark.skipif(not SCHEMA.exists(), reason="Slack's manifest schema is not beside the repo")
def test_manifest_with_token_rotation_on_is_still_valid(manifest: dict[str, Any]) -> None:
    rotating = {**manifest, "settings": {**manifest["settings"], "token_rotation_enabled": True}}
    jsonschema.Draft7Validator(json.loads(SCHEMA.read_text())).validate(rotating)


def test_manifest_asks_for_the_scopes_rapport_uses(manifest: dict[str, Any]) -> None:
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    # commands: slash commands; chat:write: DMs and posts; im:write: conversations.open;
    # users:read: users.info, for each person's time zone; users:read.email:
    # users.lookupByEmail, for owners given by email in `rapport import`;
    # chat:write.public: digests to public channels without an invite; files:write:
    # the digest chart; usergroups:read: digests that cover a user group's accounts;
    # im:history: before re-sending a DM Slack may have taken, look for it.
    assert scopes == {
        "commands",
        "chat:write",
        "im:write",
        "im:history",
        "users:read",
        "users:read.email",
        "chat:write.public",
        "files:write",
        "usergroups:read",
    }


def test_an_installed_package_carries_the_manifest_the_oauth_flow_reads() -> None:
    """The OAuth flow reads its scopes from bot/app/manifest.yml, a link to this file
    that pyproject.toml ships as package data: a wheel (not only a checkout) has it."""
    from bot.app.oauth import MANIFEST

    assert MANIFEST.read_bytes() == (ROOT / "manifest.yml").read_bytes()
    assert MANIFEST.parent == ROOT / "bot" / "app"
    shipped = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "app/manifest.yml" in shipped["package-data"]["bot"]
