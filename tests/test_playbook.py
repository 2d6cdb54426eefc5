"""/rapport prompt|pitfalls|checklist|templates, the library behind them, and team files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import Engine

from bot.app.bolt import build_app
from bot.app.server import make_asgi
from bot.config import Settings
from bot.services.playbook_search import find_prompt
from messages.playbook import PlaybookError, load_playbook
from storage.db import make_session_factory
from storage.models import RELATIONSHIP_TYPES
from tests.slackkit import ServerThread, SlackSender

SEED_SITUATIONS = {
    "new-client": "new client intro",
    "price": "price negotiation",
    "objection": "post-objection",
    "stakeholders": "multi-stakeholder meeting",
    "renewal": "renewal",
}
SEED_MOVES = {
    "align-purpose": "align on purpose",
    "risk-sharing": "offer risk-sharing",
    "owners-cadence": "name owners and cadence",
    "value-metrics": "tie value to metrics",
    "exit-ramps": "add exit ramps",
    "relationship-care": "relationship care after close",
}

TEAM_FILE = """
situations:
  price:
    line: "Our team line: let's compare the three-year cost, not the sticker."
  onsite-visit:
    title: Visiting their site
    aliases: [site visit, onsite]
    line: "Could you walk me through how your team uses this day to day?"
    why: Seeing the work first-hand shows respect and surfaces needs nobody wrote down.
    risk: Don't turn the visit into a sales pitch.
  renewal: null
pitfalls:
  late-pricing:
    title: Sending prices before the call
    why: The number arrives without the reasons for it.
    fix: Walk through the value live, then send the number.
