"""Negotiation prep: /rapport prep ACCOUNT [show|edit|new] (the one-page plan for the
account's current negotiation), the buttons that open its form, and the form's save.

`/rapport prep ACCOUNT` shows the prep when there is one, with *Edit* and *Start a new
negotiation*; with none yet it opens the form at once, as there is nothing to show.
Showing first is what a rep checking the walk-away point before a call needs, and what
`/rapport governance` does; `edit` and `new` go straight to the form, and `show`
shows even an empty prep (with the last debrief and the button to write one).

The form opens after the ack (views.open is a Slack call; the trigger is good for 3 s,
the ack takes milliseconds); the buttons run as lazy listeners, like governance's.
"""

from __future__ import annotations

import difflib
import re
from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.services import prep as prep_service
from bot.services.accounts import AccountShown, find_account, get_account
from bot.services.errors import UsageError
from bot.services.fields import reads_as_nothing
from handlers.edge.account_target import open_about_account, saved_about_account
from handlers.edge.accounts import read_account_of
from handlers.edge.after_ack import clicks_after_ack, later
from handlers.edge.amounts import AmountWords, read_amount
from handlers.edge.caller import team_of
from handlers.edge.context import deps_of, utcnow
from handlers.edge.forms import Form
from handlers.edge.replies import ephemeral
from messages import render
from messages.ids import Action, PrepBlock, View, person_block
from messages.payloads import Metadata, RowId

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

USAGE = "/rapport prep"
# The word after the account: what to do with its prep.
WORDS = ("show", "edit", "new")
# Close enough to read a typo of one of them ("shwo", "eidt", "NEW"), from three letters;
# below it, "net" or "now" would be read as "new" and leave the account a word short.
WORD_CUTOFF = 0.75
_MISSING = "Name the account: `/rapport prep ACCOUNT`."
_AMOUNT = AmountWords(example="`120000`, `$120k` or `$1,200/mo`", what="a value to us")
# A bullet or a number a rep puts in front of a line: `- price`, `2. term`, `3) SLA`.
_MARKER = re.compile(r"^\s*(?:[-•*·]+|\d{1,2}[.)])\s*")
# Where a person's role ends and what they care about begins: `CFO: cash this quarter`.
_ROLE_END = re.compile(r"\s*:\s*|\s+[-–—]\s+")
POINTS = (
    (PrepBlock.ANCHOR, "anchor", "the opening anchor"),
    (PrepBlock.TARGET, "target", "the target"),
    (PrepBlock.RESERVATION, "reservation", "the walk-away point"),
)


class PrepForm(Metadata):
    """The prep form's private_metadata: the account, and the prep it edits (none: it
    starts the account's next negotiation)."""

    OUT_OF_DATE = "This form is out of date. Run `/rapport prep ACCOUNT` again."

    account_id: RowId
    prep_id: RowId | None = None


def split_word(session: Session, team_id: str, text: str) -> tuple[str, str | None]:
    """`Acme Corp edit` -> ("Acme Corp", "edit"); the word as a hurried rep types it
    (`shwo`, `EDIT`). An account whose whole name ends in such a word (`Brand New`)
    stays the account."""
    words = text.split()
    if not words or len(words[-1]) < 3:
        return text, None
    word = difflib.get_close_matches(words[-1].casefold(), WORDS, n=1, cutoff=WORD_CUTOFF)
    if word and (len(words) == 1 or find_account(session, team_id=team_id, name=text) is None):
        return " ".join(words[:-1]), word[0]
    return text, None


def prep(ack: Ack, command: dict[str, str], context: BoltContext, args: str) -> None:
    team_id = team_of(command)
    with deps_of(context).db.begin() as session:
        text, word = split_word(session, team_id, args)
        reading = read_account_of(
            session, command, text, usage=USAGE, whole=True, creates=False, missing=_MISSING
        )
        account = AccountShown.of(get_account(session, team_id=team_id, name=reading.name))
        view = prep_service.prep_view(session, team_id=team_id, account=account)
    if word == "show" or (word is None and view.prep is not None):
        ack(**ephemeral(render("prep_view", view=view, actions=Action)))
        return
    new = word == "new" or view.prep is None
    modal = prep_modal(view, new=new)
    trigger_id = command.get("trigger_id", "")

    def open_modal(client: WebClient) -> None:
        client.views_open(trigger_id=trigger_id, view=modal)

    later(context, command, open_modal)
    ack(**ephemeral(render("prep_form_opened", view=view, new=new)))


