"""Import: accounts and their owners from a CRM's CSV export, with their KPIs when the
file has them (the renewal date and whether they renewed, counts of repeat purchases
and of referrals given: bot/services/account_kpis.py says how each lands).

Every row is checked before anything is written, and problems are reported by the
line of the file they are on. The file is read forgivingly (header names as CRMs
spell them, a UTF-8 BOM, `;` or `,` between fields); what it says is not guessed at.
Account names are read as the account resolver reads typed ones (bot.services.accounts):
"Acme Corp Inc." updates "Acme Corp", and a near miss is reported, never created.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.services import account_kpis
from bot.services.account_overview import MAX_EXPECTATIONS, relationship_type_from
from bot.services.accounts import (
    MAX_ACCOUNT_NAME,
    NameIndex,
    account_key,
    clean_account_name,
    known_accounts,
    match_key,
)
from bot.services.dates import RENEWAL, DayReader
from bot.services.errors import UsageError
from bot.services.export import restore_formula
from storage.models import RELATIONSHIP_TYPES, Account

# Header names as CRMs export them, folded by _header_key. Owner columns are listed
# best first: a CRM often has both "Account Owner" (a person's name) and "Owner Email".
NAME_HEADERS = (
    "name",
    "account name",
    "account",
    "company",
    "company name",
    "customer",
    "customer name",
    "organization",
    "organisation",
    "organization name",
)
OWNER_HEADERS = (
    "owner id",
    "owner slack id",
    "owner user id",
    "slack user id",
    "slack id",
    "owner email",
    "owner e mail",
    "owner email address",
    "account owner email",
    "owner",
    "account owner",
)
TYPE_HEADERS = ("relationship type", "relationship")
CHANNEL_HEADERS = ("channel", "channel id", "slack channel", "slack channel id", "account channel")
EXPECTATION_HEADERS = ("expectations", "expects", "expectation", "buyer expectations")
RENEWAL_HEADERS = (
    "renewal on",
    "renewal date",
    "renewal",
    "renews on",
    "next renewal",
    "contract end date",
    "contract end",
)
RENEWED_HEADERS = ("renewed", "renewal outcome", "retained")
REPEAT_HEADERS = ("repeat purchases", "repeat orders", "repeat purchase count", "repeat")
REFERRAL_HEADERS = ("referrals", "referrals given", "referral count")
# A count a CRM could hold for one account; more is a column of something else.
MAX_COUNT = 10_000

_USER_ID = re.compile(r"<?@?([UW][A-Z0-9]{2,31})(?:\|[^<>]*)?>?")
_CHANNEL_ID = re.compile(r"<?#?([CG][A-Z0-9]{2,31})(?:\|[^<>]*)?>?")
_EMAIL = re.compile(r"[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+")
# Enough of the file for csv.Sniffer to see the header and a few rows.
_SNIFF_CHARS = 16_384


class OwnerDirectory(Protocol):
    """Who an email belongs to in the workspace (Slack's users.lookupByEmail)."""

    def user_for_email(self, email: str) -> str | None: ...


@dataclass(frozen=True)
class BadRow:
    line: int
    problem: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.problem}"


@dataclass(frozen=True)
class AccountRow:
    """One good row: the account as it should be after the import."""

    line: int
    name: str
    owner_id: str
    # None: the file says nothing, so an existing account keeps what it has.
    relationship_type: str | None = None
    channel_id: str | None = None
    expectations: str | None = None
    kpis: account_kpis.Imported = account_kpis.Imported()


@dataclass(frozen=True)
class CheckedFile:
    rows: tuple[AccountRow, ...]
    bad: tuple[BadRow, ...]
    # Columns that mean nothing to Rapport (a CRM export has many).
    ignored_columns: tuple[str, ...] = ()
    # A problem with the file as a whole (no name column, no rows): nothing can be imported.
    fatal: bool = False

    def importable(self, *, skip_bad: bool) -> bool:
        """Whether anything gets written: one bad row stops it all, unless skipped."""
        if self.fatal or not self.rows:
            return False
        return skip_bad or not self.bad


@dataclass(frozen=True)
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: tuple[BadRow, ...] = ()
    # False when bad rows stopped the import; nothing was written then.
    imported: bool = True
    dry_run: bool = False


def _header_key(header: str) -> str:
    return " ".join(re.sub(r"[^0-9a-z]+", " ", header.casefold()).split())


