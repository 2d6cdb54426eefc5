"""What Rapport round-trips through Slack, typed: a modal's `private_metadata`, a
button's `value`, a structured `block_id`. Slack hands each back as it was given, but
a message or a modal may be older than this code, and a request may be forged: so
every one is read once, at the edge of its listener, by `parse`, before anything is
done, and anything that does not read is the one "this form (button) is out of date"
answer (`OutOfDate`), never a traceback and never half of the work.

They live here, below the listeners, because the templates write them too: a button
a template draws gets its value from the model's `dump()` (the models templates
write are messages/ids.py's, given to every template by name), and the sweep renders
some of those templates without any listener.

A payload is a frozen pydantic model on one of three bases, each holding Slack's limit
on where it is stored (docs: /work/shared/slack/PLATFORM-FACTS.md, Block Kit reference):

- `Metadata`: a view's `private_metadata`, at most 3000 characters; JSON.
- `ButtonValue`: a button's or an option's `value`, at most 2000 characters (an
  option's value: 150; its models say so where they are options).
- `BlockId`: a `block_id`, at most 255 characters (an `action_id` has the same limit).

`dump()` writes the compact string Slack stores: JSON without the fields left at None,
or, for a model that sets `SEPARATOR`, its fields in order joined by it (`"12:3"`), the
shape buttons already in Slack messages carry. It refuses (`PayloadTooLarge`) what
would not fit, rather than have Slack refuse the whole message.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, ClassVar, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

# Slack's limits (characters), where each payload is stored.
MAX_PRIVATE_METADATA = 3000
MAX_BUTTON_VALUE = 2000
MAX_OPTION_VALUE = 150
MAX_BLOCK_ID = 255
MAX_ACTION_ID = 255


class OutOfDate(Exception):
    """A payload Rapport did not write, or wrote in a shape it no longer reads.

    `problem` is the answer, in the model's words (its OUT_OF_DATE); the listeners'
    one error path (handlers/edge/errors.py) gives it as any problem the user can fix."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


class PayloadTooLarge(ValueError):
    """A payload that would not fit where Slack stores it."""


def _digits(max_digits: int) -> Any:
    """An id or a count as a button writes it: ASCII digits, at most `max_digits`; an
    int as JSON holds it (never a bool)."""

    def read(value: object) -> object:
        if isinstance(value, str):
            if not (value.isascii() and value.isdigit()) or len(value) > max_digits:
                raise ValueError("not a number Rapport wrote")
            return int(value)
        return value

    return BeforeValidator(read)


# A database id (a bigint: up to 18 digits stays below 2**63).
RowId = Annotated[int, _digits(18), Field(ge=0, lt=2**63)]
# A page of a list (from 1); a count or a position in a set (from 0).
Page = Annotated[int, _digits(6), Field(ge=1)]
Count = Annotated[int, _digits(6), Field(ge=0)]
Position = Annotated[int, _digits(2), Field(ge=0)]
# A Slack id (channel, user, message ts, view id) or URL as Rapport stores it: never empty.
Text = Annotated[str, Field(min_length=1)]
# One that may be missing: None, and "" (a command from nowhere has "" for a channel) too.
MaybeText = Annotated[Text | None, BeforeValidator(lambda value: value or None)]


def _iso_day(value: object) -> object:
    if not isinstance(value, str):
        return value
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError("not a day Rapport wrote") from None


# A day as a button writes it: ISO (`2027-01-17`).
Day = Annotated[date, BeforeValidator(_iso_day)]


class Payload(BaseModel):
    """The base: frozen, strict (a bool is no id, a number no string), no unknown keys."""

    model_config = ConfigDict(
        frozen=True, strict=True, extra="forbid", validate_by_name=True, validate_by_alias=True
    )

    LIMIT: ClassVar[int]
    # The answer to a payload that does not read; a model names its command.
    OUT_OF_DATE: ClassVar[str] = "This is out of date. Run the command again."
    # Set: the fields in order, joined by it (every field a number or a Slack id).
    SEPARATOR: ClassVar[str | None] = None

    def dump(self) -> str:
        """The compact string Slack stores; PayloadTooLarge if it would not fit."""
        if self.SEPARATOR is not None:
            raw = self.SEPARATOR.join(str(getattr(self, name)) for name in type(self).model_fields)
        else:
            # JSON's own escapes for &, < and >: no `<!channel>` sits in a message, even
            # where no one sees it.
            raw = self.model_dump_json(exclude_none=True, by_alias=True)
            raw = raw.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
        if len(raw) > self.LIMIT:
            raise PayloadTooLarge(f"{type(self).__name__}: {len(raw)} > {self.LIMIT} characters")
        return raw

    @classmethod
    def parse(cls, raw: object) -> Self:
        """The payload `raw` holds; OutOfDate if it is not one Rapport wrote."""
        if not isinstance(raw, str) or len(raw) > cls.LIMIT:
            raise OutOfDate(cls.OUT_OF_DATE)
        try:
            if cls.SEPARATOR is not None:
                parts = raw.split(cls.SEPARATOR)
                names = list(cls.model_fields)
                if len(parts) != len(names):
                    raise OutOfDate(cls.OUT_OF_DATE)
                return cls.model_validate(dict(zip(names, parts, strict=True)))
            return cls.model_validate_json(raw or "{}")
        except ValidationError:
            raise OutOfDate(cls.OUT_OF_DATE) from None

    @classmethod
    def parse_or_none(cls, raw: object) -> Self | None:
        """The payload, or None where a stale click is just ignored (App Home's redraw)."""
        try:
            return cls.parse(raw)
        except OutOfDate:
            return None


class Metadata(Payload):
    """A view's private_metadata (Slack: at most 3000 characters)."""

    LIMIT = MAX_PRIVATE_METADATA
    OUT_OF_DATE = "This form is out of date. Run the command again."


class ButtonValue(Payload):
    """A button's value (Slack: at most 2000 characters)."""

    LIMIT = MAX_BUTTON_VALUE
    OUT_OF_DATE = "This button is out of date. Run the command again."


class BlockId(Payload):
    """A structured block_id (Slack: at most 255 characters, like an action_id)."""

    LIMIT = MAX_BLOCK_ID
    OUT_OF_DATE = "This message is out of date. Run the command again."