def prep_modal(view: prep_service.PrepView, *, new: bool) -> dict[str, Any]:
    """The form: empty for a new negotiation, else the current prep to edit."""
    current = None if new else view.prep
    return render(
        "prep_modal",
        callback_id=View.PREP,
        metadata=PrepForm(
            account_id=view.account.id, prep_id=current.id if current else None
        ).dump(),
        view=view,
        prep=current,
        replaces=view.prep if new else None,
        blocks=PrepBlock,
        person_block=person_block,
        max_people=prep_service.MAX_PEOPLE,
        max_question=prep_service.MAX_QUESTION,
        max_text=prep_service.MAX_TEXT,
        max_list=prep_service.MAX_ITEMS * (prep_service.MAX_ITEM + 1),
        max_person=prep_service.MAX_ROLE + prep_service.MAX_CARES + 2,
    )


def edit_prep(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    def build(session: Session, account: AccountShown) -> dict[str, Any]:
        view = prep_service.prep_view(session, team_id=account.team_id, account=account)
        return prep_modal(view, new=view.prep is None)

    open_about_account(body, context, client, build)


def new_prep(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    def build(session: Session, account: AccountShown) -> dict[str, Any]:
        view = prep_service.prep_view(session, team_id=account.team_id, account=account)
        return prep_modal(view, new=True)

    open_about_account(body, context, client, build)


def save_prep(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    target = PrepForm.parse(view.get("private_metadata", ""))
    # Read before anything is stored: a problem shows under its field, nothing half-written.
    fields = parse_prep(Form.of(view))
    user_id, view_id = body["user"]["id"], str(view.get("id", ""))[:40]

    def save(session: Session) -> prep_service.SavedPrep:
        where = prep_service.PrepRef(team_of(body), target.account_id, target.prep_id)
        return prep_service.save_prep(
            session, where, fields, user_id=user_id, view_id=view_id, now=utcnow()
        )

    saved = saved_about_account(context, save, field=PrepBlock.QUESTION)
    # The modal turns into the confirmation: no extra Slack call, nothing to clean up.
    ack(response_action="update", view=render("prep_saved", saved=saved))


# --- reading the form -------------------------------------------------------------------


def _text(form: Form, block: str, label: str, limit: int) -> str | None:
    text = form.text(
        block, limit=limit, too_long=f"{label} can be up to {limit} characters.", lines=True
    )
    return text or None


def _value(form: Form, block: str) -> tuple[float | None, str]:
    text = form.text(
        block, limit=40, too_long="Write the value in up to 40 characters, e.g. `$120k`."
    )
    if reads_as_nothing(text):
        return None, ""
    assert text is not None
    try:
        return read_amount(text, _AMOUNT, maximum=prep_service.MAX_VALUE)
    except UsageError as error:
        raise UsageError(error.problem, field=block) from None


def read_points(form: Form) -> prep_service.Points:
    values: dict[str, float | None] = {}
    counted: dict[str, tuple[str, str]] = {}  # period -> (block, what)
    for block, key, what in POINTS:
        value, period = _value(form, block)
        values[key] = value
        if period and period not in counted:
            if counted:
                ((first_period, (_, first_what)),) = counted.items()
                raise UsageError(
                    f"I read {first_what} per {first_period} and {what} per {period}: count "
                    f"all three over the same period (all per {first_period}, say).",
                    field=block,
                )
            counted[period] = (block, what)
    points = prep_service.Points(
        target=values["target"],
        reservation=values["reservation"],
        anchor=values["anchor"],
        period=next(iter(counted), ""),
    )
    try:
        prep_service.check_points(points)
    except UsageError as error:
        field = PrepBlock.RESERVATION if error.key == "reservation" else PrepBlock.ANCHOR
        raise UsageError(error.problem, field=field) from None
    return points


def read_items(form: Form, block: str, what: str) -> tuple[str, ...]:
    """One item a line (a bullet or a number in front is dropped); a single line with
    commas or semicolons is read as a list too (`price, term, SLA`)."""
    limit = prep_service.MAX_ITEMS * (prep_service.MAX_ITEM + 1)
    text = form.text(
        block,
        limit=limit,
        too_long=f"Keep {what} to {prep_service.MAX_ITEMS} short lines.",
        lines=True,
    )
    if reads_as_nothing(text):
        return ()
    assert text is not None
    lines = text.splitlines()
    if len(lines) == 1:
        lines = re.split(r"\s*[;,]\s*", lines[0])
    items = [_MARKER.sub("", " ".join(line.split())).strip() for line in lines]
    items = [item for item in items if item]
    if len(items) > prep_service.MAX_ITEMS:
        raise UsageError(
            f"I read {len(items)} {what}, one a line; keep the {prep_service.MAX_ITEMS} "
            "that move the deal most.",
            field=block,
        )
    for number, item in enumerate(items, 1):
        if len(item) > prep_service.MAX_ITEM:
            raise UsageError(
                f"Line {number} is {len(item)} characters; keep each of {what} to "
                f"{prep_service.MAX_ITEM}, one a line.",
                field=block,
            )
    return tuple(items)


def read_people(form: Form) -> tuple[prep_service.Person, ...]:
    deciders = set(form.options(PrepBlock.DECIDES))
    people: list[prep_service.Person] = []
    for index in range(prep_service.MAX_PEOPLE):
        block = person_block(index)
        text = form.text(block, limit=prep_service.MAX_ROLE + prep_service.MAX_CARES + 2)
        decides = str(index) in deciders
        if reads_as_nothing(text):
            if decides:
                raise UsageError(
                    f"You ticked person {index + 1} as deciding: say who they are here "
                    "(their role, a colon, what they care about).",
                    field=block,
                )
            continue
        assert text is not None
        role, cares = (_ROLE_END.split(text, maxsplit=1) + [""])[:2]
        role, cares = role.strip(), cares.strip()
        if not role:
            raise UsageError(
                f"I read “{text[:40]}” with no role before the colon: write the role "
                "first, e.g. `CFO: cash flow this year`.",
                field=block,
            )
        if len(role) > prep_service.MAX_ROLE:
            raise UsageError(
                f"I read the role as “{role[:40]}…” ({len(role)} characters): keep it to "
                f"{prep_service.MAX_ROLE}, then a colon and what they care about, e.g. "
                "`CFO: cash flow this year`.",
                field=block,
            )
        if len(cares) > prep_service.MAX_CARES:
            raise UsageError(
                f"What they care about can be up to {prep_service.MAX_CARES} characters.",
                field=block,
            )
        people.append(prep_service.Person(role=role, cares=cares or None, decides=decides))
    return tuple(people)


def parse_prep(form: Form) -> prep_service.PrepFields:
    """The submitted form as prep fields; a problem is shown under its input."""
    question = form.text(
        PrepBlock.QUESTION,
        limit=prep_service.MAX_QUESTION,
        too_long=f"Keep it to one sentence, up to {prep_service.MAX_QUESTION} characters.",
    )
    if reads_as_nothing(question):
        raise UsageError(
            "Write the one question this negotiation should settle, e.g. “Will they "
            "commit to two years if we add the premium SLA?”",
            field=PrepBlock.QUESTION,
        )
    assert question is not None
    limit = prep_service.MAX_TEXT
    return prep_service.PrepFields(
        question=question,
        our_batna=_text(form, PrepBlock.OUR_BATNA, "Our BATNA", limit),
        their_batna=_text(form, PrepBlock.THEIR_BATNA, "Their BATNA", limit),
        points=read_points(form),
        value_notes=_text(form, PrepBlock.VALUE_NOTES, "The evidence", limit),
        people=read_people(form),
        our_issues=read_items(form, PrepBlock.OUR_ISSUES, "our issues"),
        their_issues=read_items(form, PrepBlock.THEIR_ISSUES, "their issues"),
        we_can_give=read_items(form, PrepBlock.WE_CAN_GIVE, "the gives"),
        we_want=read_items(form, PrepBlock.WE_WANT, "the gets"),
    )


# /rapport subcommand -> listener (handlers/rapport.py routes them).
SUBCOMMANDS = {"prep": prep}


def register(app: App) -> None:
    clicks_after_ack(app, {Action.PREP_EDIT: edit_prep, Action.PREP_NEW: new_prep})
    app.view(View.PREP.value)(save_prep)
