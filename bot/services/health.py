"""Relationship health: one 0-100 score per account, made of parts anyone can read.

The score is the sum of seven parts. Each part earns points up to its weight, and each
says in plain words why it earned what it did, so a score is never a black box.

Weights (out of 100), and why:

- **kept, 25**: follow-ups we promised, kept by their due day. Trust is built by
  delivering small commitments consistently, and it falls apart fastest when
  promises don't match what happens. It is the part a rep
  controls most directly, so it weighs most.
- **touch, 20**: days since the last touch against the cadence of the account's
  relationship type (bot.services.rhythm.TOUCH_INTERVALS). Cooling engagement is
  the post-sale pitfall the negotiation article warns about, and regular contact is
  what the relationship-management article asks for.
- **ratings, 20**: the buyer's own CSAT/NPS answers, each on its own scale
  (bot.services.buyer_scores: CSAT out of 10 against its target of above 8, NPS
  by promoters, passives and detractors). Satisfaction and willingness to
  recommend are the KPIs the relationship-management article names; the
  buyer's voice deserves as much as our own activity, but it is sparse and
  self-reported, so it does not outweigh what we did.
- **balance, 15**: gives traded for something rather than handed over one-way.
  Concessions without reciprocity erode trust and margin and teach the buyer to wait
  for the next one. It matters during negotiation more than after, so it
  weighs less than the running signals above.
- **qbr, 10** and **checkins, 10**: reviews held on schedule and post-sale
  check-ins done; neglecting the relationship after the sale breaks trust
  continuity. They are the scheduled form of "touch", so each
  weighs less on its own.
- **replies, a tenth of the score**: client questions answered within the team's
  reply norm (bot.services.questions; four working hours unless the team set
  another). How fast we answer is a KPI the relationship-management article names,
  and a slow answer tells a buyer where they rank. A part of its own, not a detail
  of "kept": a question is not a promise the rep chose to make, and folding dozens
  of questions into a handful of promises would drown the promises. Its base weight
  is 100/9, so that with every part holding data it is worth 10 of the 100 and the
  six above keep their proportions (each gives up a tenth); an account with no
  question on record scores exactly as before. A late answer earns half (it came),
  a question still waiting past the norm nothing.

A part with no data yet (no QBR scheduled, no ratings recorded, nothing promised)
earns nothing and is worth nothing: its weight is spread over the parts that have
data, in proportion to their weights, so a new account is not punished for being
new. The last touch always has data (it counts from the win or the creation).

Windows: promises and check-ins count when due in the last 180 / 365 days, so an
old slip fades; a rating counts half as much for every quarter of age; client
questions count when asked in the last 90 days.

`account_health` reads everything in seven grouped queries per 2,000 accounts, and
does a few arithmetic steps per account: the weekly digest scores every account.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, Connection, func, select
from sqlalchemy.orm import Session

from bot.services import account_state, buyer_scores, questions
from bot.services.rhythm import QBR_WINDOW_DAYS, days_since_touch, touch_intervals_for
from messages.formats import reply_took
from storage.models import (
    Account,
    CheckIn,
    ClientQuestion,
    Commitment,
    CommitmentDirection,
    Concession,
    Qbr,
    Rating,
    RatingKind,
)
from storage.upsert import among

# key -> (label, base weight). The order is the order parts are shown in.
PARTS: dict[str, tuple[str, float]] = {
    "kept": ("Commitments kept on time", 25.0),
    "touch": ("Staying in touch", 20.0),
    "ratings": ("The buyer's ratings", 20.0),
    "balance": ("Give/get balance", 15.0),
    "qbr": ("QBRs on schedule", 10.0),
    "checkins": ("Check-ins done", 10.0),
    # A tenth of the score when every part has data (see the module's docstring).
    "replies": ("Replies to client questions", 100.0 / 9),
}

CHUNK = 2000
KEPT_WINDOW = timedelta(days=180)
CHECKIN_WINDOW = timedelta(days=365)
RATING_WINDOW = timedelta(days=730)
RATING_HALF_LIFE_DAYS = 91.0
# A check-in or QBR done within a week of its day still counts as on time (the same
# window rhythm.held_on_schedule gives a QBR).
GRACE = timedelta(days=QBR_WINDOW_DAYS)

HEALTHY = 70
WATCH = 45

# Too little to judge: an account younger than this, with fewer parts holding data than
# MIN_KNOWN_PARTS, shows "New: not enough history yet" rather than a score. One touch
# on a day-old account used to read "100/100, healthy", which nobody should believe.
MIN_HISTORY = timedelta(days=30)
MIN_KNOWN_PARTS = 3
NEW = "new"


@dataclass(frozen=True)
class HealthPart:
    key: str  # "kept", "balance", "touch", "qbr", "checkins", "ratings"
    label: str  # human label
    points: float  # points earned (0..weight)
    weight: float  # points this part is worth after redistribution (0 if no data)
    detail: str  # plain-text why, e.g. "4 of 5 follow-ups kept on time"
    known: bool  # False when there is no data for it yet


@dataclass(frozen=True)
class Health:
    account_id: int
    score: int | None  # 0..100; None while there is not enough history to judge
    parts: tuple[HealthPart, ...]

    @property
    def band(self) -> str:
        return NEW if self.score is None else health_band(self.score)

    @property
    def is_new(self) -> bool:
        return self.score is None

    @property
    def redistributed(self) -> bool:
        """Some part had no data, so the others are worth more than their base weight."""
        return any(not part.known for part in self.parts)

    @property
    def weakest(self) -> HealthPart | None:
        """The part that lost the most points, if any lost a whole point."""
        lost = max(self.parts, key=lambda part: part.weight - part.points)
        return lost if lost.weight - lost.points >= 1 else None


def health_band(score: int) -> str:
    """70+ healthy, 45-69 watch, below 45 at risk.

    70 is about what an account earns with every promise kept and contact a little
    overdue; below 45 at least two parts are failing outright.
    """
    if score >= HEALTHY:
        return "healthy"
    if score >= WATCH:
        return "watch"
    return "at risk"


# --- what each part earns, as a fraction of its weight ----------------------------


@dataclass(frozen=True)
class Raw:
    """One part before weighting: the fraction earned (None: no data) and why."""

    fraction: float | None
    detail: str


_NO_PROMISES = Raw(None, "no data yet: nothing we promised fell due in the last 6 months")
_NO_GIVES = Raw(None, "no data yet: no concessions logged")
_NO_QBR = Raw(None, "no data yet: no QBR scheduled")
_NO_CHECKINS = Raw(None, "no data yet: no check-in due in the last year")
_NO_RATINGS = Raw(None, "no data yet: no CSAT or NPS answer recorded")
_NO_QUESTIONS = Raw(None, "no data yet: no client question answered or overdue in 90 days")


def _day(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b %Y}"


def _plural(count: int, word: str, many: str | None = None) -> str:
    return f"{count} {word if count == 1 else (many or word + 's')}"


def _share(good: float, total: int, none: Raw, detail: str) -> Raw:
    """`good` of `total` counted things as the part's fraction; `none` with none counted."""
    return Raw(good / total, detail) if total else none


