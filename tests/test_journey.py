"""The journey corpus: lines a hurried rep types, and what Rapport must read them as.

Every file in tests/journey/ is a table of typed lines. Each line is played through
the real Bolt app over signed HTTP (the `served` app of conftest.py), with the clock
frozen on Thu 3 Dec 2026 10:00 UTC, as one or more people (each with their own
Slack time zone and locale, learned the way the app learns them: users.info on the
local fake Slack). Then the reply and what was stored are checked.

Adding a line is the whole job of a regression test for a misreading: find the file
of its area (or start one; every *.yaml here is played) and append

    - say: "/followup Acme Corp send deck due: 15 Dec"
      who: ben                 # optional: a person of PEOPLE below, a list, or "all"
      account: Acme Corp       # the account the stored record belongs to
      date: 2026-12-15         # the date it was read as (the record's date column)
      fields: {what: send deck}   # other columns of the stored record
      reply: [Tue 15 Dec 2026]    # text the reply must contain (a string or a list)

or, for input that must be refused,

    - say: "/followup Globex send deck due: someday"
      error: someday           # text the reply must contain; nothing may be stored
      field: due               # the field the reply names (`due:`)

Every key of a line:

- `say` (required): the command and its text, exactly as typed.
- `who`: who types it: a name from PEOPLE, a list of names (the line is played once
  by each), or `all`. Default: the file's `who`, else `ana`.
- `known`: the accounts the team has before the line (each line gets a team of its
  own, so lines never see each other's data). Default: the file's `known`.
- `before`: commands the same person types first, in the same team and channel
  (a string or a list); their replies are not checked, what they store is not
  counted as the line's.
- `linked`: known accounts linked to a channel (`/rapport account X channel: #…`), as
  `{Globex: C0GLOBEX}`; typed in that `channel`, a command may leave the account out.
- `channel`: the channel it is typed in (default C0JOURNEY).
- `at`: the instant of the frozen clock, ISO (default 2026-12-03T10:00:00+00:00,
  which is Thursday 3 Dec in every zone of PEOPLE).
- `record`: the model whose new or changed row the line must have stored (a name
  from storage, e.g. `Commitment`, `Qbr`, `TeamHoliday`). Default: RECORDS below,
  by the command's first words. `account`, `date` and `fields` are checked on it:
  `account` is the name of the row's account (of the row itself for `Account`),
  `date` its date column from RECORDS, `fields` any of its columns (`null` for none).
- `reply`: text the reply must contain; `not`: text it must not contain (both a
  string or a list; compared case-sensitively, on every text of the blocks).
- `error`: like `reply`, and also asserts that nothing at all was stored.
- `field`: the field an error must name, as the user writes it (`due`, `give`...).
- `stored: nothing`: the line stores nothing (help, listings, previews).
- `calls`: Slack methods the command must have called (e.g. `[views.open]`).
- `xfail: why`: a known misreading kept in the corpus; the line must still fail, and
  the runner says so when it starts to pass (then delete the `xfail`).

A file may set `who` and `known` at its top, for all its lines. Files are played in
parallel (one test per file, or per part of a long one: PLAYS_PER_TEST); within a
file, a line costs a few milliseconds.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from freezegun import freeze_time
from sqlalchemy import bindparam, func, inspect, literal_column, select, union_all
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.devtools.localslack import LocalSlack, command_body
from bot.services.accounts import account_key
from bot.services.people import SlackProfile, remember_timezone
from bot.slackapi.client import make_client
from bot.slackapi.timezones import slack_profile
from handlers.edge import after_ack
from storage.db import SessionFactory
from storage.models import Account, Base
from tests.conftest import at
from tests.slackkit import Reply, SlackSender

JOURNEY = Path(__file__).parent / "journey"
NOW = "2026-12-03T10:00:00+00:00"
CHANNEL = "C0JOURNEY"


@dataclass(frozen=True)
class Person:
    user_id: str
    tz: str
    locale: str


# Who types the lines: several time zones, two locales (numeric dates differ), and
# one person whose locale is unknown.
PEOPLE: dict[str, Person] = {
    "ana": Person("U0JANA", "America/New_York", "en-US"),
    "lou": Person("U0JLOU", "America/Los_Angeles", "en-US"),
    "ben": Person("U0JBEN", "Europe/London", "en-GB"),
    "eva": Person("U0JEVA", "Europe/Berlin", "en-GB"),
    "yui": Person("U0JYUI", "Asia/Tokyo", "en-US"),
    "kai": Person("U0JKAI", "Pacific/Auckland", "en-GB"),
    # Slack tells no locale for her: `12/10` is asked, not guessed.
    "max": Person("U0JMAX", "Asia/Kolkata", ""),
}

# What a command stores, by its first words (the longest match wins): the model,
# and the column a line's `date` is compared with (None: it stores no date).
RECORDS: dict[str, tuple[str, str | None]] = {
    "/followup": ("Commitment", "due_on"),
    "/concede": ("Concession", None),
    "/meso": ("MesoSet", None),
    "/rapport account": ("Account", None),
    "/rapport qbr": ("Qbr", "next_on"),
    "/rapport won": ("Account", None),
    "/rapport lost": ("Account", None),
    "/rapport touch": ("Touch", None),
    "/rapport pause": ("Account", "paused_until"),
    "/rapport resume": ("Account", "paused_until"),
    "/rapport holidays": ("TeamHoliday", "day"),
    "/rapport digest": ("DigestSubscription", None),
    "/rapport settings": ("UserPrefs", None),
}

# Columns a line may change without having "stored" anything: what the app learns
# about the person typing (from Slack, after the ack), per table.
LEARNED = {"user_prefs": {"slack_tz", "slack_tz_fetched_at", "slack_locale", "locale"}}

LINE_KEYS = {
    "say", "who", "known", "linked", "before", "channel", "at", "record", "account",
    "date", "fields", "reply", "not", "error", "field", "stored", "calls", "xfail",
}  # fmt: skip

MODELS = {mapper.class_.__name__: mapper.class_ for mapper in Base.registry.mappers}
TEAM_TABLES = [table for table in Base.metadata.sorted_tables if "team_id" in table.c]


@dataclass(frozen=True)
class Line:
    file: str
    number: int
    spec: dict[str, Any]
    who: str

    @property
    def where(self) -> str:
        return f"{self.file}:{self.number} ({self.who}) {self.spec['say']!r}"

    def texts(self, key: str) -> list[str]:
        value = self.spec.get(key)
        if value is None:
            return []
        return [str(item) for item in value] if isinstance(value, list) else [str(value)]


def _line_numbers(text: str) -> list[int]:
    """The source line of each `- say:` entry, in order (for messages that point at it)."""
    return [n for n, row in enumerate(text.splitlines(), 1) if re.match(r"\s*-\s+say\s*:", row)]


def load(path: Path) -> list[Line]:
    text = path.read_text("utf-8")
    data = yaml.safe_load(text) or {}
    entries = data.get("lines") or []
    numbers = _line_numbers(text)
    assert len(numbers) == len(entries), f"{path.name}: write each line as `- say: …` first"
    lines: list[Line] = []
    for number, entry in zip(numbers, entries, strict=True):
        unknown = set(entry) - LINE_KEYS
        assert not unknown, f"{path.name}:{number}: unknown keys {sorted(unknown)}"
        spec = {
            "who": data.get("who", "ana"),
            "known": data.get("known", []),
            "linked": data.get("linked", {}),
            **entry,
        }
        who = spec["who"]
        people = list(PEOPLE) if who == "all" else who if isinstance(who, list) else [who]
        for name in people:
            assert name in PEOPLE, f"{path.name}:{number}: nobody called {name!r}"
            lines.append(Line(path.name, number, spec, name))
    return lines


def corpus_files() -> list[Path]:
    return sorted(JOURNEY.glob("*.yaml"))


# --- playing a line ------------------------------------------------------------------


Snapshot = dict[str, dict[tuple[Any, ...], dict[str, Any]]]


# One statement per table, built once (the team is a bound parameter).
_ROWS_OF_TEAM = {
    table.name: select(table).where(table.c.team_id == bindparam("team_id"))
    for table in TEAM_TABLES
}
_KEYS = {table.name: [column.name for column in table.primary_key.columns] for table in TEAM_TABLES}
# How many rows the team has in each table, in one statement: a line's team has rows
# in two or three tables, and reading every table's rows for it took a statement each.
_COUNTS = union_all(
    *(
        select(literal_column(f"'{table.name}'"), func.count())
        .select_from(table)
        .where(table.c.team_id == bindparam("team_id"))
        for table in TEAM_TABLES
    )
)


def tables_with_rows(session: Session, team_id: str) -> set[str]:
    return {name for name, count in session.execute(_COUNTS, {"team_id": team_id}) if count}


def snapshot(session: Session, team_id: str, tables: Iterable[str] = _ROWS_OF_TEAM) -> Snapshot:
    """Every row this team has in `tables` (all of them by default), keyed by primary key."""
    found: Snapshot = {}
    for name in tables:
        keys = _KEYS[name]
        rows = session.execute(_ROWS_OF_TEAM[name], {"team_id": team_id}).mappings()
        found[name] = {tuple(row[k] for k in keys): dict(row) for row in rows}
    return found


def _kept(row: dict[str, Any] | None, learned: set[str]) -> dict[str, Any] | None:
    return None if row is None else {k: v for k, v in row.items() if k not in learned}


def changes(before: Snapshot, after: Snapshot) -> dict[str, list[dict[str, Any]]]:
    """Rows added or changed, per table (what the app learned about the person aside)."""
    changed: dict[str, list[dict[str, Any]]] = {}
    for name, rows in after.items():
        earlier = before.get(name, {})
        learned = LEARNED.get(name, set())
        new = [
            row
            for key, row in rows.items()
            if _kept(earlier.get(key), learned) != _kept(row, learned)
        ]
        if new or len(rows) != len(earlier):
            changed[name] = new or [{"deleted": len(earlier) - len(rows)}]
    return changed


def record_for(line: Line) -> tuple[str, str | None] | None:
    if "record" in line.spec:
        return line.spec["record"], None
    words = line.spec["say"].split()
    for size in (2, 1):
        found = RECORDS.get(" ".join(words[:size]).lower())
        if found:
            return found
    return None


def same(expected: Any, actual: Any) -> bool:
    if expected is None or actual is None:
        return expected is actual
    if isinstance(expected, date) and isinstance(actual, datetime):
        return False
    return bool(expected == actual or str(expected) == str(actual))


def shown(value: Any) -> str:
    """Rows as a person reads them: dates in ISO, not freezegun's FakeDate(…)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}: {shown(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(shown(item) for item in value) + "]"
    if isinstance(value, date):
        return value.isoformat()
    return repr(value)


