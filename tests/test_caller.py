"""Who a request comes from: one reading of team, enterprise and user for every
payload kind; a payload that names none is refused, and nothing is saved for it."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

import pytest
from sqlalchemy import func, select

from bot.devtools.localslack import command_body
from handlers.edge.caller import Caller, UnknownCaller, caller_of
from messages.ids import View
from storage.db import SessionFactory
from storage.models import Concession, UserPrefs
from tests.slackkit import ALICE, TEAM, SlackSender, block_action, view_submission
from tests.test_concede_log import form_values

SETTINGS_VALUES = {
    "work_start": {"value": {"type": "timepicker", "selected_time": "08:30"}},
    "work_end": {"value": {"type": "timepicker", "selected_time": "16:00"}},
    "work_days": {"value": {"type": "checkboxes", "selected_options": [{"value": "0"}]}},
}


def command(**fields: str) -> dict[str, Any]:
    body = dict(parse_qsl(command_body("/concede", "acme", team_id=TEAM, user_id=ALICE)))
    return {**body, **fields}


def shortcut(kind: str) -> dict[str, Any]:
    return {
        "type": kind,
        "callback_id": "log_touch",
        "team": {"id": TEAM, "domain": "acme"},
        "user": {"id": ALICE, "team_id": TEAM},
        "trigger_id": "1.2.3",
    }


def event(**envelope: Any) -> dict[str, Any]:
    return {
        "type": "event_callback",
        "team_id": TEAM,
        "event": {"type": "app_home_opened", "user": ALICE, "tab": "home"},
        **envelope,
    }


@pytest.mark.parametrize(
    "body",
    [
        command(),
        block_action("any"),
        view_submission(View.SETTINGS, {}),
        shortcut("shortcut"),
        shortcut("message_action"),
        event(),
    ],
    ids=["command", "block_actions", "view_submission", "shortcut", "message_action", "event"],
)
def test_every_payload_kind_names_its_team_and_user(body: dict[str, Any]) -> None:
    assert caller_of(body) == Caller(team_id=TEAM, user_id=ALICE)


def test_the_enterprise_is_read_where_each_kind_carries_it() -> None:
    assert caller_of(command(enterprise_id="E0GRID")).enterprise_id == "E0GRID"
    assert caller_of(event(enterprise_id="E0GRID")).enterprise_id == "E0GRID"
    click = {**block_action("any"), "enterprise": {"id": "E0GRID", "name": "Grid"}}
    assert caller_of(click).enterprise_id == "E0GRID"


def test_an_org_wide_install_without_a_team_object_uses_the_persons_team() -> None:
    click = {**block_action("any"), "team": None}
    assert caller_of(click).team_id == TEAM


@pytest.mark.parametrize(
    "body",
    [
        command(team_id=""),
        command(user_id=""),
        {**block_action("any"), "team": None, "user": {"id": ALICE}},
        {**block_action("any"), "team": {"id": None}, "user": {"id": ALICE, "team_id": None}},
        {**block_action("any"), "team": {"id": "None; drop"}},
        {**block_action("any"), "team": {"id": ["T0ACME"]}},
        {**block_action("any"), "user": None},
        event(team_id=None),
        {"type": "event_callback", "team_id": TEAM, "event": {"type": "app_home_opened"}},
    ],
)
def test_a_payload_without_a_team_or_user_is_refused(body: dict[str, Any]) -> None:
    with pytest.raises(UnknownCaller):
        caller_of(body)


def test_a_modal_from_another_workspaces_install_is_refused() -> None:
    submission = view_submission(View.SETTINGS, {}, team="T0B")
    submission["view"]["app_installed_team_id"] = "T0A"
    with pytest.raises(UnknownCaller, match="another workspace"):
        caller_of(submission)
    submission["view"]["app_installed_team_id"] = "T0B"
    assert caller_of(submission).team_id == "T0B"


def count(db: SessionFactory, model: type) -> int:
    with db() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_settings_without_a_team_are_refused_and_not_stored(
    slack_user: SlackSender, db: SessionFactory
) -> None:
    submission = view_submission(View.SETTINGS, SETTINGS_VALUES)
    submission["team"] = None
    submission["user"] = {"id": ALICE}
    reply = slack_user.interact(submission)
    assert reply.status == 200
    # The form stays open and says why; nothing is stored, under "None" or anywhere.
    assert "which workspace" in json.dumps(reply.body["errors"])
    assert count(db, UserPrefs) == 0


def test_every_modal_refuses_a_team_that_is_not_the_installs(
    slack_user: SlackSender, db: SessionFactory
) -> None:
    submissions = [
        view_submission(View.SETTINGS, SETTINGS_VALUES, team="T0B"),
        view_submission(
            View.CONCESSION,
            form_values(ACCOUNT="Acme", GIVE="free onboarding"),
            private_metadata=json.dumps({"concession_id": None, "channel_id": "C0DEALS"}),
            team="T0B",
        ),
    ]
    for submission in submissions:
        submission["view"]["app_installed_team_id"] = "T0A"
        reply = slack_user.interact(submission)
        assert reply.status == 200
        assert "another workspace" in json.dumps(reply.body["errors"])
    assert count(db, UserPrefs) == 0
    assert count(db, Concession) == 0


def test_a_command_without_a_team_says_so_and_saves_nothing(
    slack_user: SlackSender, db: SessionFactory
) -> None:
    body = command_body("/followup", "acme send deck due: fri", team_id="", user_id=ALICE)
    response = slack_user.post_signed(body)
    assert response.status_code == 200
    assert "which workspace" in response.text
