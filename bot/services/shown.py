"""Plain values for templates: what a message shows is a frozen dataclass (`…Shown`,
`Entry`, `OfferSet`, …) read from its row while the session is open, so rendering never
reaches into the database and a template sees exactly the fields it names."""

from __future__ import annotations

from dataclasses import fields
from typing import Any, Self, TypeVar

T = TypeVar("T")

_NAMES: dict[type[Any], tuple[str, ...]] = {}


def copied(cls: type[T], row: object, **given: object) -> T:
    """The dataclass `cls` of `row`: each field read from the row's attribute of that
    name, except those `given` (a related row's own, say)."""
    names = _NAMES.get(cls)
    if names is None:
        names = _NAMES[cls] = tuple(field.name for field in fields(cls))  # type: ignore[arg-type]
    return cls(**{name: given[name] if name in given else getattr(row, name) for name in names})


class Shown:
    """A dataclass of plain values read from one row: `Cls.of(row)` copies each field
    from the row's attribute of that name (one that holds a related row's own values
    says how, in its own `of`)."""

    __slots__ = ()

    @classmethod
    def of(cls, row: Any) -> Self:
        return copied(cls, row)
