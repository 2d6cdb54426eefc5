"""An account's governance plan (one page per account) and its post-negotiation debriefs."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.services.accounts import AccountShown, account_by_id
from bot.services.shown import Shown, copied
from storage.models import Debrief, GovernancePlan, ReviewCadence
from storage.upsert import add_or_read_winner

MAX_OWNERS = 10
# `accounts.account_by_id`'s wording for an account a modal, or the button opening one,
# names and the team does not have (a stale or another workspace's id): the open modal
# shows it, so it says how to start again.
ACCOUNT_GONE = "That account is no longer there. Run the command again."


@dataclass(frozen=True)
class PlanFields:
    """What the plan says, already checked by whoever collected it."""

    cadence: ReviewCadence
    owner_ids: tuple[str, ...]
    kpis: str
    credits: str | None = None
    escalation_owner_id: str | None = None
    escalation: str | None = None
    exit_ramps: str | None = None
    reopeners: str | None = None


@dataclass(frozen=True)
class DebriefAnswers:
    trust: str | None = None
    trades: str | None = None
    metrics: str | None = None
    governance: str | None = None
    next_meso: str | None = None

    def answers(self) -> dict[str, str | None]:
        """The answers by name, which are also the names of the debrief's columns."""
        return {field.name: getattr(self, field.name) for field in fields(DebriefAnswers)}

    @property
    def is_empty(self) -> bool:
        return not any(self.answers().values())


@dataclass(frozen=True)
class Plan:
    """An account's governance plan as a message shows it (plain values)."""

    cadence: str
    owner_ids: tuple[str, ...]
    kpis: str
    credits: str | None
    escalation_owner_id: str | None
    escalation: str | None
    exit_ramps: str | None
    reopeners: str | None
    updated_by: str
    updated_at: datetime

    @classmethod
    def of(cls, row: GovernancePlan) -> Plan:
        return copied(cls, row, owner_ids=tuple(row.owner_ids or ()))


@dataclass(frozen=True, kw_only=True)
class DebriefShown(DebriefAnswers, Shown):
    """A debrief as a message shows it (plain values): its answers, and whose they are."""

    id: int
    by_user: str
    at: datetime


@dataclass(frozen=True)
class GovernanceView:
    account: AccountShown
    plan: Plan | None


def shown_by_id(session: Session, *, team_id: str, account_id: int) -> AccountShown:
    """The account a button names, as its modal shows it."""
    return AccountShown.of(
        account_by_id(session, team_id=team_id, account_id=account_id, gone=ACCOUNT_GONE)
    )


def plan_of(session: Session, *, team_id: str, account_id: int) -> Plan | None:
    """The account's plan as messages show it; None before one is written."""
    row = _plan_row(session, team_id=team_id, account_id=account_id)
    return Plan.of(row) if row is not None else None


def _plan_row(session: Session, *, team_id: str, account_id: int) -> GovernancePlan | None:
    return session.scalar(
        select(GovernancePlan).where(
            GovernancePlan.team_id == team_id, GovernancePlan.account_id == account_id
        )
    )


def governance_view(session: Session, *, team_id: str, account: AccountShown) -> GovernanceView:
    return GovernanceView(
        account=account,
        plan=plan_of(session, team_id=team_id, account_id=account.id),
    )


def save_plan(
    session: Session,
    *,
    team_id: str,
    account_id: int,
    user_id: str,
    fields: PlanFields,
    now: datetime,
) -> GovernanceView:
    """Write the account's plan, replacing the previous version of it."""
    account = account_by_id(session, team_id=team_id, account_id=account_id, gone=ACCOUNT_GONE)
    plan = _plan_row(session, team_id=team_id, account_id=account.id)
    if plan is None:
        plan = GovernancePlan(team_id=team_id, account=account, created_by=user_id, created_at=now)
        _fill(plan, fields, user_id, now)
        # Two people saving the first plan at once: the loser updates the winner's row.
        plan, added = add_or_read_winner(
            session, plan, lambda: _plan_row(session, team_id=team_id, account_id=account.id)
        )
        if not added:
            _fill(plan, fields, user_id, now)
    else:
        _fill(plan, fields, user_id, now)
    session.flush()
    return GovernanceView(account=AccountShown.of(account), plan=Plan.of(plan))


def _fill(plan: GovernancePlan, fields: PlanFields, user_id: str, now: datetime) -> None:
    plan.cadence = fields.cadence.value
    plan.owner_ids = list(dict.fromkeys(fields.owner_ids))[:MAX_OWNERS]
    plan.kpis = fields.kpis
    plan.credits = fields.credits
    plan.escalation_owner_id = fields.escalation_owner_id
    plan.escalation = fields.escalation
    plan.exit_ramps = fields.exit_ramps
    plan.reopeners = fields.reopeners
    plan.updated_by = user_id
    plan.updated_at = now


@dataclass(frozen=True)
class SavedDebrief:
    account: AccountShown
    debrief: DebriefShown
    count: int  # debriefs on the account, this one included


def record_debrief(
    session: Session,
    *,
    team_id: str,
    account_id: int,
    user_id: str,
    answers: DebriefAnswers,
    view_id: str,
    now: datetime,
) -> SavedDebrief:
    """Store one debrief; the same modal submitted twice stores it once."""
    account = account_by_id(session, team_id=team_id, account_id=account_id, gone=ACCOUNT_GONE)
    debrief = Debrief(
        team_id=team_id,
        account=account,
        **answers.answers(),
        by_user=user_id,
        at=now,
        view_id=view_id,
    )
    # The same modal submitted twice: the second gets the first one's debrief.
    debrief, _ = add_or_read_winner(
        session,
        debrief,
        lambda: session.scalar(
            select(Debrief).where(Debrief.team_id == team_id, Debrief.view_id == view_id)
        ),
    )
    return SavedDebrief(
        account=AccountShown.of(account),
        debrief=DebriefShown.of(debrief),
        count=debrief_count(session, team_id=team_id, account_id=account.id),
    )


def debrief_count(session: Session, *, team_id: str, account_id: int) -> int:
    return (
        session.scalar(
            select(func.count()).where(Debrief.team_id == team_id, Debrief.account_id == account_id)
        )
        or 0
    )


def latest_debrief_row(session: Session, *, team_id: str, account_id: int) -> Debrief | None:
    """The account's latest debrief; None before its first."""
    return session.scalar(
        select(Debrief)
        .where(Debrief.team_id == team_id, Debrief.account_id == account_id)
        .order_by(Debrief.at.desc(), Debrief.id.desc())
        .limit(1)
    )


def latest_debrief(session: Session, *, team_id: str, account_id: int) -> DebriefShown | None:
    row = latest_debrief_row(session, team_id=team_id, account_id=account_id)
    return DebriefShown.of(row) if row is not None else None
