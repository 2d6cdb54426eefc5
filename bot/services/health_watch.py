"""The daily health watch: a score taken once a day per team, and a word to the owner
when an account's health falls.

Why a daily score: the weekly snapshot (HealthSnapshot) is taken by the digest, so
only for teams with a digest, and only once a week, on its day: a fall "in the last
seven days" cannot be read from it. So the sweep takes every team's scores once a
(UTC) day, in id order, BUDGET accounts a sweep (`teams_to_score`, `check_team`,
`save_check`), and keeps a week of them (`HealthDay`). A score cannot be
worked out afterwards for a past day: the last touch and the open promises it reads
have moved on since.

A fall is told when an account's score is more than the team's `drop:` points
(default 15) below its highest of the seven days before, or has gone under its
`below:` line (default 45, where "at risk" starts) from at or above it within them.
The owner gets one DM (a nudge, planned here and delivered by the sweep's pipeline
in their working hours), naming the parts that fell and the playbook's move for the
one that fell most (bot.services.coaching), and at most one a week per account.
Lost accounts have no score; paused ones and new ones without a score are not told.

The parts that fell are measured in the points each missed (its weight less what it
earned): their rises add up to the fall, even when a part with no data before comes
in low and the other parts' weights shrink to make room for it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, delete, func, or_, select, update
from sqlalchemy.orm import Session

from bot.services import account_state
from bot.services.coaching import Advice, for_part
from bot.services.errors import NotAllowed, UsageError
from bot.services.followups import PlannedNudge
from bot.services.health import PARTS, WATCH, Health, account_health
from bot.services.shown import copied
from messages.playbook import Playbook
from storage.models import Account, HealthAlerts, HealthDay, HealthFall, HealthWatch
from storage.uninstalls import serving
from storage.upsert import insert_ignore_many

KIND = "health_drop"  # the nudge's kind; its subject is `health:<account id>`
SUBJECT = "health"
DEFAULT_DROP = 15
DEFAULT_BELOW = WATCH  # the edge of "at risk" (bot.services.health.health_band)
WEEK = timedelta(days=7)
# Accounts scored per sweep, over all teams: a big team's pass is spread over several
# sweeps (2,000 accounts are about 0.15 s of CPU), so no sweep waits long for it.
BUDGET = 2000
# A part counts as fallen when it missed at least this many more points than before:
# a point or two is the day-to-day drift of the touch clock, not news.
FELL_BY = 3.0
USAGE = "/rapport health"


# --- the team's rule ------------------------------------------------------------------


@dataclass(frozen=True)
class AlertRule:
    """When an owner is told: a drop of more than `drop` points in a week, or a fall
    under `below`; None turns either off."""

    drop: int | None = DEFAULT_DROP
    below: int | None = DEFAULT_BELOW

    @property
    def off(self) -> bool:
        return self.drop is None and self.below is None


def alert_rule(session: Session, *, team_id: str) -> AlertRule:
    row = session.get(HealthAlerts, team_id)
    return AlertRule() if row is None else AlertRule(row.drop_points, row.below)


@dataclass(frozen=True)
class RuleChange:
    """`drop:` and `below:` as typed: a number, None for `off`, absent if not given."""

    fields: dict[str, int | None] = field(default_factory=dict)


def read_rule_change(fields: dict[str, str]) -> RuleChange:
    """`drop: 20`, `below: 40`, `drop: off`: points from 1 to 100, or off."""
    read: dict[str, int | None] = {}
    for key in ("drop", "below"):
        if key not in fields:
            continue
        # A score is out of 100, so `10%` is 10 points.
        typed = fields[key].strip().lower()
        for unit in ("points", "pts", "%"):
            typed = typed.removesuffix(unit).strip()
        if typed in ("off", "none", "never", "no"):
            read[key] = None
        elif typed.isdigit() and 1 <= int(typed) <= 100:
            read[key] = int(typed)
        else:
            what = "points a score may fall in a week" if key == "drop" else "a score"
            raise UsageError(
                f"`{key}:` takes {what}, a whole number from 1 to 100, or `off`; "
                f"I read `{fields[key][:40]}`.",
                usage=USAGE,
                key=key,
            )
    return RuleChange(read)


def set_alert_rule(
    session: Session,
    change: RuleChange,
    *,
    team_id: str,
    user_id: str,
    is_workspace_admin: bool,
    now: datetime,
) -> AlertRule:
    """Change the team's rule: it decides whom Rapport tells, so admins and owners only."""
    current = alert_rule(session, team_id=team_id)
    if not is_workspace_admin:
        raise NotAllowed(
            "Only a Slack workspace admin or owner can change when owners hear that an "
            f"account's health fell. It stays as it is: {describe(current)}."
        )
    row = HealthAlerts.for_change(session, team_id=team_id, user_id=user_id, now=now)
    row.drop_points = change.fields.get("drop", current.drop)
    row.below = change.fields.get("below", current.below)
    session.flush()
    return AlertRule(row.drop_points, row.below)


