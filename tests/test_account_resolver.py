"""The account resolver, without Slack: how typed text is read as an account.

The near-miss allowance (bot.services.accounts.typos_allowed) is justified here over
realistic names: every typo below must be recognised, and none of the new names or
everyday words may be taken for a known account.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from bot.services.accounts import (
    KnownAccount,
    Reading,
    get_or_create_account,
    match_key,
    name_words,
    read_account,
    resolve_account,
)
from bot.services.errors import AccountUnsure, UsageError
from storage.db import SessionFactory
from storage.models import Account

KNOWN_NAMES = [
    "Globex",
    "Globex Logistics",
    "Initech",
    "Acme Corp",
    "Umbrella Corporation",
    "Hooli",
    "Soylent",
    "Cyberdyne Systems",
    "Wayne Enterprises",
    "Stark Industries",
    "Pied Piper",
    "Dunder Mifflin",
    "Vandelay Industries",
    "Massive Dynamic",
    "Aperture Science",
    "Tyrell Corporation",
    "Oscorp",
    "Gringotts",
    "Oracle",
    "Siemens AG",
    "Société Générale",
    "Procter & Gamble",
    "Salesforce",
    "Microsoft",
    "Deutsche Telekom",
    "Nestlé S.A.",
    "IBM",
    "SAP",
]
KNOWN = [KnownAccount(id=index + 1, name=name) for index, name in enumerate(KNOWN_NAMES)]
BY_NAME = {account.name: account for account in KNOWN}


def read(text: str, **options: object) -> Reading | None:
    return read_account(text, KNOWN, **options)  # type: ignore[arg-type]


def asked(text: str, **options: object) -> AccountUnsure:
    with pytest.raises(AccountUnsure) as raised:
        read(text, **options)
    return raised.value


# --- Names that are the same account -----------------------------------------------


@pytest.mark.parametrize(
    ("typed", "known"),
    [
        ("acme corp", "Acme Corp"),
        ("ACME", "Acme Corp"),
        ("Acme, Inc.", "Acme Corp"),
        ("acme  corporation", "Acme Corp"),
        ("Umbrella", "Umbrella Corporation"),
        ("umbrella corp.", "Umbrella Corporation"),
        ("Siemens", "Siemens AG"),
        ("Nestle", "Nestlé S.A."),
        ("Societe Generale SA", "Société Générale"),
        ("Procter and Gamble", "Procter & Gamble"),
        ("procter&gamble", "Procter & Gamble"),
        ("Pied-Piper", "Pied Piper"),
        ("Tyrell Corp", "Tyrell Corporation"),
        # A suffix typed with a typo is the name's, not the start of the task (issue 11).
        ("Acme Crop", "Acme Corp"),
        ("acme corps", "Acme Corp"),
        ("Umbrella Corporatoin", "Umbrella Corporation"),
    ],
)
def test_case_spacing_punctuation_and_legal_suffixes_are_one_account(
    typed: str, known: str
) -> None:
    reading = read(f"{typed} send the deck")
    assert reading == Reading(name=known, rest="send the deck", account_id=BY_NAME[known].id)
    assert read(typed, whole=True) == Reading(name=known, rest="", account_id=BY_NAME[known].id)


def test_the_longest_known_name_at_the_start_wins() -> None:
    assert read("Globex Logistics send deck") == Reading(
        name="Globex Logistics", rest="send deck", account_id=BY_NAME["Globex Logistics"].id
    )
    assert read("Globex send deck") == Reading(
        name="Globex", rest="send deck", account_id=BY_NAME["Globex"].id
    )
    assert read("Acme Corp send deck") == Reading(
        name="Acme Corp", rest="send deck", account_id=BY_NAME["Acme Corp"].id
    )


def test_a_word_near_no_suffix_of_the_name_stays_in_the_rest() -> None:
    assert read("Acme cartridges due") == Reading(
        name="Acme Corp", rest="cartridges due", account_id=BY_NAME["Acme Corp"].id
    )
    assert read("Globex Crop report") == Reading(
        name="Globex", rest="Crop report", account_id=BY_NAME["Globex"].id
    )


def test_a_legal_suffix_is_never_the_whole_name() -> None:
    assert name_words("Company") == ("company",)
    assert name_words("Acme Pty. Ltd.") == ("acme",)
    assert match_key("AT&T") == "atandt" == match_key("AT & T")


# --- Near misses: the threshold, over realistic names ------------------------------

TYPOS = [
    ("Globx", "Globex"),
    ("Glbex", "Globex"),
    ("Intiech", "Initech"),
    ("Initec", "Initech"),
    ("Umbrela", "Umbrella Corporation"),
    ("Hoolli", "Hooli"),
    ("Soylnet", "Soylent"),
    ("Cyberdine Systems", "Cyberdyne Systems"),
    ("Wayne Enterprizes", "Wayne Enterprises"),
    ("Stark Industires", "Stark Industries"),
    ("Pied Pipper", "Pied Piper"),
    ("Dunder Mifflen", "Dunder Mifflin"),
    ("Vandalay Industries", "Vandelay Industries"),
    ("Massive Dynamics", "Massive Dynamic"),
    ("Aperture Sciense", "Aperture Science"),
    ("Tyrel", "Tyrell Corporation"),
    ("Oscrop", "Oscorp"),
    ("Gringots", "Gringotts"),
    ("Orcale", "Oracle"),
    ("Siemans", "Siemens AG"),
    ("Societe Generalle", "Société Générale"),
    ("Procter and Gambel", "Procter & Gamble"),
    ("Salesfroce", "Salesforce"),
    ("Mircosoft", "Microsoft"),
    ("Deutsche Telecom", "Deutsche Telekom"),
    # A word left out.
    ("Stark", "Stark Industries"),
    ("Dunder", "Dunder Mifflin"),
    ("Piper", "Pied Piper"),
    ("Cyberdyne", "Cyberdyne Systems"),
]


@pytest.mark.parametrize(("typed", "meant"), TYPOS)
def test_a_typo_or_a_missing_word_asks_about_the_known_name(typed: str, meant: str) -> None:
    for text, whole in ((f"{typed} send the deck", False), (typed, True)):
        question = asked(text, whole=whole)
        assert question.options[0].name == meant, text
        assert question.typed == typed
        assert question.new_name == typed
        assert question.options[0].rest == ("" if whole else "send the deck")


# New customers and everyday words that must not be taken for any of the names above.
NOT_NEAR = [
    "Initrode",
    "Intel",
    "Orange",
    "Globo",
    "Hulu",
    "Sony",
    "Tesla",
    "Nike",
    "Zendesk",
    "Atlassian",
    "Stripe",
    "Shopify",
    "Umbra",
    "Oscar",
    "SAS",
    "IBN",
    "Micron",
    "Telstra",
    "demo",
    "pricing",
    "renewal",
    "contract",
    "lunch",
    "quote",
    "proposal",
    "invoice",
    "onboarding",
    "security",
    "legal",
    "budget",
]


@pytest.mark.parametrize("typed", NOT_NEAR)
def test_names_not_near_any_known_one_are_new(typed: str) -> None:
    first = typed.split()[0]
    assert read(f"{typed} follow-up notes") == Reading(
        name=first, rest=" ".join([*typed.split()[1:], "follow-up notes"])
    )
    assert read(typed, whole=True) == Reading(name=typed, rest="")


@pytest.mark.parametrize(
    ("text", "name", "rest"),
    [
        ("Acumen Partners follow-up notes", "Acumen Partners", "follow-up notes"),
        ("Blue Harbor send the security pack", "Blue Harbor", "send the security pack"),
        ("Blue Harbor Logistics pricing deck", "Blue Harbor Logistics", "pricing deck"),
    ],
)
def test_a_new_name_of_capitalised_words_without_quotes_is_asked_about(
    text: str, name: str, rest: str
) -> None:
    # Taking the first word would log "Harbor send the security pack" for "Blue".
    question = asked(text)
    assert (question.new_name, question.new_rest, question.shorter_name) == (
        name,
        rest,
        text.split()[0],
    )
    assert question.options == ()


@pytest.mark.parametrize(
    "text",
    [
        "Blue send the deck",  # a lower-case word: the task
        "Blue Send the deck",  # a task word, capitalised
        "Blue Due: friday",  # a field
        "Blue Harbor",  # nothing would be left to do
    ],
)
def test_a_new_name_followed_by_no_capitalised_name_word_is_one_word(text: str) -> None:
    assert read(text) == Reading(name="Blue", rest=" ".join(text.split()[1:]))


def test_a_quoted_or_whole_new_name_is_never_asked_about() -> None:
    assert read('"Blue" Harbor send') == Reading(name="Blue", rest="Harbor send")
    assert read("Blue Harbor", whole=True) == Reading(name="Blue Harbor", rest="")
    assert read("Blue Harbor send", creates=False) == Reading(name="Blue Harbor", rest="send")


def test_a_four_letter_name_a_letter_off_is_asked_about() -> None:
    # "Acne Studios" is a brand of its own, but one letter from Acme: ask, once.
    assert [o.name for o in asked("Acne Studios call").options] == ["Acme Corp"]


def test_names_that_differ_in_their_numbers_are_different_accounts() -> None:
    known = [KnownAccount(1, "Acme1"), KnownAccount(2, "Plant 2 Logistics")]
    assert read_account("Acme2 call", known) == Reading(name="Acme2", rest="call")
    assert read_account("Plant 3 Logistics", known, whole=True) == Reading("Plant 3 Logistics", "")
    # A letter off, the number kept: still a typo.
    assert [o.name for o in asked_in(known, "Acne1 call").options] == ["Acme1"]


def test_a_name_inside_the_first_word_is_no_mention() -> None:
    assert read_account("00:Globex", KNOWN, whole=True, creates=False) == Reading("00:Globex", "")


def test_three_letter_names_must_be_exact() -> None:
    # SAP and SAS, IBM and IBN: all real companies a letter apart.
    assert read("SAS intro call", creates=True) == Reading(name="SAS", rest="intro call")
    assert read("sap intro call") == Reading(name="SAP", rest="intro call", account_id=28)


def test_a_known_name_further_on_is_asked_about() -> None:
    question = asked("send deck to globex")
    assert [o.name for o in question.options] == ["Globex"]
    # Chosen, the account leaves all of the text as what will be done.
    assert question.options[0].rest == "send deck to globex"
    # "send" is a task word: not offered as a new account.
    assert question.new_name is None
    assert question.named_later and question.problem.startswith("Which account?")
    whole = asked("the globex renewal", whole=True)
    assert [o.name for o in whole.options] == ["Globex"]
    assert whole.options[0].rest == ""
    assert whole.new_name == "the globex renewal"


def test_a_known_name_with_more_words_is_asked_about_where_only_the_text_is() -> None:
    question = asked("Acme Corp yay", whole=True)
    assert [o.name for o in question.options] == ["Acme Corp"]
    assert question.new_name == "Acme Corp yay"
    longer = asked("Globex Logistcs send deck")
    assert [(o.name, o.rest) for o in longer.options] == [
        ("Globex Logistics", "send deck"),
        ("Globex", "Logistcs send deck"),
    ]


def test_a_command_that_makes_no_accounts_offers_no_new_one() -> None:
    assert asked("Globx", whole=True, creates=False).new_name is None


def test_a_task_word_first_is_not_an_account() -> None:
    with pytest.raises(UsageError, match="start of what to do"):
        read("send deck due")
    # Quoted, it is a name like any other.
    assert read('"Send" deck') == Reading(name="Send", rest="deck")


# --- Quotes ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "quoted",
    [
        '"Blue Sky Mining" call',
        "“Blue Sky Mining” call",
        "‘Blue Sky Mining’ call",
        "'Blue Sky Mining' call",
    ],
)
def test_quotes_keep_a_new_name_of_several_words_whole(quoted: str) -> None:
    assert read(quoted) == Reading(name="Blue Sky Mining", rest="call")


def test_a_quoted_near_miss_is_taken_as_written() -> None:
    # Quotes say "exactly this": the rep's way to a new name close to a known one.
    assert read('"Globx" send deck') == Reading(name="Globx", rest="send deck")
    assert read('"acme corp." send') == Reading(name="Acme Corp", rest="send", account_id=4)


# --- A channel linked to an account -------------------------------------------------


def linked(channel: str = "C0GLOBEX") -> list[KnownAccount]:
    return [
        KnownAccount(id=a.id, name=a.name, channel_id=channel if a.name == "Globex" else None)
        for a in KNOWN
    ]


def test_in_an_accounts_channel_the_account_may_be_left_out() -> None:
    known = linked()
    assert read_account("send deck", known, channel_id="C0GLOBEX") == Reading(
        name="Globex", rest="send deck", account_id=1
    )
    assert read_account("", known, whole=True, channel_id="C0GLOBEX") == Reading(
        name="Globex", rest="", account_id=1
    )
    # Another account named first is still that account.
    assert read_account("Initech send deck", known, channel_id="C0GLOBEX") == Reading(
        name="Initech", rest="send deck", account_id=3
    )
    # Elsewhere, nothing to fall back on.
    assert read_account("", known, whole=True, channel_id="C0OTHER") is None


def test_in_an_accounts_channel_a_near_miss_offers_the_channels_account_too() -> None:
    question = asked_in(linked(), "Intiech send deck", channel_id="C0GLOBEX")
    assert [(o.name, o.rest) for o in question.options] == [
        ("Initech", "send deck"),
        ("Globex", "Intiech send deck"),
    ]


def asked_in(known: list[KnownAccount], text: str, **options: object) -> AccountUnsure:
    with pytest.raises(AccountUnsure) as raised:
        read_account(text, known, **options)  # type: ignore[arg-type]
    return raised.value


def test_a_channel_linked_to_two_accounts_needs_the_name() -> None:
    known = [KnownAccount(1, "Globex", "C1"), KnownAccount(2, "Initech", "C1")]
    with pytest.raises(UsageError, match="several accounts"):
        read_account("", known, whole=True, channel_id="C1")


def test_two_accounts_with_one_match_key_pick_the_one_written_so() -> None:
    known = [KnownAccount(1, "Acme"), KnownAccount(2, "Acme Inc")]
    assert read_account("Acme Inc", known, whole=True) == Reading("Acme Inc", "", 2)
    question = asked_in(known, "ACME, inc.", whole=True)
    assert {o.name for o in question.options} == {"Acme", "Acme Inc"}


# --- Properties --------------------------------------------------------------------

_LETTERS = "abcdefghijklmnopqrstuvwxyz"
word = st.text(alphabet=_LETTERS, min_size=4, max_size=10)
known_name = st.lists(word, min_size=1, max_size=3).map(
    lambda words: " ".join(w.title() for w in words)
)


@st.composite
def one_edit(draw: st.DrawFn, name: str) -> str:
    """`name` with one letter inserted, deleted, replaced, or two neighbours swapped."""
    letters = [i for i, c in enumerate(name) if c != " "]
    at = draw(st.sampled_from(letters))
    kind = draw(st.sampled_from(["insert", "delete", "replace", "swap"]))
    letter = draw(st.sampled_from(_LETTERS))
    if kind == "insert":
        return name[:at] + letter + name[at:]
    if kind == "delete":
        return name[:at] + name[at + 1 :]
    if kind == "replace":
        return name[:at] + letter + name[at + 1 :]
    if at + 1 < len(name) and name[at + 1] != " ":
        return name[:at] + name[at + 1] + name[at] + name[at + 2 :]
    return name[:at] + letter + name[at + 1 :]


@given(data=st.data(), name=known_name)
def test_property_a_known_name_with_one_edit_suggests_that_name(
    data: st.DataObject, name: str
) -> None:
    typed = data.draw(one_edit(name))
    # An edit that makes a word a legal suffix (…"corp") changes more than one letter.
    assume(len(name_words(typed)) == len(name_words(name)) == len(name.split()))
    assume(typed.split()[0].casefold() not in ("send",))
    account = KnownAccount(id=7, name=name)
    known = [account, *KNOWN]
    for text, whole in ((typed, True), (f"{typed} send the deck", False)):
        try:
            reading = read_account(text, known, whole=whole)
        except AccountUnsure as question:
            assert account.id in [o.account_id for o in question.options], (name, typed)
        else:
            # The edit changed only case, or made it another known name exactly.
            assert reading is not None and reading.account_id is not None, (name, typed, reading)


quote_pairs = st.sampled_from([('"', '"'), ("“", "”"), ("‘", "’"), ("'", "'")])
inner = st.text(
    alphabet=st.characters(blacklist_characters="\"'“”‘’„«»", blacklist_categories=("Cs", "Cc")),
    min_size=1,
    max_size=60,
)


@given(quotes=quote_pairs, name=inner, rest=st.text(alphabet=_LETTERS + " :", max_size=30))
def test_property_a_quoted_name_is_never_split(
    quotes: tuple[str, str], name: str, rest: str
) -> None:
    cleaned = " ".join(name.split())
    assume(cleaned)
    text = f"{quotes[0]}{name}{quotes[1]} {rest}"
    reading = read_account(text, KNOWN)
    assert reading is not None
    if reading.is_new:
        assert reading.name == cleaned
    else:
        assert match_key(reading.name) == match_key(cleaned)
    assert reading.rest == " ".join(rest.split())


# --- Against the database ----------------------------------------------------------

NOW = datetime(2026, 12, 3, 10, tzinfo=UTC)


def seed(db: SessionFactory, *names: str, team: str = "T0ACME") -> dict[str, int]:
    with db.begin() as session:
        made = [
            get_or_create_account(session, team_id=team, name=n, user_id="U0ALICE", now=NOW)
            for n in names
        ]
        session.flush()
        return {account.name: account.id for account in made}


def test_resolve_reads_only_the_teams_own_accounts(db: SessionFactory) -> None:
    seed(db, "Globex", team="T0OTHER")
    with db.begin() as session:
        # Another team's Globex is no near miss here: Globx is simply new.
        reading = resolve_account(session, team_id="T0ACME", text="Globx send", whole=False)
    assert reading == Reading(name="Globx", rest="send")


def test_resolve_answers_a_question_with_the_choice(db: SessionFactory) -> None:
    ids = seed(db, "Globex", "Initech")
    with db.begin() as session:
        with pytest.raises(AccountUnsure):
            resolve_account(session, team_id="T0ACME", text="Globx send deck")
        chosen = resolve_account(
            session, team_id="T0ACME", text="Globx send deck", choice=ids["Globex"]
        )
        new = resolve_account(session, team_id="T0ACME", text="Globx send deck", choice=0)
        # Not one of the answers the question offers: refused.
        with pytest.raises(UsageError, match="changed since I asked"):
            resolve_account(
                session, team_id="T0ACME", text="Globx send deck", choice=ids["Initech"]
            )
    assert chosen == Reading(name="Globex", rest="send deck", account_id=ids["Globex"])
    assert new == Reading(name="Globx", rest="send deck")


def test_resolve_takes_the_channels_account(db: SessionFactory) -> None:
    ids = seed(db, "Globex")
    with db.begin() as session:
        session.get_one(Account, ids["Globex"]).channel_id = "C0GLOBEX"
    with db.begin() as session:
        reading = resolve_account(
            session, team_id="T0ACME", text="", whole=True, channel_id="C0GLOBEX"
        )
    assert reading == Reading(name="Globex", rest="", account_id=ids["Globex"])


def test_resolve_refuses_a_new_name_too_long_to_keep(db: SessionFactory) -> None:
    with db.begin() as session, pytest.raises(UsageError, match="up to 80"):
        resolve_account(session, team_id="T0ACME", text="x" * 81, whole=True)


def test_a_shortened_name_is_offered_where_the_command_only_looks_up() -> None:
    # `/rapport account Glob history`: nothing is created, so a question costs nothing.
    question = asked("Glob", whole=True, creates=False)
    assert [o.name for o in question.options] == ["Globex", "Globex Logistics"]
    assert question.new_name is None
    # A command that creates accounts takes a new name that shares a known one's start.
    assert read("Umbra", whole=True) == Reading(name="Umbra", rest="")
    assert read("Gl", whole=True, creates=False) == Reading(name="Gl", rest="")