def _delimiter(text: str) -> str:
    sample = text[:_SNIFF_CHARS]
    header = sample.split("\n", 1)[0]
    try:
        found = csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
    except csv.Error:
        found = ""
    if found and found in header:
        return found
    # The sniffer gives up on one-column files and can be fooled by commas inside
    # quoted text; a header line rarely holds a delimiter that is not one.
    counts = {d: header.count(d) for d in ",;\t"}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


@dataclass(frozen=True)
class _Columns:
    name: int
    owners: tuple[int, ...]
    relationship_type: int | None
    channel: int | None
    expectations: int | None
    ignored: tuple[str, ...]
    renewal: int | None = None
    renewed: int | None = None
    repeats: int | None = None
    referrals: int | None = None


def _columns(header: Sequence[str]) -> _Columns | str:
    """Which column holds what, or what is missing."""
    keys = [_header_key(h) for h in header]

    def first(names: Sequence[str]) -> int | None:
        for name in names:
            if name in keys:
                return keys.index(name)
        return None

    owners = tuple(keys.index(name) for name in OWNER_HEADERS if name in keys)
    name = first(NAME_HEADERS)
    if name is None:
        return "no account name column (call it name or Account Name)"
    if not owners:
        return "no owner column (call it owner, Account Owner or Owner Email)"
    columns = _Columns(
        name=name,
        owners=owners,
        relationship_type=first(TYPE_HEADERS),
        channel=first(CHANNEL_HEADERS),
        expectations=first(EXPECTATION_HEADERS),
        ignored=(),
        renewal=first(RENEWAL_HEADERS),
        renewed=first(RENEWED_HEADERS),
        repeats=first(REPEAT_HEADERS),
        referrals=first(REFERRAL_HEADERS),
    )
    used = {
        name,
        *owners,
        columns.relationship_type,
        columns.channel,
        columns.expectations,
        columns.renewal,
        columns.renewed,
        columns.repeats,
        columns.referrals,
    }
    ignored = tuple(h.strip() for i, h in enumerate(header) if i not in used and h.strip())
    return replace(columns, ignored=ignored)


def _records(text: str) -> Iterable[tuple[int, list[str]]]:
    """Each record with the line it starts on (a quoted field may span lines)."""
    reader = csv.reader(io.StringIO(text), delimiter=_delimiter(text))
    start = 1
    for record in reader:
        yield start, record
        start = reader.line_num + 1


def _cell(record: Sequence[str], index: int | None) -> str:
    if index is None or index >= len(record):
        return ""
    # The export writes `'=…` for a cell that starts like a formula: read it back.
    return restore_formula(record[index].strip())


def _owner(
    record: Sequence[str], columns: _Columns, directory: OwnerDirectory
) -> tuple[str | None, str | None]:
    """The owner's user id, or what is wrong with the owner cells."""
    given = [value for value in (_cell(record, i) for i in columns.owners) if value]
    if not given:
        return None, "owner is missing"
    for value in given:
        user = _USER_ID.fullmatch(value)
        if user:
            return user.group(1), None
        # "Bob <bob@x.com>" and "mailto:bob@x.com" are how some exports write one.
        email = _EMAIL.search(value.replace("mailto:", " "))
        if email:
            address = email.group(0)
            found = directory.user_for_email(address)
            if found is None:
                return None, f"owner {address} is not a user in this Slack workspace"
            return found, None
    return None, (
        f"owner “{given[0]}” is neither a Slack user id (like U123ABC) nor an email address"
    )


def _kpis(
    record: Sequence[str], columns: _Columns, reader: DayReader, problems: list[str]
) -> account_kpis.Imported:
    """The row's KPIs, read as commands read them; what does not read is a problem."""
    renewal_on: date | None = None
    if typed := _cell(record, columns.renewal):
        try:
            renewal_on = reader.read(typed, RENEWAL)
        except UsageError as error:
            problems.append(f"renewal date: {error.problem}")
    renewed: bool | None = None
    if typed := _cell(record, columns.renewed):
        try:
            renewed = account_kpis.read_renewed(typed)
        except UsageError:
            problems.append(f"renewed “{typed[:40]}” is neither yes nor no")
        if renewal_on is None and not problems:
            problems.append("renewed needs the date of the renewal it answers (renewal date)")
    counts: list[int | None] = []
    for index, what in ((columns.repeats, "repeat purchases"), (columns.referrals, "referrals")):
        typed = _cell(record, index)
        if typed and not (typed.isdigit() and int(typed) <= MAX_COUNT):
            problems.append(f"{what} “{typed[:40]}” is not a count from 0 to {MAX_COUNT:,}")
        counts.append(int(typed) if typed.isdigit() else None)
    return account_kpis.Imported(renewal_on, renewed, counts[0], counts[1])