@dataclass
class Journey:
    db: SessionFactory
    slack: LocalSlack
    sender: SlackSender
    settings: Settings
    # The frozen clock (freezegun's), moved to each line's instant: starting a new
    # freeze per line would cost more than playing it.
    clock: Any
    zones: dict[str, SlackProfile] = field(default_factory=dict)
    teams: Iterator[int] = field(default_factory=lambda: iter(range(1, 1_000_000)))

    def play(self, line: Line, prefix: str) -> list[str]:
        """Problems with how `line` was read (none: it was read as it should be)."""
        spec, person = line.spec, PEOPLE[line.who]
        team_id = f"TJ{prefix}{next(self.teams):05d}"
        instant = at(str(spec.get("at", NOW)))
        self.clock.move_to(instant)
        self.meet(team_id, person, spec.get("known", []), instant, spec.get("linked") or {})
        channel = spec.get("channel", CHANNEL)
        for earlier in line.texts("before"):
            self.type(earlier, team_id, person, channel)
        after_ack.drain()
        with self.db() as session:
            # The tables the team has no row in are left out, before and after: a
            # table with rows on either side is read on both.
            had = tables_with_rows(session, team_id)
            before = snapshot(session, team_id, had)
        self.slack.clear()
        reply = self.type(spec["say"], team_id, person, channel)
        after_ack.drain()
        with self.db() as session:
            after = snapshot(session, team_id, had | tables_with_rows(session, team_id))
        return self.check(line, reply, changes(before, after), after)

    def meet(
        self,
        team_id: str,
        person: Person,
        known: list[str],
        now: datetime,
        linked: dict[str, str],
    ) -> None:
        """The team's accounts, and the person as the app knows them after a first
        command: their zone and locale from users.info (asked once per person),
        remembered the way bot/slackapi/timezones.py does."""
        if person.user_id not in self.zones:
            client = make_client(self.settings, token="xoxb-test-token")
            self.zones[person.user_id] = slack_profile(client, person.user_id)
        with self.db.begin() as session:
            # Added in one flush: the service's savepoint per account costs more than
            # the line it sets up.
            session.add_all(
                Account(
                    team_id=team_id,
                    key=account_key(name),
                    name=name,
                    owner_id=person.user_id,
                    created_by=person.user_id,
                    created_at=now,
                    channel_id=linked.get(name),
                )
                for name in known
            )
            remember_timezone(
                session,
                team_id=team_id,
                user_id=person.user_id,
                profile=self.zones[person.user_id],
                now=now,
            )

    def type(self, say: str, team_id: str, person: Person, channel: str) -> Reply:
        command, _, text = say.partition(" ")
        body = command_body(
            command,
            text,
            team_id=team_id,
            user_id=person.user_id,
            channel_id=channel,
            response_url=self.sender.response_url,
        )
        response = self.sender.post_signed(body)
        return Reply(response.status_code, response.json() if response.content else {})

    def check(
        self,
        line: Line,
        reply: Reply,
        changed: dict[str, list[dict[str, Any]]],
        after: Snapshot,
    ) -> list[str]:
        spec, problems = line.spec, []
        text = reply.text
        if reply.status != 200:
            problems.append(f"HTTP {reply.status}")
        for wanted in line.texts("reply") + line.texts("error"):
            if wanted not in text:
                problems.append(f"the reply lacks {wanted!r}")
        for unwanted in line.texts("not"):
            if unwanted in text:
                problems.append(f"the reply has {unwanted!r}")
        if "field" in spec and not re.search(rf"\b{re.escape(spec['field'])}\b", text, re.I):
            problems.append(f"the reply does not name the field {spec['field']!r}")
        for method in line.texts("calls"):
            if not self.slack.calls(method):
                problems.append(f"no {method} call")
        if "error" in spec or spec.get("stored") == "nothing":
            if changed:
                problems.append(f"stored {shown(changed)}")
        elif {"account", "date", "fields"} & set(spec):
            problems += self.check_record(line, changed, after)
        if problems:
            problems.append(f"reply was: {text!r}")
        return problems

    def check_record(
        self, line: Line, changed: dict[str, list[dict[str, Any]]], after: Snapshot
    ) -> list[str]:
        spec = line.spec
        record = record_for(line)
        if record is None:
            return ["no `record:` for this command (add one to the line or to RECORDS)"]
        model_name, date_column = record
        model = MODELS[model_name]
        rows = changed.get(model.__tablename__, [])
        if not rows:
            return [f"no {model_name} stored (stored: {sorted(changed) or 'nothing'})"]
        accounts = {row["id"]: row["name"] for row in after.get("accounts", {}).values()}
        expected: dict[str, Any] = dict(spec.get("fields") or {})
        if "date" in spec:
            if date_column is None:
                return [f"no date column known for {model_name}: add it to RECORDS"]
            expected[date_column] = spec["date"]
        columns = {column.key for column in inspect(model).columns}
        missing = set(expected) - columns
        if missing:
            return [f"{model_name} has no column {sorted(missing)}"]

        def account_of(row: dict[str, Any]) -> str | None:
            return (
                row.get("name") if model_name == "Account" else accounts.get(row.get("account_id"))
            )

        def matches(row: dict[str, Any]) -> bool:
            if "account" in spec and account_of(row) != spec["account"]:
                return False
            return all(same(value, row.get(key)) for key, value in expected.items())

        if any(matches(row) for row in rows):
            return []
        found = [
            {"account": account_of(row), **{key: row.get(key) for key in expected}} for row in rows
        ]
        wanted = {"account": spec["account"], **expected} if "account" in spec else expected
        return [f"{model_name} stored as {shown(found)}, not {shown(wanted)}"]