def _and(count: int, words: str) -> str:
    """`; <count> <words>`, said only when there are some."""
    return f"; {count} {words}" if count else ""


def kept_part(kept: int, closed_late: int, overdue: int) -> Raw:
    total = kept + closed_late + overdue
    detail = f"{kept} of {_plural(total, 'follow-up')} due in the last 6 months kept on time"
    return _share(kept, total, _NO_PROMISES, detail + _and(overdue, "still open past the due day"))


def balance_part(traded: int, one_way: int) -> Raw:
    total = traded + one_way
    detail = f"{traded} of {_plural(total, 'give')} traded for something in return"
    return _share(traded, total, _NO_GIVES, detail + _and(one_way, "one-way"))


def touch_part(days: int, relationship_type: str | None) -> Raw:
    """Full marks up to the type's ideal gap; half at its maximum; none at twice that."""
    ideal, maximum = touch_intervals_for(relationship_type)
    if days <= ideal:
        fraction = 1.0
    elif days <= maximum:
        fraction = 1.0 - 0.5 * (days - ideal) / (maximum - ideal)
    else:
        fraction = max(0.0, 0.5 - 0.5 * (days - maximum) / maximum)
    kind = f"a {relationship_type}" if relationship_type else "this"
    ago = "last touch today" if days == 0 else f"{_plural(days, 'day')} since the last touch"
    detail = f"{ago}; {kind} relationship wants one every {ideal} days ({maximum} at most)"
    return Raw(fraction, detail)