def _row(
    line: int,
    record: Sequence[str],
    columns: _Columns,
    directory: OwnerDirectory,
    reader: DayReader,
) -> AccountRow | BadRow:
    problems: list[str] = []
    name = ""
    try:
        name = clean_account_name(_cell(record, columns.name))
    except UsageError:
        problems.append(
            f"account name is longer than {MAX_ACCOUNT_NAME} characters"
            if _cell(record, columns.name).strip("\"'“”‘’")
            else "account name is missing"
        )
    owner_id, owner_problem = _owner(record, columns, directory)
    if owner_problem:
        problems.append(owner_problem)
    kind: str | None = None
    if typed := _cell(record, columns.relationship_type):
        try:
            kind = relationship_type_from(typed)
        except UsageError:
            problems.append(
                f"relationship type “{typed}” is not one of {', '.join(RELATIONSHIP_TYPES)}"
            )
    channel: str | None = None
    if given := _cell(record, columns.channel):
        match = _CHANNEL_ID.fullmatch(given)
        if match:
            channel = match.group(1)
        else:
            problems.append(
                f"channel “{given}” is not a Slack channel id (like C123ABC; "
                "Slack shows it at the bottom of the channel's details)"
            )
    expectations = _cell(record, columns.expectations) or None
    if expectations and len(expectations) > MAX_EXPECTATIONS:
        problems.append(f"expectations are longer than {MAX_EXPECTATIONS} characters")
    kpis = _kpis(record, columns, reader, problems)
    if problems or owner_id is None:
        return BadRow(line, "; ".join(problems))
    return AccountRow(line, name, owner_id, kind, channel, expectations, kpis)


JSON_FILE = (
    "this is JSON; import reads a CSV of accounts: the accounts.csv of "
    "`rapport export --format csv`, or a CRM's CSV export"
)


def check_accounts_csv(text: str, *, directory: OwnerDirectory, today: date) -> CheckedFile:
    """Every row of the file checked; owners given by email are looked up in `directory`;
    dates are read as commands read them, from `today`."""
    text = text.removeprefix("\ufeff")
    if text.lstrip().startswith(("{", "[")):
        # `rapport export --format json` writes the whole history; nothing reads it back.
        return CheckedFile(rows=(), bad=(BadRow(1, JSON_FILE),), fatal=True)
    records = iter(_records(text))
    header: list[str] = []
    for _, record in records:
        if any(cell.strip() for cell in record):
            header = record
            break
    columns = _columns(header) if header else "the file is empty"
    if isinstance(columns, str):
        return CheckedFile(rows=(), bad=(BadRow(1, columns),), fatal=True)

    rows: list[AccountRow] = []
    bad: list[BadRow] = []
    first_line: dict[str, int] = {}
    for line, record in records:
        if not any(cell.strip() for cell in record):
            continue
        checked = _row(line, record, columns, directory, DayReader(today))
        if isinstance(checked, BadRow):
            bad.append(checked)
            continue
        earlier = first_line.setdefault(account_key(checked.name), line)
        if earlier != line:
            bad.append(BadRow(line, f"account “{checked.name}” is already on line {earlier}"))
            continue
        rows.append(checked)
    if not rows and not bad:
        nothing = BadRow(1, "there are no accounts after the header")
        return CheckedFile(rows=(), bad=(nothing,), fatal=True)
    return CheckedFile(rows=tuple(rows), bad=tuple(bad), ignored_columns=columns.ignored)


def _by_id(session: Session, *, team_id: str, ids: Sequence[int]) -> dict[int, Account]:
    found: dict[int, Account] = {}
    # In chunks: some databases cap the number of bound parameters in one statement.
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for account in session.scalars(
            select(Account).where(Account.team_id == team_id, Account.id.in_(chunk))
        ):
            found[account.id] = account
    return found


