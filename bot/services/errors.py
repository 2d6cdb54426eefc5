"""The errors a user can cause; the app's one error handler turns them into replies."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


class UserFacingError(Exception):
    """Something the user can fix; `problem` is shown to them as is (our own words)."""

    def __init__(self, problem: str, *, usage: str | None = None, field: str | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.usage = usage
        # In a modal: the block_id of the input the problem is about.
        self.field = field


class UsageError(UserFacingError):
    """Command text that does not parse; the reply carries the command's usage line.

    `key` is the field of the command the problem is in, as the user writes it
    (`due`, `next`, `give`), or, for a part written without a key, as the usage line
    names it (`ACCOUNT`, `DATE`, `OFFER`): the reply names it and shows an example.
    """

    def __init__(
        self,
        problem: str,
        *,
        usage: str | None = None,
        field: str | None = None,
        key: str | None = None,
    ) -> None:
        super().__init__(problem, usage=usage, field=field)
        self.key = key


@contextmanager
def reading(key: str) -> Iterator[None]:
    """A problem found while reading the value of `key:` is a problem with that field
    (the date reader, say, does not know which field it was given)."""
    try:
        yield
    except UsageError as error:
        if error.key is None:
            error.key = key
        raise


class NotFound(UserFacingError):
    """A named thing (an account, a log entry) that this team does not have."""


class NotAllowed(UserFacingError):
    """Something only some people may do (a workspace admin, say); nothing was written."""


@dataclass(frozen=True)
class Suggestion:
    """One way to complete a command that was not clear: a button's label, and the
    whole command text it runs (also shown, so it can be typed)."""

    label: str
    text: str


class DidYouMean(UsageError):
    """Text that reads in more than one way, or nearly right: the reply offers each
    reading as a button that runs the command as corrected."""

    def __init__(
        self,
        problem: str,
        suggestions: tuple[Suggestion, ...],
        *,
        usage: str | None = None,
        key: str | None = None,
    ) -> None:
        super().__init__(problem, usage=usage, key=key)
        self.suggestions = suggestions


@dataclass(frozen=True)
class AccountOption:
    """A known account a typed name may have meant, and the text left after it."""

    account_id: int
    name: str
    rest: str


class AccountUnsure(UserFacingError):
    """A typed name is a near miss of known accounts: ask which, store nothing.

    `options` are the known accounts it may mean; `new_name` (None when the command
    makes no accounts) is the new account it would otherwise be, `new_rest` the text
    after that name; `named_later`: the text names them further on, not first.
    `shorter_name`: a new name of one word where `new_name` is of several: the rep left
    the quotes off "Blue Harbor send…", and "Blue" may be the whole name.
    """

    def __init__(
        self,
        *,
        typed: str,
        options: tuple[AccountOption, ...],
        new_name: str | None = None,
        new_rest: str = "",
        named_later: bool = False,
        shorter_name: str | None = None,
    ) -> None:
        if shorter_name is not None:
            super().__init__(f"Is the new account “{new_name}” or “{shorter_name}”?")
        else:
            names = " or ".join(f"“{option.name}”" for option in options)
            opening = "Which account?" if named_later else f"There is no account called “{typed}”."
            super().__init__(f"{opening} Did you mean {names}?")
        self.shorter_name = shorter_name
        # The accounts were named further on in the text, not at its start.
        self.named_later = named_later
        self.typed = typed
        self.options = options
        self.new_name = new_name
        self.new_rest = new_rest