def qbr_part(qbr: tuple[date, int, int, int] | None, today: date) -> Raw:
    """(next_on, held, on time, missed). A review more than a week overdue counts as
    missed until the sweep rolls it on as such."""
    if qbr is None:
        return _NO_QBR
    next_on, held, on_time, missed = qbr
    overdue = next_on + GRACE < today
    counted = held + missed + (1 if overdue else 0)
    if counted == 0:
        return Raw(None, f"no data yet: the first QBR is on {_day(next_on)}")
    detail = f"{on_time} of {_plural(held + missed, 'QBR')} held on schedule"
    if overdue:
        detail += f"; the one due {_day(next_on)} has not been held"
    return Raw(min(on_time, counted) / counted, detail)


def checkins_part(rows: Sequence[tuple[date, datetime | None]], today: date) -> Raw:
    """(due day, done at) of check-ins due in the window. Late counts half; missed, none."""
    on_time = late = missed = 0
    for due_on, done_at in rows:
        if done_at is not None:
            if done_at.date() <= due_on + GRACE:
                on_time += 1
            else:
                late += 1
        elif due_on + GRACE < today:
            missed += 1
    counted = on_time + late + missed
    detail = f"{on_time + late} of {_plural(counted, 'check-in')} done"
    detail += (f" ({late} late)" if late else "") + _and(missed, "missed")
    return _share(on_time + 0.5 * late, counted, _NO_CHECKINS, detail)


def ratings_part(rows: Sequence[tuple[str, int, datetime]], now: datetime) -> Raw:
    """(kind, score 0-10, recorded at): each answer read on its own scale
    (buyer_scores.answer_value: a CSAT out of 10, an NPS answer by its group), a
    weighted mean, halving weight every quarter."""
    total_weight = weighted = 0.0
    csat_weight = csat_weighted = 0.0
    latest: dict[str, tuple[datetime, int]] = {}
    for kind, score, recorded_at in rows:
        age = max((now - recorded_at).total_seconds() / 86400, 0.0)
        weight = 0.5 ** (age / RATING_HALF_LIFE_DAYS)
        total_weight += weight
        weighted += weight * buyer_scores.answer_value(kind, score)
        if kind != RatingKind.NPS:
            csat_weight += weight
            csat_weighted += weight * min(max(score, 0), 10)
        if kind not in latest or recorded_at > latest[kind][0]:
            latest[kind] = (recorded_at, score)
    if not latest or total_weight == 0:
        return _NO_RATINGS
    summed = buyer_scores.sum_up((kind, score) for kind, score, _ in rows)
    said = []
    # The kind answered last leads.
    for kind in sorted(latest, key=lambda kind: latest[kind][0], reverse=True):
        score = latest[kind][1]
        if kind == RatingKind.NPS:
            said.append(_nps_detail(score, summed))
        else:
            said.append(_csat_detail(score, summed, csat_weighted / csat_weight))
    return Raw(weighted / total_weight, "; ".join(said))


def replies_part(tally: questions.ReplyTally) -> Raw:
    """Client questions of the window: within the norm earns in full, answered late
    half, still waiting past the norm nothing; the median reply is said too."""
    if tally.empty:
        return _NO_QUESTIONS
    detail = (
        f"{tally.within} of {_plural(tally.counted, 'client question')} in the last 90 days "
        "answered within the team's norm"
    )
    detail += f" ({tally.late} late)" if tally.late else ""
    detail += _and(tally.waiting_late, "still waiting past the norm")
    if tally.median_minutes is not None:
        detail += f"; median reply {reply_took(tally.median_minutes)}"
    return Raw((tally.within + 0.5 * tally.late) / tally.counted, detail)


def _csat_detail(latest: int, summed: buyer_scores.BuyerScores, mean: float) -> str:
    detail = f"latest CSAT {latest}/10"
    if summed.csat_answers > 1:
        detail += f", {mean:.1f} over {summed.csat_answers} answers, recent ones counting more"
    met = "met" if buyer_scores.above_target(mean) else "not met"
    return f"{detail} (target: above {buyer_scores.CSAT_TARGET}, {met})"


def _nps_detail(latest: int, summed: buyer_scores.BuyerScores) -> str:
    detail = f"latest NPS {latest}/10, a {buyer_scores.nps_group(latest)}"
    if summed.nps is not None:
        groups = ", ".join(
            _plural(count, word)
            for count, word in (
                (summed.promoters, "promoter"),
                (summed.passives, "passive"),
                (summed.detractors, "detractor"),
            )
            if count
        )
        detail += f"; NPS {summed.nps:+d} over {summed.nps_answers} answers ({groups})"
    return detail


