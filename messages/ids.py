"""Every action_id, callback_id and block_id Rapport puts in Block Kit, defined once."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError


class Action(StrEnum):
    """action_id of buttons and menus."""

    # Nudge DMs (the block_id of each item carries which message and subject).
    NUDGE_DONE = "nudge_done"
    NUDGE_SNOOZE = "nudge_snooze"
    NUDGE_REASSIGN = "nudge_reassign"
    NUDGE_QBR_HELD = "nudge_qbr_held"
    # "Did the QBR happen?": a date picker (the review's date is the nudge's slot).
    NUDGE_QBR_MOVED = "nudge_qbr_moved"
    NUDGE_QBR_SKIPPED = "nudge_qbr_skipped"
    NUDGE_TOUCHED = "nudge_touched"
    # Check-in nudges: open the modal that records the buyer's CSAT/NPS answer.
    NUDGE_RATE = "nudge_rate"
    # The account view and the governance reply (value: the account id).
    GOVERNANCE_EDIT = "governance_edit"
    DEBRIEF_START = "debrief_start"
    # The concession log (value: see handlers.concede).
    CONCESSION_NEW = "concession_new"
    CONCESSION_EDIT = "concession_edit"
    CONCESSION_WITHDRAW = "concession_withdraw"
    CONCESSION_OLDER = "concession_older"
    CONCESSION_NEWER = "concession_newer"
    # /meso ACCOUNT: start the form from a built-in bundle template.
    MESO_TEMPLATE = "meso_template"
    # The reply to a new MESO set: record which offer the buyer chose.
    MESO_PICK = "meso_pick"
    # App Home (Done value: the commitment id; Snooze option values: `<id>:<choice>`).
    HOME_DONE = "home_done"
    HOME_SNOOZE = "home_snooze"
    HOME_EDIT_SETTINGS = "home_edit_settings"
    # "Which review took place?" (value: `<qbr id>:<planned date>`).
    QBR_HELD_PLANNED = "qbr_held_planned"
    QBR_HELD_EXTRA = "qbr_held_extra"
    # A digest section's "Open an account…" menu (value: the account id).
    DIGEST_OPEN_ACCOUNT = "digest_open_account"
    # A "Did you mean…?" reply: run the command as corrected (value: see
    # handlers.rapport).
    RUN_COMMAND = "run_command"
    # Undo one change to an account (value: the AccountChange id), on the reply to
    # the change and on the DM that tells the owner of someone else's change.
    CHANGE_UNDO = "change_undo"


class View(StrEnum):
    """callback_id of modals."""

    SNOOZE_UNTIL = "snooze_until"
    SETTINGS = "user_settings"
    LOG_TOUCH = "log_touch"
    GOVERNANCE_PLAN = "governance_plan"
    DEBRIEF = "debrief"
    CONCESSION = "concession"
    MESO = "meso"
    BUYER_RATING = "buyer_rating"
    HOME_SNOOZE_UNTIL = "home_snooze_until"


class GovernanceBlock(StrEnum):
    """block_id of each input in the governance plan modal (the action_id is "value")."""

    OWNERS = "gov_owners"
    CADENCE = "gov_cadence"
    KPIS = "gov_kpis"
    CREDITS = "gov_credits"
    ESCALATION_OWNER = "gov_escalation_owner"
    ESCALATION = "gov_escalation"
    EXIT_RAMPS = "gov_exit_ramps"
    REOPENERS = "gov_reopeners"


class DebriefBlock(StrEnum):
    """block_id of each question in the debrief modal (the action_id is "value")."""

    TRUST = "debrief_trust"
    TRADES = "debrief_trades"
    METRICS = "debrief_metrics"
    GOVERNANCE = "debrief_governance"
    NEXT_MESO = "debrief_next_meso"


class ConcessionBlock(StrEnum):
    """block_id of each input in the concession modal (the action_id is "value")."""

    ACCOUNT = "con_account"
    ITEM = "con_item"
    GIVE = "con_give"
    GET = "con_get"
    TRIGGER = "con_trigger"
    VALUE_TO_US = "con_value_us"
    VALUE_TO_THEM = "con_value_them"
    SHARE = "con_share"


class MesoBlock(StrEnum):
    """block_id of the set-wide inputs in the MESO modal (the action_id is "value")."""

    ACCOUNT = "meso_account"
    TOLERANCE = "meso_tolerance"
    SHARE = "meso_share"


class MesoOfferField(StrEnum):
    """The inputs of each offer in the MESO modal; see offer_block()."""

    LABEL = "label"
    TERMS = "terms"
    SCOPE = "scope"
    CADENCE = "cadence"
    EXTRAS = "extras"
    VALUE = "value"


def offer_block(index: int, field: MesoOfferField) -> str:
    """block_id of one offer's input: `meso_<offer index>_<field>`."""
    return f"meso_{index}_{field.value}"


class RatingBlock(StrEnum):
    """block_id of each part of the buyer's-rating modal (input action_ids are "value")."""

    KIND = "rating_kind"
    SCORE = "rating_score"
    CONTACT = "rating_contact"


# action_id of the score buttons in the rating modal: `rating_score_<0-10>` (ids must
# differ within a block, so the score is part of the id).
RATING_SCORE_PREFIX = "rating_score_"

# action_id of the answers to "Did you mean …?" (handlers/edge/accounts.py):
# `account_choice_<n>`, one per button of the question.
ACCOUNT_CHOICE_PREFIX = "account_choice_"


def _ascii_digits(value: object) -> object:
    # An id as the block id writes it: ASCII digits, at most 18 (below 2**63).
    if isinstance(value, str):
        if not (value.isascii() and value.isdigit()) or len(value) > 18:
            raise ValueError("not an id Rapport wrote")
        return int(value)
    return value


_RowId = Annotated[int, BeforeValidator(_ascii_digits), Field(ge=0, lt=2**63)]


class NudgeRef(BaseModel):
    """Which item of which reminder DM a button is on: the block_id of the item's
    buttons, `act:<outbox id>:<kind>:<subject id>:<nudge id>`. The DM's template writes
    it (`block_id`, as the `nudge_block` filter); the nudge and rating listeners read
    it once (`parse`), before anything is done. Slack allows 255 characters."""

    model_config = ConfigDict(frozen=True, strict=True, extra="forbid")

    PREFIX: ClassVar[str] = "act"
    SEPARATOR: ClassVar[str] = ":"
    LIMIT: ClassVar[int] = 255

    outbox_id: _RowId
    kind: Literal["commitment", "qbr", "checkin", "account"]
    subject_id: _RowId
    nudge_id: _RowId

    @classmethod
    def block_id(cls, outbox_id: int, subject: str, nudge_id: int) -> str:
        """The block id of a nudge's item; `subject` is the nudge's (`<kind>:<id>`)."""
        return cls.SEPARATOR.join((cls.PREFIX, str(outbox_id), subject, str(nudge_id)))

    def __str__(self) -> str:
        return self.block_id(self.outbox_id, f"{self.kind}:{self.subject_id}", self.nudge_id)

    @classmethod
    def parse(cls, raw: object) -> NudgeRef | None:
        """The item `raw` names; None for anything Rapport did not write."""
        if not isinstance(raw, str) or len(raw) > cls.LIMIT:
            return None
        prefix, *parts = raw.split(cls.SEPARATOR)
        if prefix != cls.PREFIX or len(parts) != len(cls.model_fields):
            return None
        try:
            return cls.model_validate(dict(zip(cls.model_fields, parts, strict=True)))
        except ValidationError:
            return None