def describe(rule: AlertRule) -> str:
    """The rule in words, for the replies that show or refuse it."""
    said = []
    if rule.drop is not None:
        said.append(f"a drop of more than {rule.drop} points in a week")
    if rule.below is not None:
        said.append(f"a fall under {rule.below}")
    return " or ".join(said) if said else "never (both are off)"


# --- what counts as a fall ----------------------------------------------------------------


@dataclass(frozen=True)
class Fall:
    before: int  # the highest score of the week before
    after: int  # the score now
    below: int | None  # the line it went under, if it did


def fall(score: int, week: Iterable[int], rule: AlertRule) -> Fall | None:
    """Whether `score` is a fall from the `week` of scores before it, by `rule`."""
    high = max(week, default=None)
    if high is None:
        return None
    dropped = rule.drop is not None and high - score > rule.drop
    crossed = rule.below is not None and score < rule.below <= high
    if not (dropped or crossed):
        return None
    return Fall(high, score, rule.below if crossed else None)


def missed_words(health: Health) -> str:
    """The points each part with data missed, as `HealthDay.missed` keeps them."""
    return " ".join(
        f"{part.key}:{part.weight - part.points:.1f}" for part in health.parts if part.known
    )


def read_missed(words: str) -> dict[str, float]:
    missed: dict[str, float] = {}
    for word in words.split():
        key, _, points = word.partition(":")
        try:
            missed[key] = float(points)
        except ValueError:
            continue  # written by another version: left out rather than misread
    return missed


def fallen_parts(now: dict[str, float], before: dict[str, float]) -> list[tuple[str, float]]:
    """(part, points more missed than before), most first, for the parts that fell by
    FELL_BY or more; when the fall is spread thinner than that, the one that fell most."""
    order = list(PARTS)
    fell = sorted(
        ((key, round(missed - before.get(key, 0.0), 1)) for key, missed in now.items()),
        key=lambda pair: (-pair[1], order.index(pair[0]) if pair[0] in order else len(order)),
    )
    named = [(key, more) for key, more in fell if more >= FELL_BY]
    return named or [(key, more) for key, more in fell[:1] if more > 0]


# --- the daily pass -----------------------------------------------------------------------


def teams_to_score(session: Session, *, today: date) -> list[str]:
    """The teams whose pass of `today` (UTC) is not done. The day's first look adds
    every team that has an account, so a new team is watched from the next day; not an
    uninstalled one, whose rows only wait for a reinstall or their deletion."""
    first_look = (
        session.scalar(select(HealthWatch.team_id).where(HealthWatch.scored_on >= today).limit(1))
        is None
    )
    if first_look:
        teams = session.scalars(select(Account.team_id).distinct().where(serving(Account.team_id)))
        insert_ignore_many(
            session,
            HealthWatch,
            [
                {"team_id": t, "scored_on": today - timedelta(days=1), "after_id": 0, "done": True}
                for t in teams
            ],
            unique=("team_id",),
        )
    return list(
        session.scalars(
            select(HealthWatch.team_id)
            .where(
                or_(HealthWatch.scored_on < today, HealthWatch.done.is_(False)),
                serving(HealthWatch.team_id),
            )
            .order_by(HealthWatch.team_id)
        )
    )


@dataclass
class TeamCheck:
    """One batch of a team's pass: the scores to keep, the falls to tell their owners
    of, and where the pass stands after it."""

    team_id: str
    day: date
    first_id: int  # the batch covers the accounts after this id
    last_id: int  # … up to this one
    done: bool  # no account after it: the day's pass is over
    scored: int = 0  # accounts read (lost ones are not scored)
    rows: list[dict[str, object]] = field(default_factory=list)
    falls: list[HealthFall] = field(default_factory=list)
    nudges: list[PlannedNudge] = field(default_factory=list)


