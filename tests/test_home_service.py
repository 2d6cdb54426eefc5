"""What App Home shows, from the service alone: no Slack involved."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.services.home import home_summary
from storage.db import SessionFactory
from storage.models import Account, AccountStage, CheckIn, Commitment, Concession, Qbr, UserPrefs
from tests.conftest import at

TEAM, OTHER = "T0ACME", "T0GLOBEX"
ALICE = "U0ALICE"
NOW = at("2026-11-23T23:30:00Z")
UTC_ZONE = ZoneInfo("UTC")


def account(session: Session, name: str, *, team: str = TEAM, **extra: object) -> Account:
    row = Account(
        team_id=team,
        key=name,
        name=name,
        owner_id=ALICE,
        created_by=ALICE,
        created_at=extra.pop("created_at", NOW - timedelta(days=40)),  # type: ignore[arg-type]
        **extra,
    )
    session.add(row)
    session.flush()
    return row


def promise(session: Session, owner: Account, due_on: date, *, done: bool = False) -> None:
    session.add(
        Commitment(
            team_id=owner.team_id,
            account_id=owner.id,
            owner_id=ALICE,
            what=f"promise due {due_on}",
            due_on=due_on,
            due_at=datetime.combine(due_on + timedelta(days=1), datetime.min.time(), UTC),
            created_by=ALICE,
            created_at=NOW - timedelta(days=30),
            done_at=NOW if done else None,
            kept_on_time=False if done else None,
        )
    )


def summary(db: SessionFactory, tz: ZoneInfo = UTC_ZONE):  # type: ignore[no-untyped-def]
    with db() as session:
        return home_summary(session, team_id=TEAM, user_id=ALICE, now=NOW, default_tz=tz)


def test_accounts_come_weakest_first_with_what_pulls_them_down(db: SessionFactory) -> None:
    with db.begin() as session:
        fresh = account(session, "fresh")
        slipping = account(session, "slipping")
        promise(session, slipping, date(2026, 11, 2))  # long overdue
        promise(session, slipping, date(2026, 11, 3), done=True)  # kept late
        promise(session, fresh, date(2026, 12, 1))
        account(session, "gone", stage=AccountStage.LOST)
        account(session, "theirs", team=OTHER)

    home = summary(db)

    assert [line.account.name for line in home.accounts] == ["slipping", "fresh"]
    weakest = home.accounts[0]
    assert weakest.score is not None and weakest.score < home.accounts[1].score  # type: ignore[operator]
    assert weakest.band in ("at risk", "watch")
    assert weakest.weakest_label == "Commitments kept on time"
    assert "still open past the due day" in (weakest.weakest_detail or "")


def test_coming_up_looks_thirty_days_ahead_and_keeps_what_is_still_owed(
    db: SessionFactory,
) -> None:
    with db.begin() as session:
        acme = account(session, "acme", stage=AccountStage.WON)
        lost = account(session, "lost", stage=AccountStage.LOST)
        other = account(session, "other", team=OTHER)
        session.add(
            Qbr(team_id=TEAM, account_id=acme.id, next_on=date(2026, 12, 23), created_by=ALICE)
        )
        session.add(
            Qbr(team_id=TEAM, account_id=lost.id, next_on=date(2026, 12, 1), created_by=ALICE)
        )
        session.add(
            Qbr(team_id=OTHER, account_id=other.id, next_on=date(2026, 12, 1), created_by=ALICE)
        )
        for due_on, label, done in (
            (date(2026, 11, 16), "one-week", False),  # owed since last week
            (date(2026, 11, 10), "old", True),  # done: gone
            (date(2026, 12, 24), "too-far", False),  # 31 days ahead
        ):
            session.add(
                CheckIn(
                    team_id=TEAM,
                    account_id=acme.id,
                    due_on=due_on,
                    label=label,
                    done_at=NOW if done else None,
                )
            )

    home = summary(db)

    assert [(u.day, u.kind, u.label) for u in home.upcoming] == [
        (date(2026, 11, 16), "checkin", "one-week"),
        (date(2026, 12, 23), "qbr", ""),
    ]
    assert home.more_upcoming == 0


def test_today_and_the_window_are_the_viewers_own(db: SessionFactory) -> None:
    with db.begin() as session:
        session.add(UserPrefs(team_id=TEAM, user_id=ALICE, tz_override="Asia/Tokyo"))
        acme = account(session, "acme")
        # 23:30 UTC on the 23rd is the 24th in Tokyo: 30 days on is the 24th of December.
        session.add(CheckIn(team_id=TEAM, account_id=acme.id, due_on=date(2026, 12, 24), label="x"))

    home = summary(db)

    assert home.today == date(2026, 11, 24)
    assert home.settings.tz_name == "Asia/Tokyo" and home.settings.tz_source == "override"
    assert [u.day for u in home.upcoming] == [date(2026, 12, 24)]


def test_the_balance_counts_my_live_gives_of_the_last_thirty_days(db: SessionFactory) -> None:
    with db.begin() as session:
        acme = account(session, "acme")
        for days_ago, get, withdrawn, by in (
            (1, "longer term", False, ALICE),
            (2, None, False, ALICE),
            (3, None, False, ALICE),
            (4, None, True, ALICE),  # withdrawn: outside the balance and the list
            (45, None, False, ALICE),  # too old for the balance, still recent in the list
            (1, None, False, "U0BOB"),  # Bob's
        ):
            session.add(
                Concession(
                    team_id=TEAM,
                    account_id=acme.id,
                    give=f"give {days_ago} {by}",
                    get=get,
                    logged_by=by,
                    logged_at=NOW - timedelta(days=days_ago),
                    withdrawn_at=NOW if withdrawn else None,
                )
            )

    home = summary(db)

    assert (home.balance.traded, home.balance.one_way, home.balance.withdrawn) == (1, 2, 1)
    assert home.balance.is_drifting
    assert [c.give for c in home.recent_concessions] == [
        "give 1 U0ALICE",
        "give 2 U0ALICE",
        "give 3 U0ALICE",
        "give 45 U0ALICE",
    ]


def test_capped_lists_say_how_many_more(db: SessionFactory) -> None:
    with db.begin() as session:
        for n in range(20):
            row = account(session, f"a{n:02}", created_at=NOW - timedelta(days=400))
            promise(session, row, date(2026, 11, 30))

    home = summary(db)

    assert len(home.accounts) == 15 and home.more_accounts == 5
    assert len(home.open_commitments) == 10 and home.more_commitments == 10
    assert len(home.cooling) == 10 and home.more_cooling == 10
