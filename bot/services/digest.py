"""The weekly relationship digest: who covers what, when it goes out, what it says.

A digest is built from one `TeamPicture` per team and sweep: every query runs once
for the whole team, grouped by account owner, and each channel's digest is the
union of its owners' lines. So 1,000 channels cost one set of queries, not 1,000.

What goes in, and why: the promises we have not kept (trust erodes with every one),
the promises we kept (reliability is what buyers remember), the reviews and
check-ins coming up (the relationship needs a rhythm, not just a close), gives
without gets this week (drip concessions teach the buyer to keep asking), accounts
going quiet for longer than their kind of relationship allows, accounts paused for a
known reason, the health scores that moved, and how fast the clients' questions were
answered (the response time, against the team's reply norm: a late answer or one
still owed is named), and what the accounts did: the quarter's renewals (the retention
rate), the week's and the quarter's repeat purchases and referrals.
"""

from __future__ import annotations

import heapq
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.services import account_changes, account_kpis, account_state, buyer_scores, questions
from bot.services.buyer_scores import BuyerScores
from bot.services.errors import UsageError
from bot.services.health import Health, account_health
from bot.services.rhythm import days_quiet, last_touched, touch_intervals_for
from bot.services.shown import Shown
from messages.formats import full_day, norm_words, reply_took
from messages.phrases import gave
from storage.models import (
    Account,
    AccountKpi,
    CheckIn,
    ClientQuestion,
    Commitment,
    CommitmentDirection,
    Concession,
    DigestScope,
    DigestSubscription,
    HealthSnapshot,
    KpiKind,
    Qbr,
    QuietWeek,
    Rating,
    RatingKind,
    RenewalOutcome,
    UserPrefs,
)
from storage.orgs import people_scope_sql
from storage.uninstalls import serving
from storage.upsert import insert_ignore_returning

WEEKDAYS = {
    "mon": 0,
    "tue": 1,
    "wed": 2,
    "thu": 3,
    "fri": 4,
    "sat": 5,
    "sun": 6,
}
DEFAULT_WEEKDAY = 0
DEFAULT_TIME = time(9, 0)
QBR_WINDOW = timedelta(days=14)
CHECKIN_WINDOW = timedelta(days=7)
WEEK = timedelta(days=7)
WEEKS_CHARTED = 12
# A move smaller than this is noise from one kept or missed follow-up.
MOVER_POINTS = 5
# Long enough to be useful in a thread, short enough to read before a standup.
LINES_PER_SECTION = 10


# --- when --------------------------------------------------------------------------


def parse_weekday(text: str) -> int:
    key = text.strip().lower()[:3]
    if key not in WEEKDAYS:
        raise UsageError(
            f"`day:` takes a weekday such as `mon` or `friday`, not `{text}`.",
            usage="/rapport digest",
        )
    return WEEKDAYS[key]


def parse_clock(text: str, *, key: str = "time", usage: str = "/rapport digest") -> time:
    """A time of day as people write it (`09:00`, `9`, `2pm`, `8.30`); `key` and
    `usage` name the field and the command in the error."""
    cleaned = text.strip().lower().replace(".", ":")
    for pattern in ("%H:%M", "%H", "%I%p", "%I:%M%p", "%I %p", "%I:%M %p"):
        try:
            return datetime.strptime(cleaned, pattern).time()
        except ValueError:
            continue
    raise UsageError(
        f"`{key}:` takes a time of day such as `09:00` or `2pm`, not `{text[:40]}`.",
        usage=usage,
        key=key,
    )


def next_slot(*, weekday: int, at: time, tz: ZoneInfo, after: datetime) -> datetime:
    """The first `weekday` at `at` local time strictly after `after` (UTC, aware).

    Built from the local date and wall-clock time, so a daylight-saving change
    never moves a 09:00 digest to 08:00.
    """
    local_day = after.astimezone(tz).date()
    for offset in range(8 + 7):
        day = local_day + timedelta(days=offset)
        if day.weekday() != weekday:
            continue
        slot = datetime.combine(day, at, tzinfo=tz).astimezone(UTC)
        if slot > after:
            return slot
    raise AssertionError("a weekday recurs within a fortnight")


def week_key(instant: datetime, tz: ZoneInfo) -> str:
    year, week, _ = instant.astimezone(tz).isocalendar()
    return f"{year}-W{week:02d}"


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