# One shared instance per part without data (they are immutable): the digest scores
# every account of a team, and most lack a part or two.
_UNKNOWN: dict[tuple[str, str], HealthPart] = {}


def _unknown(key: str, label: str, detail: str) -> HealthPart:
    part = _UNKNOWN.get((key, detail))
    if part is None:
        part = HealthPart(key, label, 0.0, 0.0, detail, False)
        if len(_UNKNOWN) < 1000:  # details with dates vary; keep the cache bounded
            _UNKNOWN[(key, detail)] = part
    return part


def combine(account_id: int, raws: dict[str, Raw], *, established: bool = True) -> Health:
    """Weight the parts, spreading the weight of parts without data over the others.

    `established`: the account is old enough to judge. A young one is still scored
    once MIN_KNOWN_PARTS parts hold data; below that it has no score (see MIN_HISTORY).
    """
    known_weight = 0.0
    for key, raw in raws.items():
        if raw.fraction is not None:
            known_weight += PARTS[key][1]
    scale = 100.0 / known_weight if known_weight else 0.0
    parts = []
    total = 0.0
    for key, (label, base) in PARTS.items():
        raw = raws[key]
        fraction = raw.fraction
        if fraction is None:
            parts.append(_unknown(key, label, raw.detail))
            continue
        weight = base * scale
        fraction = 0.0 if fraction < 0.0 else 1.0 if fraction > 1.0 else fraction
        points = fraction * weight
        total += points
        parts.append(HealthPart(key, label, points, weight, raw.detail, True))
    known_parts = sum(1 for part in parts if part.known)
    if not established and known_parts < MIN_KNOWN_PARTS:
        return Health(account_id=account_id, score=None, parts=tuple(parts))
    score = min(max(round(total), 0), 100)
    return Health(account_id=account_id, score=score, parts=tuple(parts))


# --- reading the data, a chunk of accounts at a time -------------------------------


def _chunks(ids: Sequence[int]) -> Iterator[list[int]]:
    unique = sorted(set(ids))
    for start in range(0, len(unique), CHUNK):
        yield unique[start : start + CHUNK]


def _among(session: Session, column: Any, ids: list[int]) -> ColumnElement[bool]:
    """`column IN ids`, or a range when the ids are dense: binding 2,000 parameters per
    statement cost more than the rows it read (the team's accounts are mostly dense).
    Sparse ids go as one array parameter (storage.upsert.among), not one per id."""
    low, high = ids[0], ids[-1]
    if high - low < 2 * len(ids):
        return cast("ColumnElement[bool]", column.between(low, high))
    return among(session, column, ids)


def account_health(
    session: Session, *, team_id: str, account_ids: Sequence[int], now: datetime
) -> dict[int, Health]:
    """The health of each of the team's accounts named; other teams' ids are left out."""
    result: dict[int, Health] = {}
    today = now.date()
    for ids in _chunks(account_ids):
        result.update(_chunk_health(session, team_id, ids, now, today))
    return result


def owner_health(
    session: Session, *, team_id: str, owner_id: str, now: datetime
) -> list[tuple[str, Health]]:
    """The owner's open and won accounts by name with their health, lowest score first;
    new ones (no score yet) after them, and by name among equals."""
    mine = session.execute(
        select(Account.id, Account.name).where(
            Account.team_id == team_id,
            Account.owner_id == owner_id,
            account_state.WORKING,
        )
    ).all()
    scored = account_health(session, team_id=team_id, account_ids=[i for i, _ in mine], now=now)
    return sorted(
        ((name, scored[i]) for i, name in mine if i in scored),
        key=lambda pair: (pair[1].is_new, pair[1].score or 0, pair[0].casefold()),
    )


def _counts_by_account(
    conn: Connection, account_id: Any, counts: tuple[Any, ...], *where: Any
) -> dict[int, tuple[Any, ...]]:
    """Each account's `counts` (aggregates) over the rows `where` holds, by account id."""
    rows = conn.execute(select(account_id, *counts).where(*where).group_by(account_id))
    return {row[0]: tuple(row[1:]) for row in rows}


