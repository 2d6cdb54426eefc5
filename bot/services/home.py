"""What a user's App Home shows: their accounts and health, what they owe (replies to
their clients' questions, then their promises), what is coming.

In a workspace of an Enterprise Grid org whose admins chose the org for App Home
(bot.services.org_view), every list takes in the person's own items from each of the
org's workspaces Rapport still serves (a user id is the same in all of them), merged
and capped as one list; each item's account says which workspace it is in, and only
the opening workspace's own items can be acted on from this Home. Otherwise (the
default, and outside an org) Home is the opening workspace's alone.

Every list is capped so the Home view stays inside Slack's 100 blocks however much a
person owns; each capped list says how many more there are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from bot.services import account_state, org_view
from bot.services.accounts import AccountShown
from bot.services.concessions import Balance, Entry
from bot.services.followups import CommitmentShown
from bot.services.health import account_health
from bot.services.people import prefs_of, zone
from bot.services.questions import OwedReplies, QuestionShown, owed_replies
from bot.services.rhythm import days_since_touch, touch_intervals
from storage.models import (
    DEFAULT_WORK_DAYS,
    DEFAULT_WORK_END,
    DEFAULT_WORK_START,
    Account,
    CheckIn,
    Commitment,
    Concession,
    Qbr,
)

# Caps per section. With two blocks an open follow-up (the line, its buttons) the
# whole view stays near 70 blocks at most, well inside the 100 Slack allows.
HOME_ACCOUNTS = 15
HOME_COMMITMENTS = 10
HOME_QUESTIONS = 10
HOME_UPCOMING = 10
HOME_CONCESSIONS = 5
HOME_COOLING = 10
# How far ahead "coming up" looks, and how far back the give/get balance counts.
UPCOMING_DAYS = 30
BALANCE_DAYS = 30
# How many owned accounts the Home tab scores and looks through for ones going quiet.
MAX_OWNED_ACCOUNTS = 500


@dataclass(frozen=True)
class Cooling:
    """An account past the ideal gap between touches for its relationship type."""

    account: AccountShown
    days_quiet: int
    ideal_days: int


@dataclass(frozen=True)
class AccountLine:
    """One owned account with its health; `score` is None while it cannot be scored."""

    account: AccountShown
    score: int | None = None
    band: str | None = None
    # The part of the score pulling it down most, so the number is never a black box.
    weakest_label: str | None = None
    weakest_detail: str | None = None


@dataclass(frozen=True)
class Upcoming:
    """A QBR or post-sale check-in on one of the user's accounts, by day."""

    day: date
    account: AccountShown
    kind: str  # "qbr" or "checkin"
    label: str = ""  # the check-in's name ("one-month"); empty for a QBR


@dataclass(frozen=True)
class MySettings:
    work_start: time
    work_end: time
    work_days: str  # Python weekdays, Monday = 0
    tz_name: str
    tz_source: str  # "override", "slack" or "default"
    digest_opt_out: bool
    away_from: date | None
    away_until: date | None


@dataclass(frozen=True)
class HomeSummary:
    today: date  # in the viewer's time zone
    tz: ZoneInfo
    accounts: list[AccountLine]
    more_accounts: int
    # The clients' questions the viewer owes a reply to: above their own promises.
    owed: OwedReplies
    open_commitments: list[CommitmentShown]
    more_commitments: int
    upcoming: list[Upcoming]
    more_upcoming: int
    recent_concessions: list[Entry]
    balance: Balance  # of the user's gives over the last BALANCE_DAYS
    cooling: list[Cooling]
    more_cooling: int
    settings: MySettings
    # The workspace Home is opened in, then the org's others it takes in (org_view):
    # an item whose account is in another one names it and has no buttons.
    teams: tuple[str, ...] = ()

    @property
    def elsewhere(self) -> tuple[str, ...]:
        """The other workspaces whose items this Home shows."""
        return self.teams[1:]


def cooling_accounts(accounts: list[Account], now: datetime) -> list[Cooling]:
    """Accounts quiet for longer than their type's ideal gap, quietest first."""
    cooling = []
    for account in accounts:
        if account_state.is_lost(account.stage):
            continue
        ideal, _ = touch_intervals(account)
        quiet = days_since_touch(account, now)
        if quiet > ideal:
            shown = AccountShown.of(account)
            cooling.append(Cooling(account=shown, days_quiet=quiet, ideal_days=ideal))
    return sorted(cooling, key=lambda c: -c.days_quiet)