# --- who ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DigestRequest:
    """What `/rapport digest #channel …` asked for, parsed. None: not said, so a
    channel's digest keeps what it has (a new one takes the default): `time: 17:00`
    on a Friday digest moves its hour, not its day."""

    channel_id: str
    weekday: int | None = None
    send_at: time | None = None
    # Whose accounts (`owners:`): the scope and its ids, said together or not at all.
    owners: tuple[DigestScope, tuple[str, ...]] | None = None
    quiet: QuietWeek | None = None


@dataclass(frozen=True, slots=True)
class SubscriptionShown(Shown):
    """A channel's subscription as the reply to setting or stopping it shows it."""

    channel_id: str
    active: bool
    quiet: str


def subscription_for(
    session: Session, *, team_id: str, channel_id: str
) -> DigestSubscription | None:
    return session.scalar(
        select(DigestSubscription).where(
            DigestSubscription.team_id == team_id, DigestSubscription.channel_id == channel_id
        )
    )


def active_subscriptions(session: Session, *, team_id: str) -> list[DigestSubscription]:
    """The team's channels that get a weekly digest, in the order they were set up."""
    return list(
        session.scalars(
            select(DigestSubscription)
            .where(DigestSubscription.team_id == team_id, DigestSubscription.active.is_(True))
            .order_by(DigestSubscription.created_at, DigestSubscription.id)
        )
    )


def subscribe(
    session: Session,
    *,
    team_id: str,
    request: DigestRequest,
    tz: ZoneInfo,
    user_id: str,
    now: datetime,
) -> DigestSubscription:
    """Start (or change) a channel's weekly digest; the next slot is computed here."""
    sub = subscription_for(session, team_id=team_id, channel_id=request.channel_id)
    if sub is None:
        sub = DigestSubscription(
            team_id=team_id,
            channel_id=request.channel_id,
            created_by=user_id,
            created_at=now,
            weekday=DEFAULT_WEEKDAY,
            send_at=DEFAULT_TIME,
            tz=tz.key,
            scope=DigestScope.TEAM,
            quiet=QuietWeek.SKIP,
        )
        session.add(sub)
    if request.weekday is not None or request.send_at is not None:
        # The slot is read in the zone of whoever sets it (their Monday morning).
        sub.tz = tz.key
    if request.weekday is not None:
        sub.weekday = request.weekday
    if request.send_at is not None:
        sub.send_at = request.send_at
    if request.owners is not None:
        sub.scope = request.owners[0]
        sub.scope_ids = " ".join(request.owners[1]) or None
    if request.quiet is not None:
        sub.quiet = request.quiet
    sub.active = True
    sub.updated_at = now
    sub.next_run_at = next_slot(weekday=sub.weekday, at=sub.send_at, tz=ZoneInfo(sub.tz), after=now)
    session.flush()
    return sub


def unsubscribe(
    session: Session, *, team_id: str, channel_id: str, user_id: str, now: datetime
) -> DigestSubscription | None:
    """Stop the channel's digest; whoever set it up is told if someone else stopped it."""
    sub = _stop(subscription_for(session, team_id=team_id, channel_id=channel_id), now=now)
    if sub is not None:
        account_changes.record_change(
            session,
            team_id=team_id,
            account_id=None,
            kind=account_changes.ChangeKind.DIGEST_STOPPED,
            actor_id=user_id,
            owner_id=sub.created_by,
            now=now,
            before="weekly digest on",
            after="stopped",
            detail={"digest_id": sub.id, "channel_id": sub.channel_id},
        )
    return sub


def pause(session: Session, *, subscription_id: int, now: datetime) -> DigestSubscription | None:
    """Stop a subscription whose channel refuses the digest; None if it was not running."""
    return _stop(session.get(DigestSubscription, subscription_id, with_for_update=True), now=now)


def _stop(sub: DigestSubscription | None, *, now: datetime) -> DigestSubscription | None:
    if sub is None or not sub.active:
        return None
    sub.active = False
    sub.next_run_at = None
    sub.updated_at = now
    return sub


def restart(
    session: Session, *, team_id: str, subscription_id: int, now: datetime
) -> DigestSubscription | None:
    """A stopped digest back on its old slot (the Undo of `digest off`)."""
    sub = session.scalar(
        select(DigestSubscription).where(
            DigestSubscription.team_id == team_id, DigestSubscription.id == subscription_id
        )
    )
    if sub is None or sub.active:
        return sub
    sub.active = True
    sub.updated_at = now
    sub.next_run_at = next_slot(weekday=sub.weekday, at=sub.send_at, tz=ZoneInfo(sub.tz), after=now)
    return sub


