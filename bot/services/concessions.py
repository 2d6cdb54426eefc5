"""The give-get concession log: every give is logged, and a give with no get is flagged.

Entries are never deleted: an edit keeps the previous values as a revision, and a
withdrawal marks the entry (it stays visible, outside the balance).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from datetime import datetime
from functools import cache
from importlib.resources import files

import yaml
from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, joinedload

from bot.services import account_changes
from bot.services.accounts import (
    AccountShown,
    ShownWithAccount,
    account_by_id,
    account_key,
    clean_account_name,
    get_account,
    get_or_create_account,
)
from bot.services.errors import NotFound, UsageError
from bot.services.fields import reads_as_nothing
from storage.models import Account, Concession, ConcessionRevision

MAX_ITEM = 120
MAX_TEXT = 500
# Two blocks an entry (the entry, its buttons) keeps a page well inside the 50 blocks
# Slack allows a message, with room for the header, balance, tradeables and pager.
LOG_PAGE = 10


@dataclass(frozen=True)
class Balance:
    """How the gives on an account were paid for (withdrawn gives are not counted)."""

    traded: int
    one_way: int
    withdrawn: int = 0

    @property
    def total(self) -> int:
        return self.traded + self.one_way

    @property
    def is_drifting(self) -> bool:
        """More gives went out for nothing than were traded: drip concessions."""
        return self.one_way > self.traded

    @classmethod
    def from_counts(cls, total: int, traded: int, withdrawn: int) -> Balance:
        """From the log's counts: every entry, live gives with a get, withdrawn ones."""
        return cls(traded=traded, one_way=total - withdrawn - traded, withdrawn=withdrawn)

    def plus_give(self, *, traded: bool) -> Balance:
        return (
            replace(self, traded=self.traded + 1)
            if traded
            else replace(self, one_way=self.one_way + 1)
        )


@dataclass(frozen=True)
class Side:
    name: str
    ask: str
    words: tuple[str, ...]
    # What moving this side their way costs us, and what it is worth to them.
    costs_us: str = ""
    worth_to_them: str = ""


@dataclass(frozen=True)
class Tradeable:
    id: str
    sides: tuple[Side, Side]


@dataclass(frozen=True)
class TradeableFit:
    """A give matched one side of a tradeable pair: ask for the other side."""

    tradeable: str
    gave: Side
    ask_for: Side
    give: str  # the give it was matched on


@dataclass(frozen=True)
class Entry(ShownWithAccount):
    """One log entry as the messages show it: plain values, read inside the session, so
    a reply can be drawn (or drawn again after the ack) without one."""

    id: int
    account: AccountShown
    give: str
    get: str | None
    item: str | None
    trigger: str | None
    value_to_us: str | None
    value_to_them: str | None
    logged_by: str
    logged_at: datetime
    edited_at: datetime | None = None
    withdrawn_at: datetime | None = None
    withdrawn_by: str | None = None

    @property
    def account_id(self) -> int:
        return self.account.id


@dataclass(frozen=True)
class ConcessionLog:
    account: AccountShown
    entries: list[Entry]  # one page, newest first
    balance: Balance
    page: int = 1
    pages: int = 1
    fits: tuple[TradeableFit, ...] = ()

    @property
    def older(self) -> int:
        """How many entries come after this page."""
        shown_before = (self.page - 1) * LOG_PAGE + len(self.entries)
        return max(self.balance.total + self.balance.withdrawn - shown_before, 0)

    @property
    def has_older(self) -> bool:
        return self.page < self.pages

    @property
    def has_newer(self) -> bool:
        return self.page > 1


@dataclass(frozen=True)
class ConcessionFields:
    """What a rep writes about one give (from the command or the modal)."""

    give: str
    get: str | None = None
    item: str | None = None
    trigger: str | None = None
    value_to_us: str | None = None
    value_to_them: str | None = None

    def __post_init__(self) -> None:
        if not self.give.strip():
            raise UsageError("Say what we give.", key="give")
        if reads_as_nothing(self.give):
            # `get: none` is a one-way give; `give: none` is no concession at all.
            raise UsageError(
                f"I read “{self.give.strip()[:40]}”, which gives nothing: a concession is "
                "something we give. Say what we give.",
                key="give",
            )
        if self.item is not None and len(self.item) > MAX_ITEM:
            raise UsageError(
                f"The item can be up to {MAX_ITEM} characters; it has {len(self.item):,}.",
                key="item",
            )
        for field in fields(self):
            value = getattr(self, field.name)
            if isinstance(value, str) and len(value) > MAX_TEXT:
                key = "value" if field.name.startswith("value") else field.name
                raise UsageError(
                    f"Each part can be up to {MAX_TEXT} characters; `{key}:` has {len(value):,}.",
                    key=key,
                )