# Plays per test at most: a long file is played as several tests of about equal size,
# so that pytest-xdist can give them to different processes, and the last test left
# running at the end of the suite is a short one.
PLAYS_PER_TEST = 120


def corpus_parts() -> list[Any]:
    """A pytest param per file, or per part of a long file: (path, part, parts)."""
    params = []
    for path in corpus_files():
        parts = max(1, -(-len(load(path)) // PLAYS_PER_TEST))
        for part in range(parts):
            name = path.stem if parts == 1 else f"{path.stem}-{part + 1}of{parts}"
            params.append(pytest.param(path, part, parts, id=name))
    return params


@pytest.mark.parametrize(("path", "part", "parts"), corpus_parts())
def test_journey(
    path: Path,
    part: int,
    parts: int,
    slack_user: SlackSender,
    slack: LocalSlack,
    db: SessionFactory,
    settings: Settings,
) -> None:
    # Workspace admins all: the corpus is about reading what people type, and team-wide
    # settings (holidays) are admin-only (who may change them: tests/test_lifecycle.py).
    for person in PEOPLE.values():
        slack.add_user(person.user_id, tz=person.tz, locale=person.locale, is_admin=True)
    prefix = path.stem[:6].upper()
    lines = load(path)
    size = -(-len(lines) // parts)
    failures: list[str] = []
    with freeze_time(NOW, real_asyncio=True) as clock:
        journey = Journey(db, slack, slack_user, settings, clock)
        # Each part's teams are numbered on from where the part before it stopped.
        journey.teams = iter(range(part * size + 1, 1_000_000))
        for line in lines[part * size : (part + 1) * size]:
            problems = journey.play(line, prefix)
            if "xfail" in line.spec:
                if not problems:
                    failures.append(f"{line.where} now reads right: remove its `xfail`")
            elif problems:
                failures.append(f"{line.where}:\n    " + "\n    ".join(problems))
    assert not failures, f"{len(failures)} line(s) misread:\n" + "\n".join(failures)


def test_journey_parts_play_every_line_once() -> None:
    for path in corpus_files():
        count = len(load(path))
        parts = [p.values for p in corpus_parts() if p.values[0] == path]
        total = parts[0][2]
        size = -(-count // total)
        assert len(parts) == total and [p[1] for p in parts] == list(range(total))
        covered = [i for _, part, _ in parts for i in range(count)[part * size : (part + 1) * size]]
        assert covered == list(range(count)), path.name


def test_journey_corpus_is_well_formed() -> None:
    lines = [line for path in corpus_files() for line in load(path)]
    assert lines, "tests/journey/ has no lines"
    for line in lines:
        record = line.spec.get("record")
        assert record is None or record in MODELS, f"{line.where}: no model {record!r}"