def due_subscriptions(
    session: Session, *, now: datetime, limit: int = 500
) -> Sequence[DigestSubscription]:
    return session.scalars(
        select(DigestSubscription)
        .where(
            DigestSubscription.next_run_at <= now,
            DigestSubscription.active.is_(True),
            serving(DigestSubscription.team_id),
        )
        .order_by(DigestSubscription.next_run_at, DigestSubscription.id)
        .limit(limit)
    ).all()


def claim_subscriptions(
    session: Session, *, ids: Sequence[int], now: datetime
) -> Sequence[DigestSubscription]:
    """Lock the named subscriptions that are still due (PostgreSQL skips held rows)."""
    if not ids:
        return []
    return session.scalars(
        select(DigestSubscription)
        .where(
            DigestSubscription.id.in_(ids),
            DigestSubscription.next_run_at <= now,
            DigestSubscription.active.is_(True),
        )
        .order_by(DigestSubscription.id)
        .with_for_update(skip_locked=True)
    ).all()


def advance(sub: DigestSubscription, *, now: datetime, counts: dict[str, int] | None) -> None:
    """Move to the next slot after `now`: a worker down for weeks owes one digest, not many."""
    sub.next_run_at = next_slot(weekday=sub.weekday, at=sub.send_at, tz=ZoneInfo(sub.tz), after=now)
    if counts is not None:
        sub.last_sent_at = now
        sub.last_counts = counts


# --- what --------------------------------------------------------------------------


@dataclass(frozen=True)
class AccountRow:
    id: int
    name: str
    owner_id: str
    channel_id: str | None
    # Its workspace: a digest of an org's workspaces names it.
    team_id: str = ""


@dataclass(frozen=True)
class Line:
    """One thing worth a manager's attention, about one account, owned by one person."""

    account: AccountRow
    text: str  # plain text; the template escapes it
    sort_key: tuple[object, ...]
    # When it became true (fell due, went quiet, was given): newer than the last
    # digest means it is news.
    became: datetime | None = None


@dataclass(frozen=True)
class SectionSpec:
    key: str
    title: str
    # Where to see everything when the section is cut short.
    more_hint: str | None = None


SECTIONS = (
    SectionSpec("overdue", "Follow-ups overdue", "/rapport overdue"),
    SectionSpec("kept", "Kept this week"),
    SectionSpec("qbrs", "QBRs in the next two weeks"),
    SectionSpec("checkins", "Check-ins due"),
    SectionSpec("drip", "Given with nothing back this week", "/concede ACCOUNT"),
    SectionSpec("cooling", "Going quiet", "/rapport health"),
    SectionSpec("paused", "Paused"),
    SectionSpec("ratings", "What buyers told us this week"),
    SectionSpec("late_replies", "Questions answered late or still owed"),
    SectionSpec("renewals", "Renewals, repeat purchases and referrals"),
    SectionSpec("movers_down", "Health falling", "/rapport health"),
    SectionSpec("movers_up", "Health rising", "/rapport health"),
)


@dataclass(frozen=True)
class Section:
    spec: SectionSpec
    # Each shown line, and whether it is new since the last digest.
    items: list[tuple[Line, bool]]
    total: int

    @property
    def lines(self) -> list[Line]:
        return [line for line, _ in self.items]

    @property
    def more(self) -> int:
        return self.total - len(self.lines)


@dataclass(frozen=True)
class WeekPoint:
    week: date  # Monday
    due: int
    kept: int
    traded: int
    one_way: int


@dataclass(frozen=True)
class Digest:
    sections: list[Section]
    counts: dict[str, int]
    changes: list[str]
    chart: list[WeekPoint]
    accounts: int
    opted_out: int
    # This week's CSAT and NPS answers summed up (buyer_scores), when there were any.
    buyers: BuyerScores | None = None
    # How this week's client questions were answered (questions.tally), if any were.
    replies: questions.ReplyTally | None = None
    # The quarter's renewals and the week's and quarter's repeat purchases and
    # referrals (account_kpis.tally), if there were any.
    kpis: account_kpis.KpiTally | None = None

    @property
    def empty(self) -> bool:
        return not any(section.total for section in self.sections) and self.replies is None