_CHANGEABLE = tuple(field.name for field in fields(ConcessionFields))


@dataclass(frozen=True)
class Logged:
    entry: Entry
    balance: Balance
    fits: tuple[TradeableFit, ...]
    created: bool  # False: the same form was submitted before, nothing new was written


# --- the tradeables library -----------------------------------------------------------


@cache
def tradeables() -> tuple[Tradeable, ...]:
    text = files("messages").joinpath("library/tradeables.yaml").read_text("utf-8")
    loaded = yaml.safe_load(text)
    result = []
    for raw in loaded:
        first, second = (
            Side(
                name=s["name"],
                ask=s["ask"],
                words=tuple(str(w) for w in s["words"]),
                costs_us=s.get("costs_us", ""),
                worth_to_them=s.get("worth_to_them", ""),
            )
            for s in raw["sides"]
        )
        result.append(Tradeable(id=raw["id"], sides=(first, second)))
    return tuple(result)


@cache
def _word_pattern(word: str) -> re.Pattern[str]:
    if not any(char.isalnum() for char in word):
        return re.compile(re.escape(word))
    # Hyphens join words: "mid-term" is not about the contract term.
    return re.compile(r"(?<![\w-])" + re.escape(word) + r"(?![\w-])", re.IGNORECASE)


def _hits(text: str, side: Side) -> int:
    """How well `text` matches a side: longer (more specific) words weigh more."""
    return sum(len(word) for word in side.words if _word_pattern(word).search(text))


def fits_for_give(give: str) -> list[TradeableFit]:
    """The pairs whose one side the give matches, best match first."""
    scored: list[tuple[int, int, TradeableFit]] = []
    for order, tradeable in enumerate(tradeables()):
        first, second = tradeable.sides
        hits_first, hits_second = _hits(give, first), _hits(give, second)
        if hits_first == hits_second == 0:
            continue
        gave, ask_for = (first, second) if hits_first >= hits_second else (second, first)
        fit = TradeableFit(tradeable=tradeable.id, gave=gave, ask_for=ask_for, give=give)
        scored.append((-max(hits_first, hits_second), order, fit))
    return [fit for _, _, fit in sorted(scored, key=lambda t: (t[0], t[1]))]


def fits_for_gives(gives: Iterable[str], *, limit: int = 3) -> tuple[TradeableFit, ...]:
    """The best fit of each give, one per tradeable pair, up to `limit`."""
    seen: set[str] = set()
    result: list[TradeableFit] = []
    for give in gives:
        for fit in fits_for_give(give)[:1]:
            if fit.tradeable not in seen:
                seen.add(fit.tradeable)
                result.append(fit)
        if len(result) >= limit:
            break
    return tuple(result)


# --- the log ----------------------------------------------------------------------------


# The log's counts for an account: every entry; live gives with a get (COUNT(col)
# skips NULLs); withdrawn ones. COUNT of the id, not of rows: an account without
# entries joins one row of NULLs.
_COUNTS = (
    func.count(Concession.id),
    func.count(Concession.get).filter(Concession.withdrawn_at.is_(None)),
    func.count(Concession.withdrawn_at),
)
# Built once, with bind parameters: every /concede runs them, and building a statement
# and its cache key on each call cost 15% of its CPU (bench/README.md, "Issue 14").
_BALANCE = select(*_COUNTS).where(
    Concession.team_id == bindparam("team_id"), Concession.account_id == bindparam("account_id")
)
# A /concede's one read: the account and its balance so far. Each statement costs the
# ORM's execution path on top of the database's work (bench/README.md).
_ACCOUNT_AND_BALANCE = (
    select(Account, *_COUNTS)
    .outerjoin(
        Concession, (Concession.team_id == Account.team_id) & (Concession.account_id == Account.id)
    )
    .where(Account.team_id == bindparam("team_id"), Account.key == bindparam("key"))
    .group_by(Account.id)
)


def balance_of(session: Session, *, team_id: str, account_id: int) -> Balance:
    # On the session's connection: a plain aggregate needs none of the ORM's
    # execution path, which cost as much again as the query (bench/README.md).
    counts = (
        session.connection().execute(_BALANCE, {"team_id": team_id, "account_id": account_id}).one()
    )
    return Balance.from_counts(*counts)


