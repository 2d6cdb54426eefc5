"""Two transactions adding the same unique row at once: the loser's insert breaks the
key under a savepoint, and it carries on with the row that won
(storage/upsert.py, `add_or_read_winner`).

The winner's transaction commits first; in the loser's, the service's own "is it
there already?" look misses once, as it did when the loser looked before the winner
committed, so that the loser's insert meets the winner's row.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.services import accounts, governance, meso, people
from storage.db import SessionFactory
from storage.models import Account, Debrief, GovernancePlan, MesoSet, ReviewCadence, UserPrefs
from tests.conftest import at
from tests.test_meso_service import offer

NOW = at("2026-11-22T10:00:00")
TEAM = "T0ACME"


def miss_once(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> None:
    """The next call of module.name finds nothing; later calls look for real."""
    real: Callable[..., Any] = getattr(module, name)
    calls: list[None] = []

    def looked(*args: Any, **kwargs: Any) -> Any:
        calls.append(None)
        return None if len(calls) == 1 else real(*args, **kwargs)

    monkeypatch.setattr(module, name, looked)


def count(session: Session, model: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def new_account(db: SessionFactory) -> int:
    with db.begin() as session:
        return accounts.get_or_create_account(
            session, team_id=TEAM, name="Acme", user_id="U0A", now=NOW
        ).id


def test_an_account_created_twice_at_once_is_one_account(
    db: SessionFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    won = new_account(db)
    miss_once(monkeypatch, accounts, "find_account")
    with db.begin() as session:
        lost = accounts.get_or_create_account(
            session, team_id=TEAM, name="Acme", user_id="U0B", now=NOW
        )
        assert lost.id == won and lost.owner_id == "U0A"
        assert count(session, Account) == 1


def test_a_person_met_twice_at_once_has_one_row(
    db: SessionFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    with db.begin() as session:
        people.ensure_prefs(session, team_id=TEAM, user_id="U0A").manager_id = "U0BOSS"
    miss_once(monkeypatch, people, "prefs_of")
    with db.begin() as session:
        prefs = people.ensure_prefs(session, team_id=TEAM, user_id="U0A")
        assert prefs.manager_id == "U0BOSS"
        assert count(session, UserPrefs) == 1


def test_the_first_plan_saved_twice_at_once_is_one_plan_with_the_later_words(
    db: SessionFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    account_id = new_account(db)

    def save(session: Session, kpis: str) -> governance.GovernanceView:
        fields = governance.PlanFields(ReviewCadence.MONTHLY, ("U0A",), kpis)
        return governance.save_plan(
            session, team_id=TEAM, account_id=account_id, user_id="U0A", fields=fields, now=NOW
        )

    with db.begin() as session:
        save(session, "uptime")
    miss_once(monkeypatch, governance, "_plan_row")
    with db.begin() as session:
        lost = save(session, "response time").plan
        assert lost is not None and lost.kpis == "response time"
        assert session.scalars(select(GovernancePlan.kpis)).all() == ["response time"]


def test_a_debrief_submitted_twice_is_stored_once(db: SessionFactory) -> None:
    account_id = new_account(db)

    def submit(session: Session, trust: str) -> governance.SavedDebrief:
        return governance.record_debrief(
            session,
            team_id=TEAM,
            account_id=account_id,
            user_id="U0A",
            answers=governance.DebriefAnswers(trust=trust),
            view_id="V1",
            now=NOW,
        )

    with db.begin() as session:
        submit(session, "high")
    with db.begin() as session:
        lost = submit(session, "low")
        assert lost.debrief.trust == "high" and lost.count == 1
        assert count(session, Debrief) == 1


def test_the_same_meso_form_submitted_twice_at_once_builds_one_set(
    db: SessionFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # It raised InvalidRequestError: the savepoint's rollback had already taken the
    # losing set out of the session, and it was expunged a second time.
    def build(session: Session) -> meso.Built:
        return meso.build_meso(
            session,
            team_id=TEAM,
            account_name="acme",
            user_id="U0A",
            offers=[offer("A", "a", 1), offer("B", "b", 1)],
            now=NOW,
            source_key="view:V1",
        )

    with db.begin() as session:
        won = build(session)
        assert won.created
    miss_once(monkeypatch, meso, "_by_source")
    with db.begin() as session:
        lost = build(session)
        assert not lost.created and lost.meso.id == won.meso.id
        assert count(session, MesoSet) == 1