@dataclass
class TeamPicture:
    """Everything a digest can say about one team at one instant, grouped by owner."""

    team_id: str
    now: datetime
    today: date
    accounts: dict[int, AccountRow]
    lines: dict[str, dict[str, list[Line]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(list))
    )
    # owner -> Monday -> [due, kept, traded, one_way]
    weekly: dict[str, dict[date, list[int]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(lambda: [0, 0, 0, 0]))
    )
    owners: set[str] = field(default_factory=set)
    # How many accounts each owner has: a channel's count without a pass over them all.
    accounts_owned: Counter[str] = field(default_factory=Counter)
    lost: set[int] = field(default_factory=set)
    paused: set[int] = field(default_factory=set)
    opted_out: set[str] = field(default_factory=set)
    health: dict[int, Health] = field(default_factory=dict)
    # owner -> this week's buyer answers (kind, score) on their accounts.
    answers: dict[str, list[tuple[str, int]]] = field(default_factory=lambda: defaultdict(list))
    # owner -> the client questions answered this week or still owed past their norm:
    # (reply by, answered at, reply minutes), as questions.tally reads them.
    asked: dict[str, list[tuple[datetime, datetime | None, int | None]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    # owner -> the quarter's renewals, repeat purchases and referrals on their accounts:
    # (kind, day, outcome), as account_kpis.tally reads them.
    kpis: dict[str, list[tuple[str, date, str | None]]] = field(
        default_factory=lambda: defaultdict(list)
    )

    def add(self, section: str, line: Line) -> None:
        self.lines[line.account.owner_id][section].append(line)


def _day(value: date) -> str:
    return f"{value:%a} {value.day} {value:%b}"


def load_team(
    session: Session,
    *,
    team_id: str,
    tz: ZoneInfo,
    now: datetime,
    with_health: bool = True,
) -> TeamPicture:
    """One pass over the team's data, for every channel of the team that is due."""
    today = now.astimezone(tz).date()
    picture = TeamPicture(team_id=team_id, now=now, today=today, accounts={})
    picture.opted_out = set(
        session.scalars(
            select(UserPrefs.user_id).where(
                UserPrefs.team_id == people_scope_sql(team_id),
                UserPrefs.digest_opt_out.is_(True),
            )
        )
    )
    live: list[int] = []
    for row in session.execute(
        select(
            Account.id,
            Account.name,
            Account.owner_id,
            Account.channel_id,
            Account.stage,
            Account.relationship_type,
            Account.paused_until,
            Account.pause_reason,
            Account.last_touch_at,
            Account.won_at,
            Account.created_at,
        ).where(Account.team_id == team_id)
    ):
        account = AccountRow(row.id, row.name, row.owner_id, row.channel_id, team_id)
        picture.accounts[row.id] = account
        picture.owners.add(row.owner_id)
        picture.accounts_owned[row.owner_id] += 1
        if account_state.is_lost(row.stage):
            picture.lost.add(row.id)
            continue
        live.append(row.id)
        if account_state.paused_on(row.paused_until, today):
            picture.paused.add(row.id)
            picture.add(
                "paused",
                Line(
                    account,
                    f"until {_day(row.paused_until)}: {row.pause_reason or 'no reason given'}",
                    (row.paused_until, row.name),
                ),
            )
            continue
        ideal, _ = touch_intervals_for(row.relationship_type)
        since_touch = last_touched(row)
        quiet_days = days_quiet(since_touch, now)
        if quiet_days > ideal:
            kind = row.relationship_type or "untyped"
            picture.add(
                "cooling",
                Line(
                    account,
                    f"{quiet_days} days without a touch ({kind}: about every {ideal} days)",
                    (-quiet_days, row.name),
                    became=since_touch + timedelta(days=ideal),
                ),
            )
    _load_commitments(session, picture)
    _load_reviews(session, picture)
    _load_concessions(session, picture)
    _load_ratings(session, picture)
    _load_questions(session, picture)
    _load_kpis(session, picture)
    if with_health:
        _load_health(session, picture, live)
    for sections in picture.lines.values():
        for lines in sections.values():
            lines.sort(key=_order)
    return picture


def merged(pictures: Sequence[TeamPicture]) -> TeamPicture:
    """The pictures of an org's workspaces as one, for a digest covering them all
    (bot.services.org_view): the first one's team, instant and day, every account of
    each. A person's lines come together whichever workspace they are from (a user id
    is the same in each workspace of an org). The pictures are left as they were: each
    workspace's own health snapshots are saved from its own."""
    first = pictures[0]
    whole = TeamPicture(team_id=first.team_id, now=first.now, today=first.today, accounts={})
    for picture in pictures:
        whole.accounts.update(picture.accounts)
        for owner, sections in picture.lines.items():
            for key, lines in sections.items():
                whole.lines[owner][key].extend(lines)
        for owner, weeks in picture.weekly.items():
            for week, values in weeks.items():
                point = whole.weekly[owner][week]
                for i, value in enumerate(values):
                    point[i] += value
        whole.owners |= picture.owners
        whole.accounts_owned.update(picture.accounts_owned)
        whole.lost |= picture.lost
        whole.paused |= picture.paused
        whole.opted_out |= picture.opted_out
        whole.health.update(picture.health)
        for owner, answers in picture.answers.items():
            whole.answers[owner].extend(answers)
        for owner, asked in picture.asked.items():
            whole.asked[owner].extend(asked)
        for owner, kpis in picture.kpis.items():
            whole.kpis[owner].extend(kpis)
    for sections in whole.lines.values():
        for lines in sections.values():
            lines.sort(key=_order)
    return whole


def _load_commitments(session: Session, picture: TeamPicture) -> None:
    now, team_id = picture.now, picture.team_id
    week_ago = now - WEEK
    for row in session.execute(
        _OVERDUE.where(Commitment.team_id == team_id, Commitment.due_at < now)
    ):
        account = picture.accounts.get(row.account_id)
        if account is not None:
            picture.add("overdue", _overdue_line(account, row, picture.today))
    for done in session.execute(
        select(Commitment.account_id, Commitment.what, Commitment.done_at).where(
            Commitment.team_id == team_id,
            Commitment.done_at >= week_ago,
            Commitment.kept_on_time.is_(True),
        )
    ):
        account = picture.accounts.get(done.account_id)
        if account is not None:
            picture.add("kept", Line(account, done.what, (done.done_at, account.name)))
    # The chart: by week due, how many were due and how many kept on time.
    first_week = monday_of(picture.today) - timedelta(weeks=WEEKS_CHARTED - 1)
    for charted in session.execute(
        select(Commitment.account_id, Commitment.due_on, Commitment.kept_on_time).where(
            Commitment.team_id == team_id,
            Commitment.due_on >= first_week,
            Commitment.due_on <= picture.today,
            Commitment.direction == CommitmentDirection.OURS,
            # Dropped with a lost account: neither kept nor broken.
            Commitment.dropped_at.is_(None),
        )
    ):
        account = picture.accounts.get(charted.account_id)
        if account is None:
            continue
        point = picture.weekly[account.owner_id][monday_of(charted.due_on)]
        point[0] += 1
        point[1] += 1 if charted.kept_on_time else 0


_OVERDUE = select(
    Commitment.account_id,
    Commitment.what,
    Commitment.due_on,
    Commitment.due_at,
    Commitment.direction,
).where(Commitment.done_at.is_(None))


class _OverdueRow(Protocol):
    what: str
    due_on: date
    due_at: datetime
    direction: str


def _overdue_line(account: AccountRow, row: _OverdueRow, today: date) -> Line:
    late = (today - row.due_on).days
    who = "they promised: " if row.direction == CommitmentDirection.THEIRS else ""
    return Line(
        account,
        f"{who}{row.what} (due {_day(row.due_on)}, {late} day{'s' * (late != 1)} late)",
        (row.due_on, account.name),
        became=row.due_at,
    )


def overdue_lines(
    session: Session, *, team_id: str, owners: set[str], tz: ZoneInfo, now: datetime
) -> list[Line]:
    """Every overdue follow-up of the team (or of `owners`), oldest first.

    Only the overdue rows and their accounts: `/rapport overdue` answers within the
    request, where reading the whole team's picture would be the sweep's work.
    """
    query = (
        _OVERDUE.add_columns(Account.name, Account.owner_id, Account.channel_id)
        .join(Account, Account.id == Commitment.account_id)
        .where(Commitment.team_id == team_id, Commitment.due_at < now, account_state.WORKING)
    )
    if owners:
        query = query.where(Account.owner_id.in_(sorted(owners)))
    today = now.astimezone(tz).date()
    lines = [
        _overdue_line(
            AccountRow(row.account_id, row.name, row.owner_id, row.channel_id, team_id), row, today
        )
        for row in session.execute(query)
    ]
    return sorted(lines, key=_order)


def _load_reviews(session: Session, picture: TeamPicture) -> None:
    today, team_id = picture.today, picture.team_id
    for row in session.execute(
        select(Qbr.account_id, Qbr.next_on).where(
            Qbr.team_id == team_id,
            Qbr.next_on >= today,
            Qbr.next_on <= today + QBR_WINDOW,
            account_state.QBR_LIVE,
        )
    ):
        account = picture.accounts.get(row.account_id)
        if account is not None and _is_live(picture, account):
            picture.add(
                "qbrs", Line(account, f"QBR on {_day(row.next_on)}", (row.next_on, account.name))
            )
    for checkin in session.execute(
        select(CheckIn.account_id, CheckIn.due_on, CheckIn.label).where(
            CheckIn.team_id == team_id,
            CheckIn.done_at.is_(None),
            CheckIn.due_on <= today + CHECKIN_WINDOW,
        )
    ):
        account = picture.accounts.get(checkin.account_id)
        if account is None or not _is_live(picture, account):
            continue
        late = (today - checkin.due_on).days
        when = f"{late} days late" if late > 0 else f"due {_day(checkin.due_on)}"
        picture.add(
            "checkins",
            Line(account, f"{checkin.label} check-in, {when}", (checkin.due_on, account.name)),
        )


def _is_live(picture: TeamPicture, account: AccountRow) -> bool:
    # Lost accounts stay in `accounts` (their history charts) but never make a to-do;
    # paused ones wait, silent, until their date.
    return account.id not in picture.lost and account.id not in picture.paused


def _load_concessions(session: Session, picture: TeamPicture) -> None:
    now, team_id = picture.now, picture.team_id
    first_week = monday_of(picture.today) - timedelta(weeks=WEEKS_CHARTED - 1)
    start = datetime.combine(first_week, time(0), tzinfo=UTC)
    for row in session.execute(
        select(
            Concession.account_id,
            Concession.give,
            Concession.get,
            Concession.logged_at,
        ).where(
            Concession.team_id == team_id,
            Concession.logged_at >= start,
            Concession.withdrawn_at.is_(None),
        )
    ):
        account = picture.accounts.get(row.account_id)
        if account is None:
            continue
        point = picture.weekly[account.owner_id][monday_of(row.logged_at.date())]
        if row.get:
            point[2] += 1
        else:
            point[3] += 1
            if row.logged_at >= now - WEEK:
                picture.add(
                    "drip",
                    Line(account, gave(row.give), (row.logged_at, account.name), row.logged_at),
                )


def _load_ratings(session: Session, picture: TeamPicture) -> None:
    for rating in session.execute(
        select(Rating.account_id, Rating.kind, Rating.score, Rating.recorded_at).where(
            Rating.team_id == picture.team_id, Rating.recorded_at >= picture.now - WEEK
        )
    ):
        account = picture.accounts.get(rating.account_id)
        if account is None:
            continue
        picture.answers[account.owner_id].append((rating.kind, rating.score))
        # The unhappiest answers first: they are the ones a manager can still act on.
        picture.add(
            "ratings",
            Line(
                account,
                _rating_words(rating.kind, rating.score),
                (rating.score, account.name),
                rating.recorded_at,
            ),
        )


def _rating_words(kind: str, score: int) -> str:
    """One answer, read on its own scale: CSAT against its target, NPS by its group."""
    if kind == RatingKind.NPS:
        return f"NPS {score}/10, a {buyer_scores.nps_group(score)}"
    meets = "meets" if buyer_scores.above_target(score) else "short of"
    return f"CSAT {score}/10, {meets} the target (above {buyer_scores.CSAT_TARGET})"


def _load_questions(session: Session, picture: TeamPicture) -> None:
    """This week's answers to the clients' questions, and those still owed past their
    norm; the late ones and the owed ones become lines, the oldest first."""
    now = picture.now
    for row in session.execute(
        select(
            ClientQuestion.account_id,
            ClientQuestion.question,
            ClientQuestion.reply_by,
            ClientQuestion.answered_at,
            ClientQuestion.reply_minutes,
            ClientQuestion.norm_minutes,
        ).where(
            ClientQuestion.team_id == picture.team_id,
            (ClientQuestion.answered_at >= now - WEEK)
            | (ClientQuestion.answered_at.is_(None) & (ClientQuestion.reply_by <= now)),
        )
    ):
        account = picture.accounts.get(row.account_id)
        if account is None or (row.answered_at is None and not _is_live(picture, account)):
            continue
        picture.asked[account.owner_id].append((row.reply_by, row.answered_at, row.reply_minutes))
        norm = norm_words(row.norm_minutes)
        if row.answered_at is None:
            text = f"“{row.question}”: still owed, its {norm} ran out {full_day(row.reply_by)}"
        elif row.answered_at > row.reply_by:
            took = reply_took(row.reply_minutes)
            text = f"“{row.question}”: answered {took}, past its {norm}"
        else:
            continue
        picture.add(
            "late_replies",
            Line(account, text, (row.reply_by, account.name), row.answered_at or row.reply_by),
        )


def _load_kpis(session: Session, picture: TeamPicture) -> None:
    """The quarter's renewals, repeat purchases and referrals, for the top line; as
    lines, the week's, and the quarter's renewals whose outcome is still unrecorded."""
    today = picture.today
    week = today - timedelta(days=6)
    for row in session.execute(
        select(
            AccountKpi.account_id,
            AccountKpi.kind,
            AccountKpi.day,
            AccountKpi.outcome,
            AccountKpi.note,
            AccountKpi.recorded_at,
        ).where(
            AccountKpi.team_id == picture.team_id,
            AccountKpi.day >= account_kpis.quarter_start(today),
            AccountKpi.day <= today,
        )
    ):
        account = picture.accounts.get(row.account_id)
        if account is None:
            continue
        picture.kpis[account.owner_id].append((row.kind, row.day, row.outcome))
        text = _kpi_words(row.kind, row.day, row.outcome, row.note)
        if row.day >= week or (row.kind == KpiKind.RENEWAL and row.outcome is None):
            picture.add("renewals", Line(account, text, (row.day, account.name), row.recorded_at))


def _kpi_words(kind: str, day: date, outcome: str | None, note: str | None) -> str:
    if kind == KpiKind.RENEWAL:
        said = {RenewalOutcome.RENEWED: "renewed", RenewalOutcome.NOT_RENEWED: "did not renew"}
        if outcome is None:
            return f"renewal was due {_day(day)}; whether they renewed is not recorded yet"
        return f"{said[RenewalOutcome(outcome)]} (renewal due {_day(day)})"
    what = "repeat purchase" if kind == KpiKind.REPEAT else "referral"
    return f"{what} on {_day(day)}" + (f": {note}" if note else "")


def _load_health(session: Session, picture: TeamPicture, live: list[int]) -> None:
    if not live:
        return
    picture.health = account_health(
        session, team_id=picture.team_id, account_ids=live, now=picture.now
    )
    this_week = monday_of(picture.today)
    before: dict[int, int] = {}
    # The latest snapshot from an earlier week: last week's, or older after a gap. The
    # whole team's at once (index on team and week); the scores below pick their own.
    for account_id, score in session.execute(
        select(HealthSnapshot.account_id, HealthSnapshot.score)
        .where(
            HealthSnapshot.team_id == picture.team_id,
            HealthSnapshot.week < this_week,
            HealthSnapshot.week >= this_week - timedelta(weeks=4),
        )
        .order_by(HealthSnapshot.week)
    ):
        before[account_id] = score
    for account_id, health in picture.health.items():
        previous = before.get(account_id)
        if health.score is None or previous is None or abs(health.score - previous) < MOVER_POINTS:
            continue
        account = picture.accounts[account_id]
        delta = health.score - previous
        sign = "+" if delta > 0 else "−"
        picture.add(
            "movers_up" if delta > 0 else "movers_down",
            Line(
                account,
                f"health {previous} → {health.score} ({sign}{abs(delta)})",
                (-abs(delta), account.name),
            ),
        )


SNAPSHOT_ROWS_PER_WRITE = 5000


def snapshot_rows(picture: TeamPicture) -> Iterable[list[dict[str, object]]]:
    """This week's scores as rows, in slices small enough for a short write."""
    week = monday_of(picture.today)
    rows: list[dict[str, object]] = [
        {
            "team_id": picture.team_id,
            "account_id": account_id,
            "week": week,
            "score": health.score,
            "taken_at": picture.now,
        }
        for account_id, health in picture.health.items()
        if health.score is not None  # a new account has no score to remember yet
    ]
    for start in range(0, len(rows), SNAPSHOT_ROWS_PER_WRITE):
        yield rows[start : start + SNAPSHOT_ROWS_PER_WRITE]


def save_health_snapshots(session: Session, rows: Sequence[dict[str, object]]) -> None:
    """Once per account and week: next week's movers compare with these."""
    insert_ignore_returning(
        session,
        HealthSnapshot,
        rows,
        unique=("team_id", "account_id", "week"),
        returning=("account_id",),
    )


def covered_owners(picture: TeamPicture, sub_scope: str, members: Iterable[str] | None) -> set[str]:
    """The owners whose accounts a channel covers, less those who opted out."""
    owners = picture.owners if sub_scope == DigestScope.TEAM else set(members or ())
    return owners - picture.opted_out


def build_digest(
    picture: TeamPicture,
    *,
    owners: set[str],
    last_counts: dict[str, int] | None,
    since: datetime | None,
    lines_per_section: int = LINES_PER_SECTION,
) -> Digest:
    """One channel's digest: news first in each section, then the rest, cut short."""
    sections = []
    counts: dict[str, int] = {}
    for spec in SECTIONS:
        lists = [lines for owner in owners if (lines := picture.lines.get(owner, {}).get(spec.key))]
        total = sum(len(lines) for lines in lists)
        counts[spec.key] = total
        if total:
            shown = _first_lines(lists, since, lines_per_section)
            sections.append(Section(spec, shown, total))
    chart = _chart(picture, owners)
    buyers = buyer_scores.sum_up(
        answer for owner in owners for answer in picture.answers.get(owner, ())
    )
    replies = questions.tally(
        (asked for owner in owners for asked in picture.asked.get(owner, ())), picture.now
    )
    kpis = account_kpis.tally(
        (row for owner in owners for row in picture.kpis.get(owner, ())), picture.today
    )
    return Digest(
        sections=sections,
        counts=counts,
        changes=_changes(counts, last_counts),
        chart=chart,
        accounts=sum(picture.accounts_owned.get(owner, 0) for owner in owners),
        opted_out=len(picture.opted_out & picture.owners),
        buyers=None if buyers.empty else buyers,
        replies=None if replies.empty else replies,
        kpis=None if kpis.empty else kpis,
    )


def _first_lines(
    lists: list[list[Line]], since: datetime | None, limit: int
) -> list[tuple[Line, bool]]:
    """The first `limit` lines of a section: news first, then by each section's order.

    Each owner's lines are sorted once per sweep (see `load_team`), so a channel that
    covers the whole team merges them lazily instead of sorting every line again.
    """
    fresh: list[Line] = []
    if since is not None:
        fresh = [
            line
            for lines in lists
            for line in lines
            if line.became is not None and line.became > since
        ]
        fresh.sort(key=_order)
    shown = [(line, True) for line in fresh[:limit]]
    if len(shown) < limit:
        news = {id(line) for line in fresh}
        for line in heapq.merge(*lists, key=_order):
            if id(line) in news:
                continue
            shown.append((line, False))
            if len(shown) == limit:
                break
    return shown


def _order(line: Line) -> tuple[object, ...]:
    return line.sort_key


def _chart(picture: TeamPicture, owners: set[str]) -> list[WeekPoint]:
    this_week = monday_of(picture.today)
    weeks = [this_week - timedelta(weeks=n) for n in range(WEEKS_CHARTED - 1, -1, -1)]
    totals = {week: [0, 0, 0, 0] for week in weeks}
    for owner in owners:
        for week, values in picture.weekly.get(owner, {}).items():
            if week in totals:
                total = totals[week]
                for i in range(4):
                    total[i] += values[i]
    return [WeekPoint(week, *totals[week]) for week in weeks]


_CHANGE_WORDS = {
    "overdue": ("overdue follow-up", "overdue follow-ups"),
    "drip": ("give without a get", "gives without a get"),
    "cooling": ("account going quiet", "accounts going quiet"),
    "checkins": ("check-in due", "check-ins due"),
}


def _changes(counts: dict[str, int], last: dict[str, int] | None) -> list[str]:
    """What moved since the last digest, in words, biggest news first."""
    if not last:
        return []
    changes = []
    for key, (one, many) in _CHANGE_WORDS.items():
        before, after = last.get(key, 0), counts.get(key, 0)
        if before == after:
            continue
        noun = one if after == 1 else many
        direction = "up" if after > before else "down"
        changes.append((abs(after - before), f"{after} {noun}, {direction} from {before}"))
    kept = counts.get("kept", 0)
    if kept:
        changes.append((kept, f"{kept} follow-up{'s' * (kept != 1)} kept on time this week"))
    return [text for _, text in sorted(changes, key=lambda c: -c[0])]
