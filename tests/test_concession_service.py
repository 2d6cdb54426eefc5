"""bot.services.concessions without Slack: tradeables, the balance, history, repeats."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.services import concessions
from bot.services.concessions import ConcessionFields, fits_for_give
from bot.services.errors import NotFound
from storage.db import SessionFactory
from storage.models import ConcessionRevision
from tests.conftest import at

NOW = at("2026-11-22T10:00:00")
TEAM = "T0ACME"


def revisions(session: Session, concession_id: int) -> list[ConcessionRevision]:
    """The entry's stored earlier versions, oldest first (export writes them out)."""
    return list(
        session.scalars(
            select(ConcessionRevision)
            .where(ConcessionRevision.concession_id == concession_id)
            .order_by(ConcessionRevision.changed_at, ConcessionRevision.id)
        )
    )


@pytest.mark.parametrize(
    ("give", "gave", "ask_for"),
    [
        ("5% discount", "price band", "volume commitment"),
        ("50 extra seats", "volume commitment", "price band"),
        ("premium SLA upgrade", "SLA tier", "contract length"),
        ("a multi-year price lock", "contract length", "SLA tier"),
        ("a free pilot for the EMEA team", "pilot scope", "exclusivity window"),
        ("their logo on our site and a joint webinar", "co-marketing assets", "reference rights"),
        ("a named engineer on escalation", "escalation speed", "credit size"),
        ("bigger service credits", "credit size", "escalation speed"),
        ("a 30-day notice period", "renewal notice period", "flexibility"),
        ("the right to downgrade mid-term", "flexibility", "renewal notice period"),
    ],
)
def test_a_give_is_matched_to_one_side_of_a_tradeable(give: str, gave: str, ask_for: str) -> None:
    best = fits_for_give(give)[0]
    assert (best.gave.name, best.ask_for.name) == (gave, ask_for)


def test_a_give_that_fits_nothing_has_no_tradeable() -> None:
    assert fits_for_give("a nice lunch") == []


def test_every_tradeable_side_has_words_and_an_ask() -> None:
    library = concessions.tradeables()
    assert len(library) == 7
    for tradeable in library:
        for side in tradeable.sides:
            assert side.words and side.ask and side.name


def log(db: SessionFactory, give: str, get: str | None = None, **kw: object) -> int:
    with db.begin() as session:
        logged = concessions.log_concession(
            session,
            team_id=TEAM,
            account_name="acme",
            user_id="U0ALICE",
            values=ConcessionFields(give=give, get=get),
            now=NOW,
            **kw,  # type: ignore[arg-type]
        )
        return logged.entry.id


def test_withdrawn_gives_leave_the_balance_but_not_the_log(db: SessionFactory) -> None:
    log(db, "a", "b")
    one_way = log(db, "c")
    with db.begin() as session:
        concessions.withdraw_concession(
            session, team_id=TEAM, concession_id=one_way, user_id="U0BOB", now=NOW
        )
        # A second click changes nothing and keeps one history row.
        concessions.withdraw_concession(
            session,
            team_id=TEAM,
            concession_id=one_way,
            user_id="U0BOB",
            now=NOW + timedelta(minutes=1),
        )
    with db() as session:
        page = concessions.concession_log(session, team_id=TEAM, account_name="acme")
        history = revisions(session, one_way)
    assert page.balance == concessions.Balance(traded=1, one_way=0, withdrawn=1)
    assert len(page.entries) == 2
    assert [r.change for r in history] == ["withdrawn"]