def my_settings(
    session: Session, *, team_id: str, user_id: str, default_tz: ZoneInfo
) -> MySettings:
    prefs = prefs_of(session, team_id=team_id, user_id=user_id)
    if prefs is None:
        return MySettings(
            work_start=DEFAULT_WORK_START,
            work_end=DEFAULT_WORK_END,
            work_days=DEFAULT_WORK_DAYS,
            tz_name=str(default_tz),
            tz_source="default",
            digest_opt_out=False,
            away_from=None,
            away_until=None,
        )
    tz = zone(prefs.tz_override or prefs.slack_tz, default_tz)
    # A name that no longer resolves falls back to the default, and says so.
    if prefs.tz_override and str(tz) == prefs.tz_override:
        source = "override"
    elif prefs.slack_tz and str(tz) == prefs.slack_tz:
        source = "slack"
    else:
        source = "default"
    return MySettings(
        work_start=prefs.work_start,
        work_end=prefs.work_end,
        work_days=prefs.work_days,
        tz_name=str(tz),
        tz_source=source,
        digest_opt_out=bool(prefs.digest_opt_out),
        away_from=prefs.away_from,
        away_until=prefs.away_until,
    )


def account_lines(session: Session, *, accounts: list[Account], now: datetime) -> list[AccountLine]:
    """The accounts with their health, lowest first: the ones that need the owner most."""
    by_team: dict[str, list[int]] = {}
    for account in accounts:
        by_team.setdefault(account.team_id, []).append(account.id)
    scores = {}
    for team_id, ids in by_team.items():
        scores.update(account_health(session, team_id=team_id, account_ids=ids, now=now))
    lines = []
    for account in accounts:
        health = scores.get(account.id)
        if health is None:
            lines.append(AccountLine(account=AccountShown.of(account)))
            continue
        weakest = None if health.is_new else health.weakest
        lines.append(
            AccountLine(
                account=AccountShown.of(account),
                score=health.score,
                band=health.band,
                weakest_label=weakest.label if weakest else None,
                weakest_detail=weakest.detail if weakest else None,
            )
        )
    # Unscored accounts last: there is nothing yet to act on.
    return sorted(lines, key=lambda line: (line.score is None, line.score or 0, line.account.name))


def upcoming(
    session: Session, *, teams: list[str], user_id: str, today: date, limit: int
) -> tuple[list[Upcoming], int]:
    """QBRs and open check-ins of the user's live accounts up to UPCOMING_DAYS ahead.

    Check-ins still open from earlier days are included (they are still owed); so is a
    QBR whose day passed without being marked held.
    """
    horizon = today + timedelta(days=UPCOMING_DAYS)
    live_owned = (
        Account.team_id.in_(teams),
        Account.owner_id == user_id,
        account_state.WORKING,
    )
    qbrs = session.execute(
        select(Qbr.next_on, Account)
        .join(Account, Account.id == Qbr.account_id)
        .where(Qbr.team_id.in_(teams), Qbr.next_on <= horizon, account_state.QBR_LIVE, *live_owned)
        .order_by(Qbr.next_on, Qbr.id)
        .limit(limit + 1)
    ).all()
    checkins = session.execute(
        select(CheckIn.due_on, CheckIn.label, Account)
        .join(Account, Account.id == CheckIn.account_id)
        .where(
            CheckIn.team_id.in_(teams),
            CheckIn.done_at.is_(None),
            CheckIn.due_on <= horizon,
            *live_owned,
        )
        .order_by(CheckIn.due_on, CheckIn.id)
        .limit(limit + 1)
    ).all()
    found = [Upcoming(day, AccountShown.of(account), "qbr") for day, account in qbrs] + [
        Upcoming(day, AccountShown.of(account), "checkin", label)
        for day, label, account in checkins
    ]
    found.sort(key=lambda u: (u.day, u.account.name, u.kind))
    total = _count_upcoming(session, teams=teams, user_id=user_id, horizon=horizon)
    return found[:limit], max(total - limit, 0)


def _count_upcoming(session: Session, *, teams: list[str], user_id: str, horizon: date) -> int:
    owned = select(Account.id).where(
        Account.team_id.in_(teams),
        Account.owner_id == user_id,
        account_state.WORKING,
    )
    qbrs = session.scalar(
        select(func.count()).where(
            Qbr.team_id.in_(teams),
            Qbr.next_on <= horizon,
            account_state.QBR_LIVE,
            Qbr.account_id.in_(owned),
        )
    )
    checkins = session.scalar(
        select(func.count()).where(
            CheckIn.team_id.in_(teams),
            CheckIn.done_at.is_(None),
            CheckIn.due_on <= horizon,
            CheckIn.account_id.in_(owned),
        )
    )
    return (qbrs or 0) + (checkins or 0)


