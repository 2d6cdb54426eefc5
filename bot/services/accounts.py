"""Accounts: looked up by name within a team, created on first use, and read from
what a rep types by one resolver that every command, modal and button uses.

How a name is read (`read_account`, pure; `resolve_account`, against the database):

- A quoted name (`"Acme Corp"`, curly quotes too) is taken whole, as typed: the
  known account it names, or a new one. Quotes are how a rep says "exactly this".
- Otherwise the longest known account name at the start of the text wins. Names are
  compared by their *match key*: case, accents, spacing, punctuation and trailing
  legal suffixes (Inc, Ltd, GmbH, Corp…) left out, so "acme corp." is "Acme, Inc.".
- A near miss of a known name (a typo, a missing word, or a known name further on in
  the text) is never taken as a new account: the caller asks (`AccountUnsure`).
- In a channel linked to one account, the account may be left out.
- Anything else is a new account: the first word, or the whole text where the
  command has nothing after the account (`whole=True`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any, NamedTuple, Self

from rapidfuzz import process
from rapidfuzz.distance import OSA
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from bot.services.errors import AccountOption, AccountUnsure, NotFound, UsageError
from bot.services.shown import Shown, copied
from storage.models import Account
from storage.upsert import add_or_read_winner

MAX_ACCOUNT_NAME = 80


def account_key(name: str) -> str:
    """The stored lookup key: case and spacing do not make a different account."""
    return " ".join(name.split()).casefold()


def clean_account_name(name: str) -> str:
    cleaned = " ".join(name.strip().strip("\"'“”‘’").split())
    if not cleaned:
        raise UsageError("Name the account first.")
    if len(cleaned) > MAX_ACCOUNT_NAME:
        raise UsageError(f"Account names can be up to {MAX_ACCOUNT_NAME} characters.")
    return cleaned


# Built once, with bind parameters: building a statement and its cache key on every
# call cost more than running it on SQLite (bench/README.md, "Issue 14: what each
# speed-up buys": built per call, a /concede takes 15% more CPU).
_BY_KEY = select(Account).where(
    Account.team_id == bindparam("team_id"), Account.key == bindparam("key")
)
_KNOWN = select(Account.id, Account.name, Account.channel_id).where(
    Account.team_id == bindparam("team_id")
)
_BY_ID = select(Account).where(
    Account.team_id == bindparam("team_id"), Account.id == bindparam("id")
)


def find_account(session: Session, *, team_id: str, name: str) -> Account | None:
    return session.scalar(_BY_KEY, {"team_id": team_id, "key": account_key(name)})


def get_account(session: Session, *, team_id: str, name: str) -> Account:
    account = find_account(session, team_id=team_id, name=name)
    if account is None:
        raise NotFound(f"There is no account called “{clean_account_name(name)}” yet.")
    return account


def get_or_create_account(
    session: Session, *, team_id: str, name: str, user_id: str, now: datetime
) -> Account:
    """The team's account of that name; a new one owned by `user_id` if there is none."""
    name = clean_account_name(name)
    existing = find_account(session, team_id=team_id, name=name)
    if existing is not None:
        return existing
    account = Account(
        team_id=team_id,
        key=account_key(name),
        name=name,
        owner_id=user_id,
        created_by=user_id,
        created_at=now,
    )
    # Two people creating the same account at once: the loser gets the winner's.
    account, _ = add_or_read_winner(
        session, account, lambda: get_account(session, team_id=team_id, name=name)
    )
    return account


# --- Reading a name out of typed text -------------------------------------------------