def _matched(index: NameIndex, row: AccountRow) -> int | BadRow | None:
    """The account on file a row names, read as the resolver reads typed names (case,
    spacing, punctuation and legal suffixes aside): its id; None for a new name; a
    BadRow for a name that is nearly one on file (a typo, a word left out) or that
    could be several, which an import must not turn into a stray new account."""
    same = index.exact(row.name)
    if len(same) > 1:
        written = [a for a in same if account_key(a.name) == account_key(row.name)]
        if len(written) != 1:
            names = " or ".join(f"“{a.name}”" for a in sorted(same, key=lambda a: a.name))
            return BadRow(
                row.line,
                f"account “{row.name}” could be {names}: write the name as it is in Rapport",
            )
        same = written
    if same:
        return same[0].id
    near = index.near(row.name)
    if not near:
        return None
    names = " or ".join(f"“{a.name}”" for a in near[:3])
    return BadRow(
        row.line,
        f"account “{row.name}” is not in Rapport; did you mean {names}? Write the name as "
        "it is in Rapport to update that account. A near miss is never created as a new "
        f'account: to have both, create it first with `/rapport account "{row.name}" type: …`',
    )


def _changes(account: Account, row: AccountRow) -> dict[str, str]:
    wanted = {
        "owner_id": row.owner_id,
        "relationship_type": row.relationship_type,
        "channel_id": row.channel_id,
        "expectations": row.expectations,
    }
    return {
        name: value
        for name, value in wanted.items()
        if value is not None and getattr(account, name) != value
    }


def _create(session: Session, team_id: str, row: AccountRow, now: datetime) -> None:
    """A new account from the row, with its KPIs (which need the account's id)."""
    account = Account(
        team_id=team_id,
        key=account_key(row.name),
        name=row.name,
        owner_id=row.owner_id,
        created_by=row.owner_id,
        created_at=now,
        relationship_type=row.relationship_type,
        channel_id=row.channel_id,
        expectations=row.expectations,
    )
    session.add(account)
    if row.kpis != account_kpis.Imported():
        session.flush()
        account_kpis.import_changes(
            session, account, row.kpis, user_id=row.owner_id, now=now, write=True
        )


def import_accounts(
    session: Session,
    *,
    team_id: str,
    checked: CheckedFile,
    now: datetime,
    skip_bad: bool = False,
    dry_run: bool = False,
) -> ImportReport:
    """Create or update the team's accounts from `checked`, in the caller's transaction.

    With bad rows, nothing is written unless `skip_bad`; with `dry_run`, nothing at
    all, but the counts say what would have happened.
    """
    if not checked.importable(skip_bad=skip_bad):
        return ImportReport(skipped=checked.bad, imported=False, dry_run=dry_run)
    index = NameIndex(known_accounts(session, team_id=team_id))
    matched: dict[int, int | BadRow | None] = {}
    # One account however the file spells it ("Acme Corp", "ACME Corp, Inc."): by the
    # account on file it matches, or, for a new one, by its match key.
    first_line: dict[int | str, int] = {}
    for row in checked.rows:
        found = _matched(index, row)
        if not isinstance(found, BadRow):
            earlier = first_line.setdefault(
                match_key(row.name) if found is None else found, row.line
            )
            if earlier != row.line:
                found = BadRow(row.line, f"account “{row.name}” is the same as on line {earlier}")
        matched[row.line] = found
    unsure = tuple(found for found in matched.values() if isinstance(found, BadRow))
    if unsure:
        checked = CheckedFile(
            rows=tuple(row for row in checked.rows if not isinstance(matched[row.line], BadRow)),
            bad=tuple(sorted((*checked.bad, *unsure), key=lambda bad: bad.line)),
            ignored_columns=checked.ignored_columns,
        )
        if not checked.importable(skip_bad=skip_bad):
            return ImportReport(skipped=checked.bad, imported=False, dry_run=dry_run)
    ids = [found for found in matched.values() if isinstance(found, int)]
    existing = _by_id(session, team_id=team_id, ids=ids)
    created = updated = unchanged = 0
    for row in checked.rows:
        account_id = matched[row.line]
        account = existing.get(account_id) if isinstance(account_id, int) else None
        if account is None:
            created += 1
            if not dry_run:
                _create(session, team_id, row, now)
            continue
        changes = _changes(account, row)
        kpis_changed = account_kpis.import_changes(
            session, account, row.kpis, user_id=row.owner_id, now=now, write=not dry_run
        )
        if not changes and not kpis_changed:
            unchanged += 1
            continue
        updated += 1
        if not dry_run:
            for name, value in changes.items():
                setattr(account, name, value)
    if not dry_run:
        session.flush()
    return ImportReport(
        created=created,
        updated=updated,
        unchanged=unchanged,
        skipped=checked.bad,
        imported=True,
        dry_run=dry_run,
    )
