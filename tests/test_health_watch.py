"""bot.services.health_watch without Slack: what counts as a fall, which parts fell, the
once-a-day scoring per team, and who is never told (lost, paused, new, told already)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.services import health_watch
from bot.services.coaching import for_part
from bot.services.errors import NotAllowed, UsageError
from bot.services.health import PARTS
from bot.services.health_watch import AlertRule, Fall, fall, fallen_parts
from messages.playbook import load_playbook
from storage.db import SessionFactory
from storage.models import (
    Account,
    AccountStage,
    Commitment,
    Concession,
    HealthDay,
    HealthFall,
    HealthWatch,
)
from tests.conftest import at

TEAM = "T0ACME"
OTHER = "T0GLOBEX"
DAY_ONE = at("2026-11-23T00:05:00")  # a Monday, UTC


def account(session: Session, name: str, *, team: str = TEAM, age_days: int = 60) -> Account:
    row = Account(
        team_id=team,
        key=name,
        name=name,
        owner_id="U0ALICE",
        created_by="U0ALICE",
        created_at=DAY_ONE - timedelta(days=age_days),
        last_touch_at=DAY_ONE - timedelta(days=2),
    )
    session.add(row)
    session.flush()
    return row


def gives(session: Session, acc: Account, *, traded: int, one_way: int, at_: datetime) -> None:
    for n in range(traded + one_way):
        session.add(
            Concession(
                team_id=acc.team_id,
                account_id=acc.id,
                give=f"give {n}",
                get="a longer term" if n < traded else None,
                logged_by="U0ALICE",
                logged_at=at_,
            )
        )


def a_day(db: SessionFactory, now: datetime, limit: int = 100) -> list[health_watch.TeamCheck]:
    """What the sweep's planning does each day: every team's pass, a batch at a time."""
    with db.begin() as session:
        teams = health_watch.teams_to_score(session, today=now.date())
    checks = []
    for team_id in teams:
        done = False
        while not done:
            with db() as session:
                check = health_watch.check_team(session, team_id=team_id, now=now, limit=limit)
            with db.begin() as session:
                health_watch.save_check(session, check)
            checks.append(check)
            done = check.done
    return checks


# --- the rule ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("score", "week", "found"),
    [
        (60, [76], Fall(76, 60, None)),  # 16 points: more than 15
        (61, [76], None),  # exactly 15 is not more than 15
        (60, [50, 76, 70], Fall(76, 60, None)),  # measured from the week's highest
        (44, [46], Fall(46, 44, 45)),  # under 45 from at or above it
        (44, [45], Fall(45, 44, 45)),
        (40, [44, 43], None),  # under the line all week: no news
        (10, [], None),  # no week to compare with
        (80, [70], None),  # rising
    ],
)
def test_a_fall_is_a_big_drop_or_a_crossing_of_the_line(
    score: int, week: list[int], found: Fall | None
) -> None:
    assert fall(score, week, AlertRule()) == found


def test_either_half_of_the_rule_can_be_turned_off() -> None:
    assert fall(40, [90], AlertRule(drop=None, below=None)) is None
    assert fall(40, [90], AlertRule(drop=None, below=30)) is None
    assert fall(40, [90], AlertRule(drop=20, below=None)) == Fall(90, 40, None)
    assert fall(44, [46], AlertRule(drop=None, below=45)) == Fall(46, 44, 45)


def test_the_parts_that_fell_add_up_to_the_fall() -> None:
    before = {"kept": 0.0, "touch": 5.0, "balance": 0.0}
    # The ratings part came in at nothing: the others' weights shrank to make room.
    now = {"kept": 0.0, "touch": 4.2, "balance": 3.0, "ratings": 18.5}
    fell = fallen_parts(now, before)
    assert fell == [("ratings", 18.5), ("balance", 3.0)], "touch's 0.8 is drift, not news"
    assert fallen_parts(before, before) == []
    # Spread thin, the one that fell most is still named.
    thin = {"kept": 2.0, "touch": 7.0, "balance": 2.5}
    assert fallen_parts(thin, before) == [("balance", 2.5)]


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ({"drop": "20"}, {"drop": 20}),
        ({"below": "off"}, {"below": None}),
        ({"drop": "10 points", "below": "50"}, {"drop": 10, "below": 50}),
    ],
)
def test_the_rule_is_read_as_typed(typed: dict[str, str], read: dict[str, int | None]) -> None:
    assert health_watch.read_rule_change(typed).fields == read


@pytest.mark.parametrize("typed", ["0", "101", "fifteen", "-5", "12.5", ""])
def test_a_rule_that_cannot_be_read_says_which_field(typed: str) -> None:
    with pytest.raises(UsageError) as refused:
        health_watch.read_rule_change({"drop": typed})
    assert refused.value.key == "drop" and "from 1 to 100, or `off`" in refused.value.problem


def test_only_an_admin_changes_the_rule(db: SessionFactory) -> None:
    change = health_watch.read_rule_change({"drop": "25"})
    with db.begin() as session, pytest.raises(NotAllowed, match="stays as it is: a drop of"):
        health_watch.set_alert_rule(
            session,
            change,
            team_id=TEAM,
            user_id="U0BOB",
            is_workspace_admin=False,
            now=DAY_ONE,
        )
    with db.begin() as session:
        assert health_watch.alert_rule(session, team_id=TEAM) == AlertRule(15, 45)
        set_to = health_watch.set_alert_rule(
            session,
            change,
            team_id=TEAM,
            user_id="U0ANN",
            is_workspace_admin=True,
            now=DAY_ONE,
        )
    assert set_to == AlertRule(25, 45), "what was not typed keeps its value"
    with db() as session:
        assert health_watch.alert_rule(session, team_id=OTHER) == AlertRule(15, 45)


# --- the daily pass -------------------------------------------------------------------------


def test_each_team_is_scored_once_a_day_and_new_teams_from_the_next(db: SessionFactory) -> None:
    with db.begin() as session:
        account(session, "acme")
        account(session, "globex", team=OTHER)
    assert sorted(c.team_id for c in a_day(db, DAY_ONE)) == [TEAM, OTHER]
    later = DAY_ONE + timedelta(hours=5)
    assert a_day(db, later) == [], "both done today"
    with db.begin() as session:
        account(session, "initech", team="T0NEW")
    assert a_day(db, later) == [], "a team that came today is watched from tomorrow"
    tomorrow = [c.team_id for c in a_day(db, DAY_ONE + timedelta(days=1))]
    assert sorted(tomorrow) == [TEAM, OTHER, "T0NEW"]
    with db() as session:
        assert {w.scored_on for w in session.scalars(select(HealthWatch))} == {date(2026, 11, 24)}


def test_a_drop_is_found_once_a_week_and_never_for_lost_paused_or_new(
    db: SessionFactory,
) -> None:
    with db.begin() as session:
        names = ("acme", "lost", "paused", "young")
        accounts = {name: account(session, name) for name in names}
        accounts["young"].created_at = DAY_ONE - timedelta(days=2)
        for acc in accounts.values():
            gives(session, acc, traded=1, one_way=0, at_=DAY_ONE - timedelta(days=20))
        ids = {name: acc.id for name, acc in accounts.items()}
    (first,) = a_day(db, DAY_ONE)
    assert first.falls == [] and first.nudges == [] and first.done
    scored = {row["account_id"]: row["score"] for row in first.rows}
    assert ids["young"] not in scored, "too new for a score: nothing kept"

    # The next day, three gives handed over one way on each; one account lost, one paused.
    tuesday = DAY_ONE + timedelta(days=1)
    with db.begin() as session:
        for name in names:
            gives(session, session.get(Account, ids[name]), traded=0, one_way=3, at_=tuesday)
        session.get(Account, ids["lost"]).stage = AccountStage.LOST
        session.get(Account, ids["paused"]).paused_until = tuesday.date() + timedelta(days=9)
    (second,) = a_day(db, tuesday)
    (found,) = second.falls
    assert found.account_id == ids["acme"] and found.before == scored[ids["acme"]]
    assert found.before - found.after > 15 and found.fell[0][0] == "balance"
    (nudge,) = second.nudges
    assert (nudge.kind, nudge.subject, nudge.slot) == (
        "health_drop",
        f"health:{ids['acme']}",
        "2026-11-24",
    )
    assert nudge.recipient == "U0ALICE" and nudge.due_at == tuesday
    assert ids["lost"] not in {row["account_id"] for row in second.rows}, "no score when lost"

    # Still far below Monday's high all week: told once, not again within seven days.
    for day in range(2, 8):
        (check,) = a_day(db, DAY_ONE + timedelta(days=day))
        assert check.falls == [], day
    # A week on, a new fall is news again: three promises broken on top.
    with db.begin() as session:
        for n in range(3):
            session.add(
                Commitment(
                    team_id=TEAM,
                    account_id=ids["acme"],
                    owner_id="U0ALICE",
                    what=f"send item {n}",
                    due_on=date(2026, 11, 27),
                    due_at=at("2026-11-28T00:00"),
                    created_by="U0ALICE",
                    created_at=DAY_ONE,
                )
            )
    (next_week,) = a_day(db, DAY_ONE + timedelta(days=8))
    assert [f.account_id for f in next_week.falls] == [ids["acme"]], "a new fall a week on"
    assert next_week.falls[0].fell[0][0] == "kept"


def test_a_big_team_is_scored_a_batch_at_a_time(db: SessionFactory) -> None:
    with db.begin() as session:
        ids = [account(session, f"acme {n}").id for n in range(5)]
        session.get(Account, ids[2]).stage = AccountStage.LOST
    checks = a_day(db, DAY_ONE, limit=2)
    assert [(c.first_id, c.last_id, c.done) for c in checks] == [
        (0, ids[1], False),
        (ids[1], ids[4], False),  # the lost one is not read, let alone scored
        (ids[4], ids[4], True),  # a full batch may be the last: the next one says so
    ]
    with db() as session:
        assert sorted(session.scalars(select(HealthDay.account_id))) == ids[:2] + ids[3:]
        watch = session.get(HealthWatch, TEAM)
    assert watch is not None and watch.done and watch.after_id == ids[4]
    assert a_day(db, DAY_ONE + timedelta(hours=1), limit=2) == [], "done for the day"
    # A pass left half-way starts over the next day.
    with db.begin() as session:
        session.execute(update(HealthWatch).values(after_id=ids[1], done=False))
    (first, *_) = a_day(db, DAY_ONE + timedelta(days=1), limit=2)
    assert first.first_id == 0


def test_a_weeks_scores_are_kept_and_older_ones_pruned(db: SessionFactory) -> None:
    with db.begin() as session:
        account(session, "acme")
    for day in range(10):
        a_day(db, DAY_ONE + timedelta(days=day))
    with db() as session:
        days = sorted(session.scalars(select(HealthDay.day)))
    assert days[0] == date(2026, 11, 25) and days[-1] == date(2026, 12, 2) and len(days) == 8


def test_the_dm_reads_the_fall_and_says_when_it_is_back_up(db: SessionFactory) -> None:
    with db.begin() as session:
        acc = account(session, "acme")
        gives(session, acc, traded=1, one_way=0, at_=DAY_ONE - timedelta(days=20))
        acc_id = acc.id
    a_day(db, DAY_ONE)
    tuesday = DAY_ONE + timedelta(days=1)
    with db.begin() as session:
        gives(session, session.get(Account, acc_id), traded=0, one_way=3, at_=tuesday)
    a_day(db, tuesday)
    playbook = load_playbook()
    with db() as session:
        shown = health_watch.fall_shown(
            session,
            team_id=TEAM,
            account_id=acc_id,
            day=tuesday.date(),
            now=tuesday,
            playbook=playbook,
        )
    assert shown is not None and not shown.recovered and shown.now == shown.after
    assert shown.parts[0].label == "Give/get balance"
    assert shown.parts[0].detail == "1 of 4 gives traded for something in return; 3 one-way"
    assert shown.advice is not None and shown.advice.title == "Giving without getting"
    # The one-way gives traded after all: by the rule it is no fall any more.
    with db.begin() as session:
        for row in session.scalars(select(Concession).where(Concession.get.is_(None))):
            row.get = "a case study"
        assert session.scalars(select(HealthFall)).one().day == tuesday.date()
    with db() as session:
        back = health_watch.fall_shown(
            session,
            team_id=TEAM,
            account_id=acc_id,
            day=tuesday.date(),
            now=tuesday,
            playbook=playbook,
        )
    assert back is not None and back.recovered


def test_every_part_of_the_score_has_a_move_in_the_playbook() -> None:
    """A part added to the health score needs its move (bot.services.coaching), or a
    fall in it would reach its owner with no advice."""
    library = load_playbook()
    missing = [key for key in PARTS if for_part(library, key) is None]
    assert missing == []


def test_a_team_file_that_removes_a_move_falls_back_to_the_next(tmp_path: Path) -> None:
    team = tmp_path / "team.yaml"
    team.write_text("pitfalls:\n  no-reciprocity: null\n", "utf-8")
    advice = for_part(load_playbook(team), "balance")
    assert advice is not None and advice.title == "Avoid"
    assert advice.text == "Concessions with nothing asked in return."