# Trailing words that say what kind of company it is, not which one. Compared after
# punctuation is gone ("S.A." is "sa", "Pty. Ltd." is "pty ltd").
LEGAL_SUFFIXES = frozenset(
    """
    inc incorporated corp corporation co company ltd limited llc llp lp plc pty pte
    gmbh ag kg ohg ug sa sas sarl srl spa bv nv oy oyj ab as asa aps kk se sl slu
    """.split()
)
# Opening quote -> its closing quote.
_QUOTES = {'"': '"', "“": "”", "„": "“", "«": "»", "'": "'", "‘": "’"}
_WORD = re.compile(r"[^\W_]+")
# Words that may sit inside a name but say nothing about which one it is.
_FILLER = frozenset("the a an and of for de der die la le el".split())
# A first word that reads as the start of the task, not as an account's name: with no
# such account known, it is the rep who left the account out.
TASK_WORDS = frozenset(
    """
    send sent call called email emailed mail ping pinged follow check share schedule
    book prepare draft review update reply confirm finish write intro introduce meet
    met plan fix deliver ask get give set chase sign signed spoke talked had
    the a an to for with my our their we i they them it this that
    """.split()
)
# The longest name, in words, the start of the text is compared with.
MAX_NAME_WORDS = 10
# How far a name may be mistyped and still be recognised, by the length of the known
# name's match key: optimal-string-alignment edits (a swap of two neighbouring letters
# is one). Names under 4 letters must be exact: "SAP" and "SAS" are both companies.
# Checked over realistic names in tests/test_account_resolver.py.
MIN_FUZZY_LENGTH = 4
# A shortened name ("Glob") is offered only by commands that look an account up: a
# new customer often shares the start of a known one ("Umbra", "Umbrella Corp"), and a
# command that creates accounts must not stop it with a question.
MIN_PREFIX_LENGTH = 3


def typos_allowed(length: int) -> int:
    if length < MIN_FUZZY_LENGTH:
        return 0
    if length <= 7:
        return 1
    if length <= 13:
        return 2
    return 3


# Cached, as is spelled_words: a command that rebuilds its team's index (after a new
# account) takes a fifth less CPU (bench/README.md, "Issue 14: what each speed-up buys").
@lru_cache(maxsize=8192)
def name_words(name: str) -> tuple[str, ...]:
    """A name as words for comparing: folded, unaccented, no punctuation or legal suffix.

    `&` reads as "and", so "Procter & Gamble" is "Procter and Gamble". The first word is
    never dropped: a company called "Company" is still "company".
    """
    words = list(spelled_words(name))
    while len(words) > 1 and words[-1] in LEGAL_SUFFIXES:
        words.pop()
    return tuple(words)


@lru_cache(maxsize=8192)
def spelled_words(name: str) -> tuple[str, ...]:
    """A name as words, folded and unaccented, legal suffixes kept."""
    # Full stops join rather than split: "S.A." is "SA", "Inc." is "Inc".
    spelled = name.replace("&", " and ").replace(".", "")
    folded = unicodedata.normalize("NFKD", spelled).casefold()
    plain = "".join(c for c in folded if not unicodedata.combining(c))
    return tuple(_WORD.findall(plain))


def match_key(name: str) -> str:
    """Two names that are one account compare equal: "ACME corp." and "Acme" do."""
    return "".join(name_words(name))


class KnownAccount(NamedTuple):
    """One of the team's accounts, as the resolver compares it (a row: cheap to make)."""

    id: int
    name: str
    channel_id: str | None = None

    @property
    def words(self) -> tuple[str, ...]:
        return name_words(self.name)

    @property
    def key(self) -> str:
        return match_key(self.name)


@dataclass(frozen=True, slots=True)
class AccountShown(Shown):
    """An account as a message shows it: plain values, read while its session is open,
    so a template never reaches into the database (and a reply can be drawn again
    after the ack without one)."""

    id: int
    team_id: str
    name: str
    owner_id: str
    stage: str
    channel_id: str | None
    relationship_type: str | None
    expectations: str | None
    won_at: datetime | None
    lost_at: datetime | None
    paused_until: date | None
    pause_reason: str | None


class ShownWithAccount(Shown):
    """A `Shown` dataclass of a row on an account, whose `account` field is that account
    as `AccountShown`: `Cls.of(row)` reads it from the row, `Cls.of(row, account)` takes
    the one already read (no load of it)."""

    __slots__ = ()

    @classmethod
    def of(cls, row: Any, account: AccountShown | None = None) -> Self:
        return copied(cls, row, account=account or AccountShown.of(row.account))


@dataclass(frozen=True)
class Reading:
    """What a command's text names: a known account, or a new one, and the rest.

    `account_id` is None for a new account (`name` is then the name to create it
    with); `rest` is the text after the name.
    """

    name: str
    rest: str
    account_id: int | None = None

    @property
    def is_new(self) -> bool:
        return self.account_id is None