"""


def write(tmp_path: Path, text: str, name: str = "team.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, "utf-8")
    return path


# --- the library ------------------------------------------------------------------


def test_built_in_library_has_the_seed_situations_moves_and_lists() -> None:
    library = load_playbook()
    situations = {p.key for p in library.situations}
    moves = {p.key: p for p in library.moves}
    assert set(SEED_SITUATIONS) <= situations
    assert set(SEED_MOVES) <= set(moves)
    assert all(m.when and m.signal for m in moves.values())
    assert len(library.pitfalls) >= 14  # both seeds' tables
    kinds = {item.kind for item in library.checklist}
    assert kinds == {"do", "avoid"}
    assert len(library.templates) >= 5
    assert tuple(k.key for k in library.relationship_types) == RELATIONSHIP_TYPES


@pytest.mark.parametrize(
    ("words", "key"),
    [
        ("price", "price"),
        ("objection", "objection"),
        ("renew", "renewal"),
        ("intro", "new-client"),
        ("stakeholders", "stakeholders"),
        ("exit", "exit-ramps"),
        ("Renwal", "renewal"),  # a typo
        ("stakeholdrs", "stakeholders"),
        ("PRICE!!", "price"),
        # Meaning words: a topic named beside a reaction is the topic's talk.
        ("price pushback", "price"),
        ("pushback on price", "price"),
        ("budget", "price"),
        ("discount", "price"),
        ("they say we're too expensive", "price"),
        ("budget objection", "price"),
        ("pushback on the renewal", "renewal"),
        ("pushback", "objection"),
        ("a concern they raised", "objection"),
        *[(words, key) for key, words in SEED_SITUATIONS.items()],
        *[(words, key) for key, words in SEED_MOVES.items()],
    ],
)
def test_loose_words_find_the_right_prompt(words: str, key: str) -> None:
    match = find_prompt(load_playbook(), words)
    assert match.prompt is not None and match.prompt.key == key


def test_a_broad_reaction_is_kept_as_related_when_a_topic_wins() -> None:
    match = find_prompt(load_playbook(), "price pushback")
    assert [p.key for p in match.related][:1] == ["objection"]


def test_broad_must_be_true_or_false(tmp_path: Path) -> None:
    path = write(tmp_path, "situations:\n  objection:\n    broad: sometimes\n")
    with pytest.raises(PlaybookError, match="`broad` must be true or false"):
        load_playbook(path)


@pytest.mark.parametrize("words", ["", "   ", "banana", "zzzz qqqq", "\x00", "<!here>"])
def test_unrelated_words_find_nothing(words: str) -> None:
    assert find_prompt(load_playbook(), words).prompt is None


def test_team_file_overrides_extends_and_removes_by_key(tmp_path: Path) -> None:
    library = load_playbook(write(tmp_path, TEAM_FILE))

    price = find_prompt(library, "price").prompt
    assert price is not None
    assert price.line.startswith("Our team line")
    assert price.why == find_prompt(load_playbook(), "price").prompt.why  # type: ignore[union-attr]
    visit = find_prompt(library, "site visit").prompt
    assert visit is not None and visit.key == "onsite-visit"
    assert "renewal" not in {p.key for p in library.prompts}
    assert library.pitfalls[-1].key == "late-pricing"
    assert len(library.pitfalls) == len(load_playbook().pitfalls) + 1


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("situations:\n  price:\n    wyh: typo\n", "situations.price: unknown field `wyh`"),
        ("situations:\n  brand-new:\n    title: X\n", "situations.brand-new: `line` is missing"),
        ("moves:\n  exit-ramps:\n    signal: ''\n", "moves.exit-ramps: `signal` must be non-empty"),
        ("pitfalls:\n  Bad Key:\n    title: a\n    why: b\n    fix: c\n", "pitfalls.Bad Key"),
        ("checklist:\n  x:\n    kind: maybe\n    text: y\n", "checklist.x: `kind` is `do`"),
        ("relationship_types:\n  friendly:\n    label: F\n    description: D\n", "fixed"),
        ("situations:\n  price:\n    line: " + "x" * 600 + "\n", "the limit is 500"),
        (
            "situations:\n  price:\n    aliases: [objection]\n",
            "situations.price: `objection` also leads to objection",
        ),
        ("recipes:\n  a: {}\n", "unknown section 'recipes'"),
        ("situations: [1, 2]\n", "situations must be a mapping"),
        ("situations:\n  price: [1]\n", "situations.price: an entry must be a mapping"),
        ("- just\n- a list\n", "the top level must be a mapping"),
        ("situations: {price: [\n", "not valid YAML"),
    ],
)
def test_malformed_team_file_names_the_file_and_entry(
    tmp_path: Path, text: str, named: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(PlaybookError) as raised:
        load_playbook(path)
    assert str(path) in str(raised.value)
    assert named in str(raised.value)


def test_missing_team_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(PlaybookError, match="cannot be read"):
        load_playbook(tmp_path / "nowhere.yaml")


def test_bad_team_file_stops_startup(tmp_path: Path) -> None:
    path = write(tmp_path, "situations:\n  price:\n    wyh: typo\n")
    with pytest.raises(ValidationError) as raised:
        Settings(_env_file=None, playbook_file=path)  # type: ignore[call-arg]
    assert str(path) in str(raised.value) and "situations.price" in str(raised.value)


# --- through the app ----------------------------------------------------------------


@pytest.mark.parametrize(("words", "title"), [("price", "Price negotiation"), ("renew", "Renewal")])
def test_prompt_answers_with_line_why_and_risk(
    slack_user: SlackSender, words: str, title: str
) -> None:
    reply = slack_user.command("/rapport", f"prompt {words}")

    assert reply.status == 200 and reply.ephemeral
    assert title in reply.text
    for label in ("Say:", "Why it works", "Risk to watch"):
        assert label in reply.text
    assert "When to use it" not in reply.text


def test_prompt_for_a_move_adds_when_and_signal(slack_user: SlackSender) -> None:
    reply = slack_user.command("/rapport", "prompt exit")

    assert "Add exit ramps" in reply.text
    for label in ("When to use it", "Signal to adjust", "Risk to watch"):
        assert label in reply.text


def test_unknown_situation_lists_the_known_ones(slack_user: SlackSender) -> None:
    reply = slack_user.command("/rapport", "prompt <!channel> banana")

    assert reply.ephemeral
    assert "I have no line for" in reply.text
    assert "<!channel>" not in str(reply.body)
    for title in ("Price negotiation", "Renewal conversation", "Add exit ramps"):
        assert title in reply.text


def test_prompt_alone_lists_everything(slack_user: SlackSender) -> None:
    reply = slack_user.command("/rapport", "prompt")
    assert "I have no line" not in reply.text
    assert "Meeting with several stakeholders" in reply.text


def test_pitfalls_are_paged_with_corrections(slack_user: SlackSender) -> None:
    first = slack_user.command("/rapport", "pitfalls")
    second = slack_user.command("/rapport", "pitfalls 2")

    assert first.ephemeral and "Page 1 of 2" in first.text
    assert "`/rapport pitfalls 2`" in first.text
    assert "Getting familiar too soon" in first.text and "Instead:" in first.text
    assert "Leaving no way out" in second.text
    assert "Getting familiar too soon" not in second.text


def test_pitfalls_narrowed_by_a_word(slack_user: SlackSender) -> None:
    reply = slack_user.command("/rapport", "pitfalls governance")
    assert "Leaving governance vague" in reply.text
    assert "Getting familiar too soon" not in reply.text


def test_pitfall_page_out_of_range_says_how_many(slack_user: SlackSender) -> None:
    reply = slack_user.command("/rapport", "pitfalls 9")
    assert reply.status == 200 and reply.ephemeral
    assert "I read page 9, but there are 2 pages" in reply.text


def test_checklist_shows_do_and_avoid(slack_user: SlackSender) -> None:
    reply = slack_user.command("/rapport", "checklist")
    assert reply.ephemeral
    assert "*Do*" in reply.text and "*Avoid*" in reply.text
    assert "Open with questions about them" in reply.text


def test_templates_show_the_blanks(slack_user: SlackSender) -> None:
    reply = slack_user.command("/rapport", "templates")
    assert reply.ephemeral
    assert "[pilot scope]" in reply.text
    assert "Three equivalent options (MESO)" in reply.text


def test_help_lists_the_new_subcommands(slack_user: SlackSender) -> None:
    reply = slack_user.command("/rapport", "help")
    for name in ("prompt", "pitfalls", "checklist", "templates", "account", "governance"):
        assert f"`/rapport {name}" in reply.text


@pytest.fixture
def team_sender(
    tmp_path: Path, settings: Settings, engine: Engine, slack_user: SlackSender
) -> Iterator[SlackSender]:
    """A second Rapport, configured with a team playbook file."""
    team_settings = Settings(
        **{**settings.model_dump(), "playbook_file": write(tmp_path, TEAM_FILE)},
        _env_file=None,  # type: ignore[call-arg]
    )
    app = build_app(team_settings, db=make_session_factory(engine))
    server = ServerThread(make_asgi(app, engine, team_settings)).start()
    sender = SlackSender(server.url, slack_user.response_url)
    yield sender
    sender.close()
    server.stop()


def test_team_playbook_file_overrides_and_extends_through_the_app(
    team_sender: SlackSender,
) -> None:
    assert "Our team line" in team_sender.command("/rapport", "prompt price").text
    assert "Visiting their site" in team_sender.command("/rapport", "prompt onsite").text
    assert "I have no line" in team_sender.command("/rapport", "prompt renewal").text
    assert "Sending prices before the call" in team_sender.command("/rapport", "pitfalls 2").text