def recent_balance(session: Session, *, teams: list[str], user_id: str, since: datetime) -> Balance:
    """How the user's own gives since `since` were paid for (withdrawn ones apart)."""
    live = Concession.withdrawn_at.is_(None)
    total, traded, withdrawn = session.execute(
        select(
            func.count(),
            func.count(Concession.get).filter(live),
            func.count(Concession.withdrawn_at),
        ).where(
            Concession.team_id.in_(teams),
            Concession.logged_by == user_id,
            Concession.logged_at >= since,
        )
    ).one()
    return Balance(traded=traded, one_way=total - withdrawn - traded, withdrawn=withdrawn)


def owed_in(
    session: Session, *, teams: list[str], user_id: str, now: datetime, limit: int
) -> OwedReplies:
    """The replies the user owes in each of `teams`, soonest due first, as one list."""
    each = [
        owed_replies(session, team_id=team_id, user_id=user_id, now=now, limit=limit)
        for team_id in teams
    ]
    if len(each) == 1:
        return each[0]
    merged: list[QuestionShown] = sorted(
        (question for owed in each for question in owed.questions),
        key=lambda q: (q.reply_by, q.id),
    )
    more = sum(owed.more for owed in each) + max(len(merged) - limit, 0)
    return OwedReplies(tuple(merged[:limit]), more, now)


def home_summary(
    session: Session,
    *,
    team_id: str,
    user_id: str,
    now: datetime,
    default_tz: ZoneInfo,
) -> HomeSummary:
    settings = my_settings(session, team_id=team_id, user_id=user_id, default_tz=default_tz)
    tz = ZoneInfo(settings.tz_name)
    today = now.astimezone(tz).date()
    teams = org_view.home_teams(session, team_id=team_id)
    owned = list(
        session.scalars(
            select(Account)
            .where(Account.team_id.in_(teams), Account.owner_id == user_id)
            .order_by(Account.name, Account.id)
            .limit(MAX_OWNED_ACCOUNTS)
        )
    )
    live = [a for a in owned if not account_state.is_lost(a.stage)]
    lines = account_lines(session, accounts=live, now=now)
    open_mine = (
        Commitment.team_id.in_(teams),
        Commitment.owner_id == user_id,
        Commitment.done_at.is_(None),
    )
    commitments = list(
        session.scalars(
            select(Commitment)
            .where(*open_mine)
            .order_by(Commitment.due_on, Commitment.id)
            .options(joinedload(Commitment.account))
            .limit(HOME_COMMITMENTS)
        )
    )
    open_count = session.scalar(select(func.count()).where(*open_mine)) or 0
    coming, more_coming = upcoming(
        session, teams=teams, user_id=user_id, today=today, limit=HOME_UPCOMING
    )
    concessions = list(
        session.scalars(
            select(Concession)
            .where(
                Concession.team_id.in_(teams),
                Concession.logged_by == user_id,
                Concession.withdrawn_at.is_(None),
            )
            .order_by(Concession.logged_at.desc(), Concession.id.desc())
            .options(joinedload(Concession.account))
            .limit(HOME_CONCESSIONS)
        )
    )
    cooling = cooling_accounts(owned, now)
    return HomeSummary(
        today=today,
        tz=tz,
        accounts=lines[:HOME_ACCOUNTS],
        more_accounts=max(len(lines) - HOME_ACCOUNTS, 0),
        owed=owed_in(session, teams=teams, user_id=user_id, now=now, limit=HOME_QUESTIONS),
        open_commitments=[CommitmentShown.of(commitment) for commitment in commitments],
        more_commitments=max(open_count - HOME_COMMITMENTS, 0),
        upcoming=coming,
        more_upcoming=more_coming,
        recent_concessions=[Entry.of(entry) for entry in concessions],
        balance=recent_balance(
            session, teams=teams, user_id=user_id, since=now - timedelta(days=BALANCE_DAYS)
        ),
        cooling=cooling[:HOME_COOLING],
        more_cooling=max(len(cooling) - HOME_COOLING, 0),
        settings=settings,
        teams=tuple(teams),
    )