def check_team(session: Session, *, team_id: str, now: datetime, limit: int) -> TeamCheck:
    """Score the next `limit` of the team's accounts, in id order, and find their falls.
    Reads only, so the scoring holds no write lock (SQLite has one writer)."""
    today = now.date()
    watch = session.get(HealthWatch, team_id)
    after = watch.after_id if watch is not None and watch.scored_on == today else 0
    batch = session.execute(
        select(Account.id, Account.owner_id, Account.paused_until)
        .where(Account.team_id == team_id, Account.id > after, account_state.WORKING)
        .order_by(Account.id)
        .limit(limit)
    ).all()
    last = batch[-1].id if batch else after
    check = TeamCheck(team_id, today, after, last, done=len(batch) < limit, scored=len(batch))
    scored = {
        account_id: health
        for account_id, health in account_health(
            session, team_id=team_id, account_ids=[row.id for row in batch], now=now
        ).items()
        if health.score is not None  # too new to judge: nothing to keep or compare
    }
    check.rows = [
        {
            "team_id": team_id,
            "day": today,
            "account_id": account_id,
            "score": health.score,
            "missed": missed_words(health),
        }
        for account_id, health in scored.items()
    ]
    rule = alert_rule(session, team_id=team_id)
    if rule.off or not scored:
        return check
    week = (
        HealthDay.team_id == team_id,
        HealthDay.day >= today - WEEK,
        HealthDay.day < today,
        HealthDay.account_id > after,
        HealthDay.account_id <= last,
    )
    highs: dict[int, int] = dict(
        session.execute(
            select(HealthDay.account_id, func.max(HealthDay.score))
            .where(*week)
            .group_by(HealthDay.account_id)
        ).all()
    )
    told = set(
        session.scalars(
            select(HealthFall.account_id).where(
                HealthFall.team_id == team_id,
                HealthFall.day > today - WEEK,
                HealthFall.account_id > after,
                HealthFall.account_id <= last,
            )
        )
    )
    owners = {row.id: row for row in batch}
    found: dict[int, Fall] = {}
    for account_id, health in scored.items():
        if account_id in told or account_state.paused_on(owners[account_id].paused_until, today):
            continue
        assert health.score is not None
        fell = fall(health.score, [highs[account_id]] if account_id in highs else [], rule)
        if fell is not None:
            found[account_id] = fell
    if not found:
        return check
    before = _highest_days(session, week, found)
    for account_id, fell in found.items():
        parts = fallen_parts(read_missed(missed_words(scored[account_id])), before[account_id])
        check.falls.append(
            HealthFall(
                team_id=team_id,
                account_id=account_id,
                day=today,
                before=fell.before,
                after=fell.after,
                below=fell.below,
                fell=[[key, more] for key, more in parts],
            )
        )
        check.nudges.append(
            PlannedNudge(
                kind=KIND,
                subject=f"{SUBJECT}:{account_id}",
                slot=today.isoformat(),
                recipient=owners[account_id].owner_id,
                account_id=account_id,
                due_at=now,
            )
        )
    return check


def _highest_days(
    session: Session, week: tuple[ColumnElement[bool], ...], found: dict[int, Fall]
) -> dict[int, dict[str, float]]:
    """The parts, as they stood on the day of each account's highest score."""
    best: dict[int, tuple[date, dict[str, float]]] = {}
    for account_id, day, score, missed in session.execute(
        select(HealthDay.account_id, HealthDay.day, HealthDay.score, HealthDay.missed).where(
            *week, HealthDay.account_id.in_(sorted(found))
        )
    ):
        if score == found[account_id].before and (
            account_id not in best or day > best[account_id][0]
        ):
            best[account_id] = (day, read_missed(missed))
    return {account_id: best[account_id][1] if account_id in best else {} for account_id in found}


def save_check(session: Session, check: TeamCheck) -> None:
    """Keep the batch's scores (a week of them: older ones of the same accounts go),
    the falls found, and where the team's pass stands."""
    insert_ignore_many(session, HealthDay, check.rows, unique=("team_id", "day", "account_id"))
    session.execute(
        delete(HealthDay).where(
            HealthDay.team_id == check.team_id,
            HealthDay.day < check.day - WEEK,
            HealthDay.account_id > check.first_id,
            HealthDay.account_id <= check.last_id,
        )
    )
    # Few, and never found twice: an account told of a fall this week is skipped.
    session.add_all(check.falls)
    session.execute(
        update(HealthWatch)
        .where(HealthWatch.team_id == check.team_id)
        .values(scored_on=check.day, after_id=check.last_id, done=check.done)
    )


# --- the DM -----------------------------------------------------------------------------


@dataclass(frozen=True)
class FallenPart:
    label: str
    points: int  # more points missed than on the day it stood highest
    detail: str  # how the part stands now


@dataclass(frozen=True)
class FallShown:
    """A fall as the owner's DM shows it, read as it is sent (the first four fields
    are the HealthFall's)."""

    before: int
    after: int
    below: int | None
    day: date  # the day it was found: `before` is the highest of the seven days before
    now: int | None  # the score as the DM is sent (None: no score any more)
    parts: tuple[FallenPart, ...]
    advice: Advice | None
    # Back up since: by the team's rule it is no fall any more; nothing is sent.
    recovered: bool


def fall_shown(
    session: Session,
    *,
    team_id: str,
    account_id: int,
    day: date,
    now: datetime,
    playbook: Playbook,
) -> FallShown | None:
    """The fall found for the account on `day`, with how its parts stand at `now`."""
    found = session.get(HealthFall, (team_id, account_id, day))
    if found is None:
        return None
    health = account_health(session, team_id=team_id, account_ids=[account_id], now=now).get(
        account_id
    )
    score = health.score if health is not None else None
    rule = alert_rule(session, team_id=team_id)
    still = score is not None and fall(score, [found.before], rule) is not None
    parts_now = {part.key: part for part in health.parts} if health is not None else {}
    parts = tuple(
        FallenPart(
            PARTS[key][0],
            round(more),
            parts_now[key].detail if key in parts_now else "",
        )
        for key, more in _fell(found.fell)
        if key in PARTS
    )
    advice = for_part(playbook, _fell(found.fell)[0][0]) if found.fell else None
    return copied(FallShown, found, now=score, parts=parts, advice=advice, recovered=not still)


def _fell(stored: Sequence[object]) -> list[tuple[str, float]]:
    """HealthFall.fell as pairs, skipping anything another version wrote differently."""
    pairs = []
    for pair in stored:
        if isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str):
            pairs.append((pair[0], float(pair[1])))
    return pairs
