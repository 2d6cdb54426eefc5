"""The account a modal is about, round-tripped through the view's private_metadata."""

from __future__ import annotations

import json
from dataclasses import dataclass

from bot.services.errors import UserFacingError


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


def without_nul(text: str) -> str:
    """PostgreSQL text cannot hold NUL; Slack never sends one, a forged request might."""
    return text.replace("\x00", "")