@dataclass(frozen=True)
class _Typed:
    """The name at the start of the text: its words, what it is as typed, and the rest."""

    text: str
    rest: str
    quoted: bool


def _quoted(text: str) -> _Typed | None:
    closing = _QUOTES.get(text[:1])
    if closing is None:
        return None
    end = text.find(closing, 1)
    if end <= 1:
        return None
    return _Typed(text=" ".join(text[1:end].split()), rest=text[end + 1 :].strip(), quoted=True)


class NameIndex:
    """The team's accounts by match key, for exact and near lookups (the resolver's,
    and an import's: bot.services.importing reads a file's names the same way).

    Built once per distinct list of accounts (`_index_of`), so a command pays for
    it only after the team's accounts change.
    """

    def __init__(self, known: Iterable[KnownAccount]) -> None:
        self.by_key: dict[str, list[KnownAccount]] = {}
        self.words: dict[str, tuple[str, ...]] = {}
        for account in known:
            words = name_words(account.name)
            key = "".join(words)
            if key:
                self.by_key.setdefault(key, []).append(account)
                self.words[key] = words
        self.keys = list(self.by_key)
        self.longest = max((len(words) for words in self.words.values()), default=1)
        # Names of two words or more by their first word, for `longer_near`.
        self.by_first: dict[str, list[str]] = {}
        # Every word of a name of two words or more -> those names, for a word left out.
        self.by_word: dict[str, set[str]] = {}
        # Names as word tuples long enough to be recognised inside a text.
        self.phrases: set[tuple[str, ...]] = set()
        for key, words in self.words.items():
            if len(key) >= MIN_FUZZY_LENGTH:
                self.phrases.add(words)
            if len(words) > 1:
                self.by_first.setdefault(words[0], []).append(key)
                for word in words:
                    self.by_word.setdefault(word, set()).add(key)
        self.vocabulary = list(self.by_word)

    def exact(self, name: str) -> list[KnownAccount]:
        return self.by_key.get(match_key(name), [])

    def near(self, name: str) -> list[KnownAccount]:
        """Known accounts `name` is a mistyped or shortened form of, closest first."""
        typed = match_key(name)
        if not typed:
            return []
        found: dict[str, int] = {}
        # Typos over the whole name, in C over all keys (rapidfuzz), then each
        # candidate held to the allowance of its own length.
        for key, distance, _ in process.extract(
            typed, self.keys, scorer=OSA.distance, score_cutoff=3, limit=None
        ):
            if 0 < distance <= typos_allowed(len(key)) and _same_digits(typed, key):
                found.setdefault(key, int(distance))
        # A word left out ("Globex" for "Globex Logistics"), a typo allowed in each word.
        words = [w for w in name_words(name) if w not in _FILLER]
        if words and max(len(w) for w in words) >= MIN_FUZZY_LENGTH:
            for key in self._having_word(words[0]):
                known = self.words[key]
                if len(known) > len(words) and _in_order(words, known):
                    found.setdefault(key, 10)
        ranked = sorted(found, key=lambda key: (found[key], key))
        return [account for key in ranked for account in self.by_key[key]]

    def _having_word(self, word: str) -> set[str]:
        """Names of two words or more with a word within `word`'s allowance of it."""
        keys: set[str] = set()
        for known, distance, _ in process.extract(
            word, self.vocabulary, scorer=OSA.distance, score_cutoff=3, limit=None
        ):
            if distance <= typos_allowed(len(known)) and _same_digits(word, known):
                keys |= self.by_word[known]
        return keys

    def longer_near(
        self, matched: KnownAccount, after: Sequence[str]
    ) -> tuple[int, KnownAccount] | None:
        """A known name that starts like `matched` and goes on, nearly, as `after` does:
        how many of the words in `after` it takes, and the account."""
        head = name_words(matched.name)
        for key in self.by_first.get(head[0], ()) if head else ():
            words = self.words[key]
            extra = words[len(head) :]
            if not extra or words[: len(head)] != head or len(after) < len(extra):
                continue
            typed = match_key(" ".join(after[: len(extra)]))
            wanted = "".join(extra)
            close = OSA.distance(typed, wanted) <= typos_allowed(len(wanted))
            if close and _same_digits(typed, wanted):
                return len(extra), self.by_key[key][0]
        return None

    def starting_with(self, name: str) -> list[KnownAccount]:
        """Known accounts whose name begins with `name` ("Glob" for Globex Corp)."""
        typed = match_key(name)
        if len(typed) < MIN_PREFIX_LENGTH:
            return []
        keys = sorted(key for key in self.keys if key.startswith(typed) and key != typed)
        return [account for key in keys for account in self.by_key[key]]

    def mentioned(self, words: Sequence[str]) -> list[KnownAccount]:
        """Known accounts named, word for word, anywhere in `words` after the first."""
        first = len(name_words(words[0])) if words else 0
        text = [w for raw in words for w in name_words(raw)]
        found: list[KnownAccount] = []
        for start in range(max(first, 1), len(text)):
            for size in range(1, min(self.longest, len(text) - start) + 1):
                phrase = tuple(text[start : start + size])
                if phrase in self.phrases:
                    found.extend(self.by_key["".join(phrase)])
        return found


