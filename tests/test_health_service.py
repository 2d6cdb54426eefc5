"""bot.services.health without Slack: each part, redistribution, bounds, team isolation."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import event
from sqlalchemy.orm import Session

from bot.services import health
from bot.services.health import PARTS, Raw, account_health, combine, health_band
from storage.db import SessionFactory
from storage.models import Account, CheckIn, Commitment, Concession, Qbr, Rating
from tests.conftest import at

NOW = at("2026-11-30T12:00:00")
TODAY = NOW.date()
TEAM = "T0ACME"
OTHER = "T0GLOBEX"


def account(
    session: Session,
    name: str = "acme",
    *,
    team: str = TEAM,
    created: datetime = NOW - timedelta(days=60),
    touched: datetime | None = None,
    kind: str | None = None,
) -> Account:
    row = Account(
        team_id=team,
        key=name,
        name=name,
        owner_id="U0ALICE",
        created_by="U0ALICE",
        created_at=created,
        last_touch_at=touched,
        relationship_type=kind,
    )
    session.add(row)
    session.flush()
    return row


def promise(
    session: Session, acc: Account, due: date, *, done: date | None = None, kept: bool = False
) -> None:
    session.add(
        Commitment(
            team_id=acc.team_id,
            account_id=acc.id,
            owner_id="U0ALICE",
            what="send it",
            due_on=due,
            due_at=datetime.combine(due + timedelta(days=1), datetime.min.time(), NOW.tzinfo),
            created_by="U0ALICE",
            created_at=NOW - timedelta(days=200),
            done_at=datetime.combine(done, datetime.min.time(), NOW.tzinfo) if done else None,
            kept_on_time=kept if done else None,
        )
    )


def give(session: Session, acc: Account, get: str | None, *, withdrawn: bool = False) -> None:
    session.add(
        Concession(
            team_id=acc.team_id,
            account_id=acc.id,
            give="5% off",
            get=get,
            logged_by="U0ALICE",
            logged_at=NOW,
            withdrawn_at=NOW if withdrawn else None,
        )
    )


def rating(session: Session, acc: Account, score: int, recorded: datetime, kind: str = "csat"):  # type: ignore[no-untyped-def]
    session.add(
        Rating(
            team_id=acc.team_id,
            account_id=acc.id,
            kind=kind,
            score=score,
            recorded_by="U0ALICE",
            recorded_at=recorded,
        )
    )


def part(h: health.Health, key: str) -> health.HealthPart:
    return next(p for p in h.parts if p.key == key)


def score_of(db: SessionFactory, account_id: int, team: str = TEAM) -> health.Health:
    with db() as session:
        return account_health(session, team_id=team, account_ids=[account_id], now=NOW)[account_id]


def test_a_brand_new_account_has_no_score_until_it_has_history(db: SessionFactory) -> None:
    with db.begin() as session:
        acc = account(session, created=NOW - timedelta(days=1), touched=NOW)
        acc_id = acc.id
    h = score_of(db, acc_id)
    assert h.score is None and h.is_new and h.band == "new"

    # Three parts with data are enough to judge, however young the account.
    with db.begin() as session:
        acc = session.get(Account, acc_id)
        assert acc is not None
        promise(session, acc, TODAY - timedelta(days=2), done=TODAY - timedelta(days=3), kept=True)
        give(session, acc, "a 24-month term")
    h = score_of(db, acc_id)
    assert h.score is not None and not h.is_new


def test_an_established_account_is_not_punished_for_missing_parts(db: SessionFactory) -> None:
    with db.begin() as session:
        acc_id = account(session, touched=NOW).id
    h = score_of(db, acc_id)
    assert h.score == 100 and h.band == "healthy"
    touch = part(h, "touch")
    assert touch.known and touch.weight == pytest.approx(100)
    unknown = [p for p in h.parts if not p.known]
    assert len(unknown) == len(PARTS) - 1
    assert all(p.weight == 0 and p.points == 0 for p in unknown)
    assert all(p.detail.startswith("no data yet") for p in unknown)
    assert h.redistributed


def test_kept_counts_missed_and_still_open_promises(db: SessionFactory) -> None:
    with db.begin() as session:
        acc = account(session, created=NOW - timedelta(days=300), touched=NOW)
        for n in range(3):
            promise(session, acc, TODAY - timedelta(days=10 + n), done=TODAY, kept=True)
        promise(session, acc, TODAY - timedelta(days=20), done=TODAY, kept=False)
        promise(session, acc, TODAY - timedelta(days=5))  # open, past due
        promise(session, acc, TODAY + timedelta(days=5))  # open, not due: not counted
        promise(session, acc, TODAY - timedelta(days=400), done=TODAY, kept=False)  # too old
        acc_id = acc.id
    kept = part(score_of(db, acc_id), "kept")
    assert kept.detail.startswith("3 of 5 follow-ups")
    assert "1 still open" in kept.detail
    assert kept.points == pytest.approx(kept.weight * 3 / 5)
    # kept (25) and touch (20) have data: kept is worth 25/45 of the score.
    assert kept.weight == pytest.approx(100 * 25 / 45)


def test_balance_leaves_withdrawn_gives_out(db: SessionFactory) -> None:
    with db.begin() as session:
        acc = account(session)
        give(session, acc, "a 2-year term")
        give(session, acc, None)
        give(session, acc, None, withdrawn=True)
        acc_id = acc.id
    balance = part(score_of(db, acc_id), "balance")
    assert balance.detail == "1 of 2 gives traded for something in return; 1 one-way"
    assert balance.points == pytest.approx(balance.weight / 2)


@pytest.mark.parametrize(
    ("kind", "days", "fraction"),
    [
        ("strategic", 7, 1.0),
        ("strategic", 14, 0.75),  # halfway from the ideal (7) to the maximum (21)
        ("strategic", 21, 0.5),
        ("strategic", 42, 0.0),
        ("strategic", 400, 0.0),
        ("transactional", 60, 1.0),
        (None, 45, 0.75),
        (None, 0, 1.0),
    ],
)
def test_touch_follows_the_relationship_type(kind: str | None, days: int, fraction: float) -> None:
    raw = health.touch_part(days, kind)
    assert raw.fraction == pytest.approx(fraction)
    assert (f"{days} days since the last touch" if days else "last touch today") in raw.detail


def test_qbr_overdue_counts_as_missed_and_first_one_is_no_data() -> None:
    assert health.qbr_part(None, TODAY).fraction is None
    upcoming = health.qbr_part((TODAY + timedelta(days=10), 0, 0, 0), TODAY)
    assert upcoming.fraction is None and "first QBR" in upcoming.detail
    assert health.qbr_part((TODAY + timedelta(days=80), 2, 1, 0), TODAY).fraction == 0.5
    late = health.qbr_part((TODAY - timedelta(days=8), 2, 2, 0), TODAY)
    assert late.fraction == pytest.approx(2 / 3) and "has not been held" in late.detail
    within_grace = health.qbr_part((TODAY - timedelta(days=7), 2, 2, 0), TODAY)
    assert within_grace.fraction == 1.0


def test_a_missed_qbr_counts_against_those_held_on_schedule() -> None:
    part = health.qbr_part((TODAY + timedelta(days=80), 1, 1, 1), TODAY)
    assert part.fraction == 0.5 and "1 of 2 QBRs held on schedule" in part.detail


def test_checkins_done_late_count_half_and_missed_none() -> None:
    on_time = datetime.combine(TODAY - timedelta(days=30), datetime.min.time(), NOW.tzinfo)
    rows = [
        (TODAY - timedelta(days=30), on_time),
        (TODAY - timedelta(days=60), on_time),  # 30 days late
        (TODAY - timedelta(days=20), None),  # missed
        (TODAY - timedelta(days=3), None),  # within its week: not counted yet
    ]
    raw = health.checkins_part(rows, TODAY)
    assert raw.fraction == pytest.approx(1.5 / 3)
    assert raw.detail == "2 of 3 check-ins done (1 late); 1 missed"


def test_recent_ratings_count_more(db: SessionFactory) -> None:
    with db.begin() as session:
        acc = account(session)
        rating(session, acc, 2, NOW - timedelta(days=182))
        rating(session, acc, 10, NOW - timedelta(days=1), kind="nps")
        acc_id = acc.id
    ratings = part(score_of(db, acc_id), "ratings")
    assert ratings.known and ratings.detail.startswith("latest NPS 10/10")
    # Two quarters old weighs a quarter as much: (0.25*2 + ~1*10) / 1.25 ~ 8.4.
    assert ratings.points / ratings.weight == pytest.approx(0.84, abs=0.01)


def test_other_teams_data_never_counts(db: SessionFactory) -> None:
    with db.begin() as session:
        ours = account(session, touched=NOW)
        theirs = account(session, team=OTHER)
        # Rows naming our account under another team id (a forged or mixed-up write).
        session.add(
            Rating(
                team_id=OTHER,
                account_id=ours.id,
                kind="csat",
                score=0,
                recorded_by="U0EVE",
                recorded_at=NOW,
            )
        )
        session.add(
            Concession(
                team_id=OTHER, account_id=ours.id, give="x", logged_by="U0EVE", logged_at=NOW
            )
        )
        ours_id, theirs_id = ours.id, theirs.id
    with db() as session:
        found = account_health(session, team_id=TEAM, account_ids=[ours_id, theirs_id], now=NOW)
    assert set(found) == {ours_id}, "another team's account is not scored for us"
    assert found[ours_id].score == 100
    assert not part(found[ours_id], "ratings").known
    assert not part(found[ours_id], "balance").known


def test_query_count_does_not_grow_with_accounts(
    db: SessionFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(health, "CHUNK", 50)
    with db.begin() as session:
        ids = [account(session, f"acct {n}").id for n in range(120)]
        for acc_id in ids[:40]:
            session.add(
                Qbr(
                    team_id=TEAM,
                    account_id=acc_id,
                    next_on=TODAY,
                    created_by="U0ALICE",
                    held_count=1,
                    on_time_count=1,
                )
            )
            session.add(CheckIn(team_id=TEAM, account_id=acc_id, due_on=TODAY, label="x"))
    statements: list[str] = []
    with db() as session:
        engine = session.get_bind()
        listen = lambda *args: statements.append(args[2])  # noqa: E731

        event.listen(engine, "before_cursor_execute", listen)
        try:
            found = account_health(session, team_id=TEAM, account_ids=ids, now=NOW)
        finally:
            event.remove(engine, "before_cursor_execute", listen)
    assert len(found) == 120
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 3 * 7, "seven queries per chunk of 50"


def test_bands() -> None:
    assert [health_band(s) for s in (100, 70, 69, 45, 44, 0)] == [
        "healthy",
        "healthy",
        "watch",
        "watch",
        "at risk",
        "at risk",
    ]


_fraction = st.one_of(st.none(), st.floats(min_value=-1, max_value=2, allow_nan=False))


@settings(max_examples=300, deadline=None)
@given(st.fixed_dictionaries(dict.fromkeys(PARTS, _fraction)))
def test_score_is_bounded_and_the_rounded_sum_of_its_parts(
    fractions: dict[str, float | None],
) -> None:
    h = combine(1, {key: Raw(value, "why") for key, value in fractions.items()})
    assert 0 <= h.score <= 100
    assert h.score == round(sum(p.points for p in h.parts))
    for p in h.parts:
        assert 0 <= p.points <= p.weight + 1e-9
        assert p.known == (fractions[p.key] is not None)
    if any(value is not None for value in fractions.values()):
        assert sum(p.weight for p in h.parts) == pytest.approx(100)


def test_only_the_accounts_asked_for_are_scored(db: SessionFactory) -> None:
    with db.begin() as session:
        first, middle, last = (account(session, name).id for name in ("a", "b", "c"))
    with db() as session:
        found = account_health(session, team_id=TEAM, account_ids=[first, last, last], now=NOW)
    assert set(found) == {first, last} and middle not in found