def _account_and_balance(
    session: Session, *, team_id: str, name: str, user_id: str, now: datetime
) -> tuple[Account, Balance]:
    """The team's account of that name (a new one owned by `user_id` if there is none)
    and its balance before this give."""
    name = clean_account_name(name)
    found = session.execute(
        _ACCOUNT_AND_BALANCE, {"team_id": team_id, "key": account_key(name)}
    ).one_or_none()
    if found is not None:
        account, *counts = found
        return account, Balance.from_counts(*counts)
    account = get_or_create_account(session, team_id=team_id, name=name, user_id=user_id, now=now)
    # New, or created a moment ago by someone else's /concede: ask, not assume zero.
    return account, balance_of(session, team_id=team_id, account_id=account.id)


def _clean(value: str | None) -> str | None:
    cleaned = " ".join(value.split()) if value else ""
    return cleaned or None


# `get: none` (and the other words of bot.services.fields.NOTHING): logged as a get,
# they would count the give as traded and silence the one warning the log exists for.
def _normalised(values: ConcessionFields) -> dict[str, str | None]:
    cleaned = {name: _clean(getattr(values, name)) for name in _CHANGEABLE}
    if reads_as_nothing(cleaned["get"]):
        cleaned["get"] = None  # a one-way give, whatever word said so
    return cleaned


def find_by_source(session: Session, *, team_id: str, source_key: str) -> Concession | None:
    return session.scalar(
        select(Concession)
        .where(Concession.team_id == team_id, Concession.source_key == source_key)
        .options(joinedload(Concession.account))
    )


# Built once per dialect; ON CONFLICT on the form's view id: a submission Slack
# delivers twice logs one entry. Commands have no source_key, and NULLs never conflict.
_INSERT_ENTRY = {
    name: dialect.insert(Concession)
    .on_conflict_do_nothing(index_elements=["team_id", "source_key"])
    .returning(Concession.id)
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}


def log_concession(
    session: Session,
    *,
    team_id: str,
    account_name: str,
    user_id: str,
    values: ConcessionFields,
    now: datetime,
    source_key: str | None = None,
) -> Logged:
    """Log a give; with a `source_key` (a modal's view), a repeat returns the first entry."""
    if source_key is not None:
        existing = find_by_source(session, team_id=team_id, source_key=source_key)
        if existing is not None:
            return _logged(session, existing, created=False)
    account, before = _account_and_balance(
        session, team_id=team_id, name=account_name, user_id=user_id, now=now
    )
    terms = _normalised(values)
    row = {
        "team_id": team_id,
        "account_id": account.id,
        "logged_by": user_id,
        "logged_at": now,
        "source_key": source_key,
        **terms,
    }
    # One statement, not a unit-of-work flush, which costs 29% more CPU a /concede
    # (bench/README.md, "Issue 14"); a form submitted twice loses the race here and
    # nothing else.
    connection = session.connection()
    concession_id = connection.execute(_INSERT_ENTRY[connection.dialect.name], row).scalar()
    if concession_id is None:
        existing = find_by_source(session, team_id=team_id, source_key=source_key or "")
        if existing is None:
            raise RuntimeError("a concession conflicted with one that is not there")
        return _logged(session, existing, created=False)
    # The reply's view of the new row: what was just written, no read back.
    entry = Entry(
        id=concession_id,
        account=AccountShown.of(account),
        give=terms["give"] or "",
        get=terms["get"],
        item=terms["item"],
        trigger=terms["trigger"],
        value_to_us=terms["value_to_us"],
        value_to_them=terms["value_to_them"],
        logged_by=user_id,
        logged_at=now,
    )
    return Logged(
        entry=entry,
        # Counted before the insert, in the same transaction: this give added to it.
        balance=before.plus_give(traded=entry.get is not None),
        fits=_fits(entry),
        created=True,
    )


def _logged(session: Session, row: Concession, *, created: bool) -> Logged:
    balance = balance_of(session, team_id=row.team_id, account_id=row.account_id)
    entry = Entry.of(row)
    return Logged(entry=entry, balance=balance, fits=_fits(entry), created=created)


def _fits(entry: Entry) -> tuple[TradeableFit, ...]:
    """What could have been asked for in return, for a give that got nothing."""
    return tuple(fits_for_give(entry.give)[:2]) if not entry.get else ()


def entry_of(session: Session, *, team_id: str, concession_id: int) -> Entry:
    """The team's entry, to edit in the form."""
    return Entry.of(get_concession(session, team_id=team_id, concession_id=concession_id))