# Without it a command that reads a name not on file takes a fifth more CPU with 500
# accounts (bench/README.md, "Issue 14: what each speed-up buys").
@lru_cache(maxsize=64)
def _index_of(known: tuple[KnownAccount, ...]) -> NameIndex:
    return NameIndex(known)


def _same_digits(typed: str, known: str) -> bool:
    """Names that differ in their numbers are different places, not typos: Plant 2 is
    not Plant 3, Acme1 not Acme2."""
    return [c for c in typed if c.isdigit()] == [c for c in known if c.isdigit()]


def _in_order(typed: Sequence[str], known: Sequence[str]) -> bool:
    """Each typed word matches one of the known words, in order, within its allowance."""
    position = 0
    for word in typed:
        while position < len(known):
            candidate = known[position]
            position += 1
            if OSA.distance(word, candidate) <= typos_allowed(len(candidate)) and _same_digits(
                word, candidate
            ):
                break
        else:
            return False
    return True


def _mistyped_suffix(account: KnownAccount, typed: str, after: Sequence[str]) -> int:
    """How many of the words `after` a name typed without its legal suffix are that
    suffix mistyped: "Acme" then "Crop" for "Acme Corp". Legal suffixes are left out
    when names are compared, so without this the typo would start the rest."""
    said, full = spelled_words(typed), spelled_words(account.name)
    if full[: len(said)] != said:
        return 0
    taken = 0
    for wanted, word in zip(full[len(said) :], after, strict=False):
        got = "".join(spelled_words(word))
        if len(wanted) < MIN_FUZZY_LENGTH or OSA.distance(got, wanted) > typos_allowed(len(wanted)):
            break
        taken += 1
    return taken


def _options(accounts: Iterable[KnownAccount], rest: str) -> list[AccountOption]:
    seen: set[int] = set()
    options = []
    for account in accounts:
        if account.id not in seen:
            seen.add(account.id)
            options.append(AccountOption(account_id=account.id, name=account.name, rest=rest))
    return options[:3]