def test_each_reply_shows_the_balance_the_log_holds_after_its_give(db: SessionFactory) -> None:
    """The reply counts the account's log before the insert and adds the new give:
    after every step it must equal a fresh count, withdrawn gives and other accounts
    and teams included."""
    steps: list[tuple[str, str | None, str, str]] = [
        ("acme", "5% off", None, TEAM),
        ("Acme ", "extra seats", "a case study", TEAM),  # same account, other spelling
        ("globex", "a pilot", None, TEAM),
        ("acme", "free onboarding", None, "T0OTHER"),  # another team's acme
        ("acme", "net 60", None, TEAM),
    ]
    first = 0
    for number, (account, give, get, team) in enumerate(steps):
        with db.begin() as session:
            logged = concessions.log_concession(
                session,
                team_id=team,
                account_name=account,
                user_id="U0ALICE",
                values=ConcessionFields(give=give, get=get),
                now=NOW,
            )
        with db() as session:
            fresh = concessions.balance_of(
                session, team_id=team, account_id=logged.entry.account_id
            )
        assert logged.balance == fresh, (number, account, team)
        first = first or logged.entry.id
        if number == 1:  # from here on, the first give is withdrawn
            with db.begin() as session:
                concessions.withdraw_concession(
                    session, team_id=TEAM, concession_id=first, user_id="U0BOB", now=NOW
                )
    with db() as session:
        page = concessions.concession_log(session, team_id=TEAM, account_name="acme")
    assert page.balance == concessions.Balance(traded=1, one_way=1, withdrawn=1)


def test_an_edit_keeps_the_old_values_and_an_unchanged_one_writes_nothing(
    db: SessionFactory,
) -> None:
    entry_id = log(db, "5% off")
    for give in ("4% off", "4% off"):
        with db.begin() as session:
            concessions.edit_concession(
                session,
                team_id=TEAM,
                concession_id=entry_id,
                user_id="U0BOB",
                values=ConcessionFields(give=give, get="24 months"),
                now=NOW,
            )
    with db() as session:
        history = revisions(session, entry_id)
    assert [(r.give, r.get, r.changed_by) for r in history] == [("5% off", None, "U0BOB")]


def test_another_teams_entry_is_not_found(db: SessionFactory) -> None:
    entry_id = log(db, "free onboarding")
    with db.begin() as session, pytest.raises(NotFound):
        concessions.withdraw_concession(
            session, team_id="T0OTHER", concession_id=entry_id, user_id="U0X", now=NOW
        )


def test_the_same_form_logs_once(db: SessionFactory) -> None:
    first = log(db, "free onboarding", source_key="view:V1")
    again = log(db, "free onboarding", source_key="view:V1")
    assert first == again
    with db() as session:
        page = concessions.concession_log(session, team_id=TEAM, account_name="acme")
    assert page.balance.total == 1


def test_pages_hold_the_newest_first(db: SessionFactory) -> None:
    for number in range(concessions.LOG_PAGE + 3):
        with db.begin() as session:
            concessions.log_concession(
                session,
                team_id=TEAM,
                account_name="acme",
                user_id="U0ALICE",
                values=ConcessionFields(give=f"give {number}"),
                now=NOW + timedelta(minutes=number),
            )
    with db() as session:
        first = concessions.concession_log(session, team_id=TEAM, account_name="acme")
        second = concessions.concession_log(session, team_id=TEAM, account_name="acme", page=2)
    assert first.entries[0].give == f"give {concessions.LOG_PAGE + 2}"
    assert (first.pages, first.has_older, first.has_newer) == (2, True, False)
    assert [e.give for e in second.entries] == ["give 2", "give 1", "give 0"]
    assert second.older == 0 and first.older == 3


def test_trades_suggested_for_a_log_skip_gives_already_traded(db: SessionFactory) -> None:
    log(db, "5% discount", "a 24-month term")
    with db() as session:
        settled = concessions.concession_log(session, team_id=TEAM, account_name="acme")
    assert settled.fits == ()

    log(db, "a free pilot for the EMEA team")
    with db() as session:
        open_give = concessions.concession_log(session, team_id=TEAM, account_name="acme")
    assert [(f.gave.name, f.give) for f in open_give.fits] == [
        ("pilot scope", "a free pilot for the EMEA team")
    ]
