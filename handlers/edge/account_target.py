"""The account a modal is about, round-tripped through the view's private_metadata, and
the account a button names (its value: the account id), with the modal it opens."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from slack_bolt import BoltContext
from slack_sdk import WebClient

from bot.services import governance
from bot.services.errors import UserFacingError
from handlers.edge.caller import team_of
from handlers.edge.context import deps_of
from storage.models import Account

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


@dataclass(frozen=True)
class AccountTarget:
    account_id: int

    def to_metadata(self) -> str:
        return json.dumps({"account_id": self.account_id})

    @classmethod
    def from_metadata(cls, metadata: str) -> AccountTarget:
        try:
            account_id = json.loads(metadata)["account_id"]
        except (ValueError, TypeError, KeyError) as exc:
            raise UserFacingError("This form is out of date. Run the command again.") from exc
        if not isinstance(account_id, int) or isinstance(account_id, bool):
            raise UserFacingError("This form is out of date. Run the command again.")
        return cls(account_id=account_id)

    @classmethod
    def from_button(cls, value: str) -> AccountTarget:
        if not value.isdigit() or len(value) > 18:
            raise UserFacingError("This button is out of date. Run the command again.")
        return cls(account_id=int(value))


def open_about_account(
    body: dict[str, Any],
    context: BoltContext,
    client: WebClient,
    build: Callable[[Session, Account], dict[str, Any]],
) -> None:
    """Open the modal `build` makes for the account a button (or menu) names.

    Runs after the ack: a failure reaches the user through after_ack's error path."""
    action = (body.get("actions") or [{}])[0]
    # A button carries its value; a menu, the option chosen.
    value = action.get("value") or (action.get("selected_option") or {}).get("value", "")
    target = AccountTarget.from_button(str(value))
    with deps_of(context).db.begin() as session:
        account = governance.account_by_id(
            session, team_id=team_of(body), account_id=target.account_id
        )
        modal = build(session, account)
    client.views_open(trigger_id=body["trigger_id"], view=modal)