def read_account(
    text: str,
    known: Sequence[KnownAccount],
    *,
    whole: bool = False,
    creates: bool = True,
    channel_id: str | None = None,
) -> Reading | None:
    """The account `text` starts with (see the module's docstring). None: no name at all.

    `whole`: the command has nothing after the account, so all of `text` is the name.
    `creates`: the command makes a new account for a new name (the question then
    offers to). Raises AccountUnsure for a near miss, UsageError for a task word.
    """
    text = " ".join(text.split())
    index = _index_of(tuple(known))
    linked = [a for a in known if channel_id and a.channel_id == channel_id]
    if not text:
        return _in_channel(linked, "")
    quoted = _quoted(text)
    if quoted is not None:
        return _named(index, quoted, whole=whole, creates=creates)
    words = text.split(" ")
    # The longest known name the text starts with.
    for size in range(min(len(words), MAX_NAME_WORDS), 0, -1):
        typed = " ".join(words[:size])
        matches = index.exact(typed)
        if matches:
            longer = index.longer_near(matches[0], words[size:])
            if longer is not None:
                # "Globex Logistcs send": Globex is known, but so is Globex Logistics.
                extra, account = longer
                raise AccountUnsure(
                    typed=" ".join(words[: size + extra]),
                    options=(
                        *_options([account], " ".join(words[size + extra :])),
                        *_options(matches, "" if whole else " ".join(words[size:])),
                    ),
                )
            # "Acme Crop send deck": "Crop" is Acme Corp's own suffix, mistyped.
            taken = {a.id: _mistyped_suffix(a, typed, words[size:]) for a in matches}
            if max(taken.values()):
                size += max(taken.values())
                matches = [a for a in matches if taken[a.id] == max(taken.values())]
            typed = " ".join(words[:size])
            rest = " ".join(words[size:])
            return _known(matches, typed, rest, whole=whole, creates=creates, text=text)
    if whole:
        typed_all = _Typed(text=text, rest="", quoted=False)
        return _unknown(index, typed_all, words, whole=True, creates=creates)
    # Which words are the mistyped name: the longest start that is a near miss (a
    # typo may split a word in two, so one word more than the longest name).
    for size in range(min(len(words), index.longest + 1, MAX_NAME_WORDS), 0, -1):
        typed = " ".join(words[:size])
        near = index.near(typed)
        if near:
            rest = " ".join(words[size:])
            options = _options(near, rest)
            if linked:  # or the rep left the account out, in the account's channel
                options += _options(linked, text)
            raise AccountUnsure(
                typed=typed,
                options=tuple(options),
                new_name=typed if creates else None,
                new_rest=rest,
            )
    if linked:
        return _in_channel(linked, text)
    first = _Typed(text=words[0], rest=" ".join(words[1:]), quoted=False)
    return _unknown(index, first, words, whole=False, creates=creates)


def _named(index: NameIndex, typed: _Typed, *, whole: bool, creates: bool) -> Reading:
    """A quoted name: the known account it names, or a new one; never a question."""
    if whole and typed.rest:
        raise UsageError(
            f"Only the account goes here; I read “{typed.text}” and then “{typed.rest}”."
        )
    matches = index.exact(typed.text)
    if matches:
        return _known(
            matches, typed.text, typed.rest, whole=whole, creates=creates, text=typed.text
        )
    return Reading(name=typed.text, rest=typed.rest)


def _known(
    matches: list[KnownAccount], typed: str, rest: str, *, whole: bool, creates: bool, text: str
) -> Reading:
    if len(matches) > 1:
        # "Acme" and "Acme Inc" both on file: the one written exactly so, else ask.
        exact = [a for a in matches if account_key(a.name) == account_key(typed)]
        if len(exact) != 1:
            raise AccountUnsure(typed=typed, options=tuple(_options(matches, rest)))
        matches = exact
    account = matches[0]
    if whole and rest:
        # "/rapport won Acme Corp yay": a known name and more. The known one, or all of it?
        raise AccountUnsure(
            typed=text,
            options=tuple(_options([account], "")),
            new_name=text if creates else None,
        )
    return Reading(name=account.name, rest=rest, account_id=account.id)


def _unknown(
    index: NameIndex, typed: _Typed, words: Sequence[str], *, whole: bool, creates: bool
) -> Reading:
    near = index.near(typed.text) or ([] if creates else index.starting_with(typed.text))
    later = [] if near else index.mentioned(words)
    task_word = not whole and typed.text.casefold() in TASK_WORDS
    if near or later:
        # Named further on, the account leaves all of the text as the rest.
        options = _options(near, typed.rest) + _options(later, "" if whole else " ".join(words))
        raise AccountUnsure(
            typed=typed.text,
            options=tuple(options[:3]),
            new_name=typed.text if creates and not task_word else None,
            new_rest=typed.rest,
            named_later=not near,
        )
    if task_word and typed.rest:
        raise UsageError(
            f"“{typed.text}” reads as the start of what to do, not as an account. "
            f"Put the account first (in quotes if it is called “{typed.text}”)."
        )
    size = 1 if whole else _capitalised_name(words)
    if size > 1 and not creates:
        # Nothing is made: the name it is not found by is all of "Blue Harbor".
        return Reading(name=" ".join(words[:size]), rest=" ".join(words[size:]))
    if size > 1:
        # "Blue Harbor send the deck", new, without quotes: ask rather than guess "Blue".
        raise AccountUnsure(
            typed=" ".join(words[:size]),
            options=(),
            new_name=" ".join(words[:size]),
            new_rest=" ".join(words[size:]),
            shorter_name=typed.text,
        )
    return Reading(name=typed.text, rest=typed.rest)