def get_concession(session: Session, *, team_id: str, concession_id: int) -> Concession:
    """The team's entry; another team's id is simply not found."""
    entry = session.scalar(
        select(Concession)
        .where(Concession.team_id == team_id, Concession.id == concession_id)
        .options(joinedload(Concession.account))
    )
    if entry is None:
        raise NotFound("That log entry is not there any more. Run `/concede ACCOUNT` again.")
    return entry


def _revise(
    session: Session, entry: Concession, *, change: str, user_id: str, now: datetime
) -> None:
    session.add(
        ConcessionRevision(
            team_id=entry.team_id,
            concession_id=entry.id,
            change=change,
            changed_by=user_id,
            changed_at=now,
            **{name: getattr(entry, name) for name in _CHANGEABLE},
        )
    )


def edit_concession(
    session: Session,
    *,
    team_id: str,
    concession_id: int,
    user_id: str,
    values: ConcessionFields,
    now: datetime,
) -> Logged:
    """Change an entry, keeping what it said before; an unchanged submission writes nothing."""
    entry = get_concession(session, team_id=team_id, concession_id=concession_id)
    new = _normalised(values)
    if all(getattr(entry, name) == value for name, value in new.items()):
        return _logged(session, entry, created=False)
    _revise(session, entry, change="edited", user_id=user_id, now=now)
    for name, value in new.items():
        setattr(entry, name, value)
    entry.edited_at = now
    session.flush()
    return _logged(session, entry, created=True)


def withdraw_concession(
    session: Session, *, team_id: str, concession_id: int, user_id: str, now: datetime
) -> Entry:
    """Mark an entry withdrawn (a second click changes nothing).

    Into the account's history; whoever logged it (or, if they withdrew it, the
    account's owner) hears of it when it was someone else, with Undo.
    """
    entry = get_concession(session, team_id=team_id, concession_id=concession_id)
    if entry.withdrawn_at is None:
        _revise(session, entry, change="withdrawn", user_id=user_id, now=now)
        entry.withdrawn_at = now
        entry.withdrawn_by = user_id
        session.flush()
        account_changes.record_change(
            session,
            team_id=team_id,
            account_id=entry.account_id,
            kind=account_changes.ChangeKind.CONCESSION_WITHDRAWN,
            actor_id=user_id,
            owner_id=entry.logged_by if entry.logged_by != user_id else entry.account.owner_id,
            now=now,
            before=entry.give,
            after="withdrawn",
            detail={"concession_id": entry.id, "logged_by": entry.logged_by},
        )
    return Entry.of(entry)


def concession_log(
    session: Session, *, team_id: str, account_name: str, page: int = 1
) -> ConcessionLog:
    account = get_account(session, team_id=team_id, name=account_name)
    return log_of_account(session, account=AccountShown.of(account), page=page)


def account_of(session: Session, *, team_id: str, account_id: int) -> Account:
    """The account a log entry's button names (`accounts.account_by_id`)."""
    return account_by_id(session, team_id=team_id, account_id=account_id)


def concession_log_by_id(
    session: Session, *, team_id: str, account_id: int, page: int = 1
) -> ConcessionLog:
    account = account_by_id(session, team_id=team_id, account_id=account_id)
    return log_of_account(session, account=AccountShown.of(account), page=page)


def log_of_account(session: Session, *, account: AccountShown, page: int = 1) -> ConcessionLog:
    """One page of the log, newest first; a page past the end shows the last page."""
    balance = balance_of(session, team_id=account.team_id, account_id=account.id)
    pages = max(math.ceil((balance.total + balance.withdrawn) / LOG_PAGE), 1)
    page = min(max(page, 1), pages)
    entries = list(
        session.scalars(
            select(Concession)
            .where(Concession.team_id == account.team_id, Concession.account_id == account.id)
            .order_by(Concession.logged_at.desc(), Concession.id.desc())
            .offset((page - 1) * LOG_PAGE)
            .limit(LOG_PAGE)
        )
    )
    # Only one-way gives want a trade: one that already got something back is settled,
    # and suggesting a trade for it again would ask twice for the same give.
    one_way_gives = session.scalars(
        select(Concession.give)
        .where(
            Concession.team_id == account.team_id,
            Concession.account_id == account.id,
            Concession.withdrawn_at.is_(None),
            or_(Concession.get.is_(None), Concession.get == ""),
        )
        .order_by(Concession.logged_at.desc(), Concession.id.desc())
        .limit(100)
    ).all()
    return ConcessionLog(
        account=account,
        entries=[Entry.of(row, account) for row in entries],
        balance=balance,
        page=page,
        pages=pages,
        fits=fits_for_gives(one_way_gives),
    )
