"""What a buyer's CSAT or NPS answer says: the two questions read on their own scales.

Both are recorded the same way, a whole number from 0 to 10 clicked in the rating
modal (handlers/ratings.py), but they are different questions and are read apart:

- **CSAT** ("how satisfied are they with us?") is a score: the higher the better,
  and the target is an average above 8 (the relationship-management article's
  benchmark). A 9 or 10 is a high point; 6 or less is as unhappy as an NPS detractor.
- **NPS** ("how likely are they to recommend us?") sorts each answer into a group:
  9-10 promoters, 7-8 passives, 0-6 detractors. Over several answers the figure is
  the share of promoters less the share of detractors, from -100 to +100. A 7 is not
  "70% good": a passive neither harms nor helps.

A high answer is the moment to ask for a referral; a low one calls for the recovery
move (bot.services.coaching).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from storage.models import RatingKind

# NPS groups, by the lowest answer in each.
PROMOTER_FROM = 9
PASSIVE_FROM = 7
# CSAT: the target is an average above this; a single answer above it is a high point.
CSAT_TARGET = 8
# A CSAT at or below this is a low mark, treated like an NPS detractor.
CSAT_LOW = 6


@dataclass(frozen=True)
class Scales:
    """The lines above, as a message that explains them shows them."""

    csat_target: int = CSAT_TARGET
    csat_low: int = CSAT_LOW
    promoter_from: int = PROMOTER_FROM
    passive_from: int = PASSIVE_FROM


SCALES = Scales()


class NpsGroup(StrEnum):
    PROMOTER = "promoter"
    PASSIVE = "passive"
    DETRACTOR = "detractor"


class Next(StrEnum):
    """What a recorded answer calls for."""

    REFERRAL = "referral"  # a high point: ask for an introduction
    RECOVERY = "recovery"  # something went wrong: find out what and fix it


def nps_group(score: int) -> NpsGroup:
    if score >= PROMOTER_FROM:
        return NpsGroup.PROMOTER
    if score >= PASSIVE_FROM:
        return NpsGroup.PASSIVE
    return NpsGroup.DETRACTOR


def above_target(csat: float) -> bool:
    """Whether a CSAT (one answer, or an average) meets the target of above 8."""
    return csat > CSAT_TARGET


def next_move(kind: str, score: int) -> Next | None:
    """A CSAT of 9-10 or a promoter: ask for a referral; a detractor or a CSAT of 6 or
    less: recover; anything between calls for nothing special."""
    if kind == RatingKind.NPS:
        group = nps_group(score)
        if group is NpsGroup.PROMOTER:
            return Next.REFERRAL
        return Next.RECOVERY if group is NpsGroup.DETRACTOR else None
    if above_target(score):
        return Next.REFERRAL
    return Next.RECOVERY if score <= CSAT_LOW else None


def answer_value(kind: str, score: int) -> float:
    """What one answer is worth to the health score, from 0 to 1: a CSAT its score out
    of 10; an NPS answer by its group (a promoter 1, a passive 0.5, a detractor 0), so
    the mean of NPS answers is (NPS + 100) / 200 and never reads a 6 as 60% happy."""
    score = min(max(score, 0), 10)
    if kind == RatingKind.NPS:
        return {NpsGroup.PROMOTER: 1.0, NpsGroup.PASSIVE: 0.5, NpsGroup.DETRACTOR: 0.0}[
            nps_group(score)
        ]
    return score / 10


def nps_figure(promoters: int, detractors: int, answers: int) -> int:
    """% promoters less % detractors, rounded: -100 to +100."""
    return round(100 * (promoters - detractors) / answers) if answers else 0


@dataclass(frozen=True)
class BuyerScores:
    """A set of answers summed up: CSAT's average against its target, NPS by group."""

    csat_answers: int = 0
    csat_total: int = 0
    promoters: int = 0
    passives: int = 0
    detractors: int = 0

    @property
    def csat_target(self) -> int:
        return CSAT_TARGET

    @property
    def csat_mean(self) -> float | None:
        return self.csat_total / self.csat_answers if self.csat_answers else None

    @property
    def csat_met(self) -> bool | None:
        mean = self.csat_mean
        return None if mean is None else above_target(mean)

    @property
    def nps_answers(self) -> int:
        return self.promoters + self.passives + self.detractors

    @property
    def nps(self) -> int | None:
        """The NPS figure, once there are several answers to make one of."""
        if self.nps_answers < 2:
            return None
        return nps_figure(self.promoters, self.detractors, self.nps_answers)

    @property
    def empty(self) -> bool:
        return not self.csat_answers and not self.nps_answers


def sum_up(answers: Iterable[tuple[str, int]]) -> BuyerScores:
    """(kind, score) pairs summed up by kind."""
    csat = csat_total = 0
    groups = dict.fromkeys(NpsGroup, 0)
    for kind, score in answers:
        if kind == RatingKind.NPS:
            groups[nps_group(score)] += 1
        else:
            csat += 1
            csat_total += score
    return BuyerScores(
        csat_answers=csat,
        csat_total=csat_total,
        promoters=groups[NpsGroup.PROMOTER],
        passives=groups[NpsGroup.PASSIVE],
        detractors=groups[NpsGroup.DETRACTOR],
    )
