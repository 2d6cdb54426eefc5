"""The account a modal is about, round-tripped through the view's private_metadata, and
the account a button names (its value: the account id), with the modal it opens and
what its submission saves."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from slack_bolt import BoltContext
from slack_sdk import WebClient

from bot.services import governance
from bot.services.errors import NotFound
from handlers.edge.caller import team_of
from handlers.edge.context import deps_of
from handlers.edge.payloads import action_value
from messages import render
from messages.ids import AccountButton
from messages.payloads import Metadata, RowId

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from bot.services.accounts import AccountShown

T = TypeVar("T")


class AccountTarget(Metadata):
    """The account a modal is about (governance plan, debrief), in its private_metadata."""

    account_id: RowId


def account_modal(
    template: str, *, callback_id: str, account: AccountShown, **context: Any
) -> dict[str, Any]:
    """The modal `template` about `account`: its private_metadata names the account
    (read back with `AccountTarget.parse`), and the template shows it."""
    metadata = AccountTarget(account_id=account.id).dump()
    return render(template, callback_id=callback_id, metadata=metadata, account=account, **context)


def open_about_account(
    body: dict[str, Any],
    context: BoltContext,
    client: WebClient,
    build: Callable[[Session, AccountShown], dict[str, Any]],
) -> None:
    """Open the modal `build` makes for the account a button (or menu) names.

    Runs after the ack: a failure reaches the user through after_ack's error path."""
    # A button carries its value; a menu, the option chosen.
    target = AccountButton.parse(action_value(body))
    with deps_of(context).db.begin() as session:
        account = governance.shown_by_id(
            session, team_id=team_of(body), account_id=target.account_id
        )
        modal = build(session, account)
    client.views_open(trigger_id=body["trigger_id"], view=modal)


def saved_about_account(context: BoltContext, save: Callable[[Session], T], *, field: str) -> T:
    """What `save` stores from a submitted modal about an account, in one transaction.

    The account deleted since the modal opened is said under `field` of the modal, which
    stays open (an empty answer would just close it)."""
    try:
        with deps_of(context).db.begin() as session:
            return save(session)
    except NotFound as gone:
        raise NotFound(gone.problem, field=field) from gone
