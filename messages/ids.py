"""Every action_id, callback_id and block_id Rapport puts in Block Kit, defined once;
and the button values templates write (their models, whose `dump()` the templates
call by name, messages/render.py), which the listeners and the sweep share."""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from messages.payloads import (
    MAX_OPTION_VALUE,
    ButtonValue,
    Day,
    MaybeText,
    Page,
    Position,
    RowId,
)


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
    # A client question's reminder: the reply went out, stop its clock.
    NUDGE_REPLIED = "nudge_replied"
    # Check-in nudges: open the modal that records the buyer's CSAT/NPS answer.
    NUDGE_RATE = "nudge_rate"
    # After a low answer: record the recovery follow-up (value: RecoveryButton).
    NUDGE_RECOVERY = "nudge_recovery"
    # The account view and the governance reply (value: the account id).
    GOVERNANCE_EDIT = "governance_edit"
    DEBRIEF_START = "debrief_start"
    # A debrief's improvement step, on its saved modal and the account card (value:
    # StepButton): record it as a follow-up of the clicker's.
    DEBRIEF_STEP = "debrief_step"
    # The prep reply and the account view (value: the account id): open the prep form,
    # for the current negotiation or to start the next one.
    PREP_EDIT = "prep_edit"
    PREP_NEW = "prep_new"
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
    # … and post it to the team (value: ShareButton), asking first when an offer is
    # below the prep's walk-away point.
    MESO_SHARE = "meso_share"
    # App Home (Done value: the commitment id; Snooze option values: `<id>:<choice>`).
    HOME_DONE = "home_done"
    HOME_SNOOZE = "home_snooze"
    HOME_EDIT_SETTINGS = "home_edit_settings"
    # The saved governance plan and the account card (value: the account id): set the
    # QBR rhythm to the one the plan's review cadence calls for.
    QBR_ALIGN = "qbr_align"
    # "Which review took place?" (value: `<qbr id>:<planned date>`).
    QBR_HELD_PLANNED = "qbr_held_planned"
    QBR_HELD_EXTRA = "qbr_held_extra"
    # A digest section's "Open an account…" menu (value: the account id).
    DIGEST_OPEN_ACCOUNT = "digest_open_account"
    # A "Did you mean…?" reply: run the command as corrected (value: see
    # handlers.rapport).
    RUN_COMMAND = "run_command"
    # Replied, on the answer to `/followup ACCOUNT they asked: …` (value: QuestionButton).
    QUESTION_REPLIED = "question_replied"
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
    PREP = "negotiation_prep"
    CONCESSION = "concession"
    MESO = "meso"
    BUYER_RATING = "buyer_rating"
    HOME_SNOOZE_UNTIL = "home_snooze_until"
    # The "Reply owed" message shortcut's form: the account and the client's question.
    REPLY_OWED = "reply_owed"


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


class PrepBlock(StrEnum):
    """block_id of each input in the negotiation prep modal (the action_id is "value");
    the people on their side are person_block(0…)."""

    QUESTION = "prep_question"
    OUR_BATNA = "prep_our_batna"
    THEIR_BATNA = "prep_their_batna"
    ANCHOR = "prep_anchor"
    TARGET = "prep_target"
    RESERVATION = "prep_reservation"
    VALUE_NOTES = "prep_value_notes"
    # Checkboxes, one option per person: the option's value is the person's index.
    DECIDES = "prep_decides"
    OUR_ISSUES = "prep_our_issues"
    THEIR_ISSUES = "prep_their_issues"
    WE_CAN_GIVE = "prep_we_can_give"
    WE_WANT = "prep_we_want"


def person_block(index: int) -> str:
    """block_id of the prep modal's input for one person on their side: `prep_person_<i>`."""
    return f"prep_person_{index}"


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


class NudgeRef(BaseModel):
    """Which item of which reminder DM a button is on: the block_id of the item's
    buttons, `act:<outbox id>:<kind>:<subject id>:<nudge id>`. The DM's template writes
    it (`block_id`, as the `nudge_block` filter); the nudge and rating listeners read
    it once (`parse`), before anything is done. Slack allows 255 characters."""

    model_config = ConfigDict(frozen=True, strict=True, extra="forbid")

    PREFIX: ClassVar[str] = "act"
    SEPARATOR: ClassVar[str] = ":"
    LIMIT: ClassVar[int] = 255

    outbox_id: RowId
    kind: Literal["commitment", "qbr", "checkin", "account", "question"]
    subject_id: RowId
    nudge_id: RowId

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


# --- the button values templates write ------------------------------------------------
# Each is read back once, at the top of its listener (`parse`); what does not read is
# the model's OUT_OF_DATE answer. The shapes are those buttons already in Slack carry.


class AccountButton(ButtonValue):
    """A button (or a menu's option) that names an account by its id: account_view,
    governance_plan, debrief_start, prep_view and _digest write it."""

    SEPARATOR = ":"

    account_id: RowId


# The improvement steps a debrief suggests (bot/services/debrief_steps.py), in order.
DebriefStep = Literal["readout", "red_team", "role_reversal"]