def _capitalised_name(words: Sequence[str]) -> int:
    """How many words a new, unquoted name may be: the first and the capitalised words
    after it ("Blue Harbor" in "Blue Harbor send the deck"), short of a task word, a
    field (`due:`) or the last word (something must be left to do)."""
    size = 1
    while size < min(len(words) - 1, MAX_NAME_WORDS):
        word = words[size]
        if not word[:1].isupper() or word.endswith(":") or word.casefold() in TASK_WORDS:
            break
        size += 1
    return size


def _in_channel(linked: list[KnownAccount], rest: str) -> Reading | None:
    if not linked:
        return None
    if len(linked) > 1:
        names = ", ".join(sorted(a.name for a in linked))
        raise UsageError(f"This channel belongs to several accounts ({names}): name one.")
    return Reading(name=linked[0].name, rest=rest, account_id=linked[0].id)


class UserChoiceStale(UsageError):
    """A button answering a question the same text no longer raises."""

    def __init__(self) -> None:
        super().__init__("The accounts changed since I asked. Run the command again.")


def known_accounts(session: Session, *, team_id: str) -> list[KnownAccount]:
    """Every account of the team, as the resolver compares them (ids and names only)."""
    # On the connection: plain rows need none of the ORM's execution path.
    rows = session.connection().execute(_KNOWN, {"team_id": team_id}).all()
    return list(map(KnownAccount._make, rows))


def resolve_account(
    session: Session,
    *,
    team_id: str,
    text: str,
    whole: bool = False,
    creates: bool = True,
    channel_id: str | None = None,
    choice: int | None = None,
) -> Reading | None:
    """`read_account` against the team's accounts; `choice` answers an earlier question.

    `choice` is what the rep picked when the same text was last read: an account id,
    or 0 for a new account. It must be one of the answers the question offers now;
    if the text no longer needs a question, the reading stands only if it agrees.
    """
    cleaned = " ".join(text.split())
    if whole and cleaned and choice is None and _QUOTES.get(cleaned[:1]) is None:
        # The cheap way first: the whole text is a name on file, as typed.
        found = find_account(session, team_id=team_id, name=cleaned)
        if found is not None:
            return Reading(name=found.name, rest="", account_id=found.id)
    known = known_accounts(session, team_id=team_id)
    try:
        reading = read_account(cleaned, known, whole=whole, creates=creates, channel_id=channel_id)
    except AccountUnsure as question:
        if choice is None:
            raise
        return _checked(_answered(question, choice))
    if choice is not None and reading is not None:
        agrees = reading.account_id == choice or (choice == 0 and reading.is_new)
        if not agrees:
            raise UserChoiceStale()
    return _checked(reading)


def _checked(reading: Reading | None) -> Reading | None:
    """A new name as it will be stored (quotes off, spacing tidied, not too long)."""
    if reading is None or not reading.is_new:
        return reading
    return Reading(name=clean_account_name(reading.name), rest=reading.rest)


def _answered(question: AccountUnsure, choice: int) -> Reading:
    if choice == 0 and question.new_name is not None:
        return Reading(name=question.new_name, rest=question.new_rest)
    for option in question.options:
        if option.account_id == choice:
            return Reading(name=option.name, rest=option.rest, account_id=option.account_id)
    raise UserChoiceStale()


def account_by_id(
    session: Session,
    *,
    team_id: str,
    account_id: int,
    gone: str = "That account is not there any more.",
) -> Account:
    """The team's account with that id (a button's or a modal's); NotFound saying `gone`
    when it is not there, or the id is another team's."""
    account = session.scalar(_BY_ID, {"team_id": team_id, "id": account_id})
    if account is None:
        raise NotFound(gone)
    return account