def _chunk_health(
    session: Session, team_id: str, ids: list[int], now: datetime, today: date
) -> dict[int, Health]:
    # Core rows, not ORM ones: the same values at a fraction of the CPU per row.
    conn = session.connection()
    wanted = set(ids)
    accounts = conn.execute(
        select(
            Account.id,
            Account.relationship_type,
            Account.last_touch_at,
            Account.won_at,
            Account.created_at,
        ).where(
            Account.team_id == team_id,
            _among(session, Account.id, ids),
            # A lost account has no health score (bot.services.lifecycle).
            account_state.WORKING,
        )
    ).all()
    if not accounts:
        return {}

    done = Commitment.done_at.is_not(None)
    promises = _counts_by_account(
        conn,
        Commitment.account_id,
        (
            func.count().filter(done, Commitment.kept_on_time.is_(True)),
            func.count().filter(done),
            func.count().filter(Commitment.done_at.is_(None), Commitment.due_at < now),
        ),
        Commitment.team_id == team_id,
        _among(session, Commitment.account_id, ids),
        Commitment.direction == CommitmentDirection.OURS,
        Commitment.due_on >= today - KEPT_WINDOW,
        Commitment.dropped_at.is_(None),
    )
    live = Concession.withdrawn_at.is_(None)
    gives = _counts_by_account(
        conn,
        Concession.account_id,
        (func.count(Concession.get).filter(live), func.count().filter(live)),
        Concession.team_id == team_id,
        _among(session, Concession.account_id, ids),
    )
    qbrs = {
        row[0]: (row[1], row[2], row[3], row[4])
        for row in conn.execute(
            select(
                Qbr.account_id, Qbr.next_on, Qbr.held_count, Qbr.on_time_count, Qbr.missed_count
            ).where(
                Qbr.team_id == team_id, _among(session, Qbr.account_id, ids), account_state.QBR_LIVE
            )
        )
    }
    checkins: dict[int, list[tuple[date, datetime | None]]] = defaultdict(list)
    for account_id, due_on, done_at in conn.execute(
        select(CheckIn.account_id, CheckIn.due_on, CheckIn.done_at).where(
            CheckIn.team_id == team_id,
            _among(session, CheckIn.account_id, ids),
            CheckIn.due_on >= today - CHECKIN_WINDOW,
            CheckIn.dropped_at.is_(None),
        )
    ):
        checkins[account_id].append((due_on, done_at))
    ratings: dict[int, list[tuple[str, int, datetime]]] = defaultdict(list)
    for account_id, kind, score, recorded_at in conn.execute(
        select(Rating.account_id, Rating.kind, Rating.score, Rating.recorded_at).where(
            Rating.team_id == team_id,
            _among(session, Rating.account_id, ids),
            Rating.recorded_at >= now - RATING_WINDOW,
        )
    ):
        ratings[account_id].append((kind, score, recorded_at))

    asked: dict[int, list[tuple[datetime, datetime | None, int | None]]] = defaultdict(list)
    for account_id, reply_by, answered_at, minutes in conn.execute(
        select(
            ClientQuestion.account_id,
            ClientQuestion.reply_by,
            ClientQuestion.answered_at,
            ClientQuestion.reply_minutes,
        ).where(
            ClientQuestion.team_id == team_id,
            _among(session, ClientQuestion.account_id, ids),
            ClientQuestion.asked_at >= now - questions.REPLY_WINDOW,
        )
    ):
        asked[account_id].append((reply_by, answered_at, minutes))

    result = {}
    for account in accounts:
        account_id = account.id
        if account_id not in wanted:
            continue  # inside the range, not asked for
        kept, closed, overdue = promises.get(account_id, (0, 0, 0))
        traded, total = gives.get(account_id, (0, 0))
        raws = {
            "kept": kept_part(kept, closed - kept, overdue),
            "touch": touch_part(days_since_touch(account, now), account.relationship_type),
            "ratings": ratings_part(ratings.get(account_id, ()), now),
            "balance": balance_part(traded, total - traded),
            "qbr": qbr_part(qbrs.get(account_id), today),
            "checkins": checkins_part(checkins.get(account_id, ()), today),
            "replies": replies_part(questions.tally(asked.get(account_id, ()), now)),
        }
        established = now - account.created_at >= MIN_HISTORY
        result[account_id] = combine(account_id, raws, established=established)
    return result