class StepButton(ButtonValue):
    """Add as a follow-up, on one of a debrief's improvement steps (debrief_saved,
    account_view): `<debrief id>:<step>`."""

    OUT_OF_DATE = "This button is out of date. `/rapport account ACCOUNT` shows the latest debrief."
    SEPARATOR = ":"

    debrief_id: RowId
    step: DebriefStep


class UndoButton(ButtonValue):
    """Undo on a change (_undo.j2): the recorded change's id."""

    SEPARATOR = ":"

    change_id: RowId


_OLD_LOG = "This button is out of date. Run `/concede ACCOUNT` again."


class LogButton(ButtonValue):
    """A button on the concession log (concession_log.yaml.j2): `<id>:<page>`, the entry
    to edit or withdraw, or the account whose log to page, and the page."""

    OUT_OF_DATE = _OLD_LOG
    SEPARATOR = ":"

    id: RowId
    page: Page


class NewEntryButton(ButtonValue):
    """The log's "Log a new give" button (concession_log.yaml.j2): the account id."""

    OUT_OF_DATE = _OLD_LOG
    SEPARATOR = ":"

    account_id: RowId


_OLD_MESO = "This button is out of date. Run `/meso ACCOUNT` again."


class TemplateButton(ButtonValue):
    """A template's button on the MESO overview (meso_overview.yaml.j2), as JSON: start
    the form for `account` from `template`."""

    OUT_OF_DATE = _OLD_MESO

    account: str
    template: str


class PickButton(ButtonValue):
    """The button that records the offer the buyer chose (meso_grid.yaml.j2):
    `<set id>:<position>`."""

    OUT_OF_DATE = _OLD_MESO
    SEPARATOR = ":"

    meso_id: RowId
    position: Position


class ShareButton(ButtonValue):
    """Share on a MESO set's reply (meso_grid.yaml.j2), as JSON: the set, and the
    channel the command or form came from (the account's own channel comes first)."""

    OUT_OF_DATE = _OLD_MESO

    meso_id: RowId
    channel_id: MaybeText = None


class ReviewAnswer(ButtonValue):
    """The buttons of "which review took place?" (qbr_which.yaml.j2):
    `<qbr id>:<planned date>`."""

    OUT_OF_DATE = (
        "That review has been answered since. `/rapport qbr ACCOUNT` shows where it stands."
    )
    SEPARATOR = ":"

    qbr_id: RowId
    planned: Day


# The one answer to a click on a reminder whose item it no longer holds (a message
# from before a reset, an item since handed to a newer reminder, a shape this code
# does not write): nothing is changed.
REMINDER_OUT_OF_DATE = (
    "This reminder is out of date, so nothing was changed. `/rapport due` lists what is open now."
)


class HeldReview(ButtonValue):
    """The Held button of a QBR reminder (nudge_dm.yaml.j2): the day of the review."""

    OUT_OF_DATE = REMINDER_OUT_OF_DATE
    SEPARATOR = ":"

    review_on: Day


# How long a snooze from a menu lasts, as bot.services.followups.snooze_until reads it;
# `pick` asks for the day in a modal.
SnoozeFor = Literal["1h", "3h", "tomorrow", "next_week", "pick"]


class SnoozeChoice(ButtonValue):
    """An option of a reminder's Snooze menu (nudge_dm.yaml.j2): how long."""

    LIMIT = MAX_OPTION_VALUE
    OUT_OF_DATE = REMINDER_OUT_OF_DATE
    SEPARATOR = ":"

    choice: SnoozeFor


class QuestionButton(ButtonValue):
    """Replied on the answer to a client question put on the clock
    (question_recorded.yaml.j2): the question's id."""

    OUT_OF_DATE = "This button is out of date. `/followup ACCOUNT replied` stops the clock."
    SEPARATOR = ":"

    question_id: RowId


class DoneButton(ButtonValue):
    """Done on a follow-up in App Home (home.yaml.j2): the commitment id."""

    SEPARATOR = ":"

    commitment_id: RowId


class SnoozeOption(ButtonValue):
    """An option of a follow-up's Snooze menu in App Home (home.yaml.j2):
    `<commitment id>:<how long>`."""

    LIMIT = MAX_OPTION_VALUE
    SEPARATOR = ":"

    commitment_id: RowId
    choice: SnoozeFor


class RecoveryButton(ButtonValue):
    """Record a follow-up, under a low CSAT or NPS answer on a check-in reminder
    (nudge_dm.yaml.j2): the rating it recovers from."""

    OUT_OF_DATE = REMINDER_OUT_OF_DATE
    SEPARATOR = ":"

    rating_id: RowId


# Given to every template by name (messages/render.py): `AccountButton(account_id=…).dump()`.
WRITTEN_BY_TEMPLATES: tuple[type[ButtonValue], ...] = (
    AccountButton,
    StepButton,
    UndoButton,
    LogButton,
    NewEntryButton,
    TemplateButton,
    PickButton,
    ShareButton,
    ReviewAnswer,
    HeldReview,
    SnoozeChoice,
    QuestionButton,
    DoneButton,
    SnoozeOption,
    RecoveryButton,
)
