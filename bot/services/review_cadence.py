"""Whether an account's governance plan and its QBR rhythm agree, and lining the rhythm
up with the plan in one step.

The plan's review cadence is what was agreed with the buyer; the QBR rhythm
(bot/services/rhythm.py) is what Rapport reminds the owner of: a business review
monthly or quarterly, its agenda drafted a week ahead, asked after whether it took
place. The plan's weekly and fortnightly reviews are working calls between business
reviews, so the rhythm that fits them is monthly, the most often Rapport plans a
review (weekly reviews with a week's lead and a week's window either side would run
into each other); a plan that reviews twice a year fits a quarterly rhythm, the least
often. Lining up changes the QBR rhythm, never the plan: the plan is the agreement
with the buyer, the rhythm only Rapport's reminders of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from bot.services import account_state, rhythm
from bot.services.accounts import account_by_id
from bot.services.calendar import WorkCalendar
from bot.services.errors import NotFound
from bot.services.governance import ACCOUNT_GONE, Plan, plan_of
from storage.models import Account, Qbr, QbrCadence, ReviewCadence

# The QBR rhythm each of the plan's cadences calls for.
FITTING: dict[str, QbrCadence] = {
    ReviewCadence.WEEKLY: QbrCadence.MONTH,
    ReviewCadence.FORTNIGHTLY: QbrCadence.MONTH,
    ReviewCadence.MONTHLY: QbrCadence.MONTH,
    ReviewCadence.QUARTERLY: QbrCadence.QUARTER,
    ReviewCadence.TWICE_A_YEAR: QbrCadence.QUARTER,
}
# Those the QBR rhythm holds as they are; the others it comes as close to as it can.
EXACT = frozenset({ReviewCadence.MONTHLY, ReviewCadence.QUARTERLY})


@dataclass(frozen=True)
class CadenceFit:
    """An account's governance plan beside its QBR rhythm."""

    account_id: int
    plan_cadence: str
    fitting: str  # the QBR cadence the plan calls for ("month" or "quarter")
    qbr_cadence: str | None  # None: no QBR planned (or one a loss dropped)
    next_on: date | None  # the next QBR, when one is planned
    # A lost account plans nothing, so nothing is offered to line up.
    can_align: bool

    @property
    def agrees(self) -> bool:
        return self.qbr_cadence == self.fitting

    @property
    def exact(self) -> bool:
        """The QBR rhythm can hold the plan's cadence as it is (monthly, quarterly)."""
        return self.plan_cadence in EXACT


def fit_of(account: Account, plan: Plan, qbr: Qbr | None) -> CadenceFit:
    live = qbr if qbr is not None and qbr.dropped_at is None else None
    return CadenceFit(
        account_id=account.id,
        plan_cadence=plan.cadence,
        fitting=FITTING.get(plan.cadence, QbrCadence.QUARTER),
        qbr_cadence=live.cadence if live is not None else None,
        next_on=live.next_on if live is not None else None,
        can_align=account_state.schedules(account.stage),
    )


def cadence_fit(session: Session, *, team_id: str, account_id: int) -> CadenceFit | None:
    """The plan's cadence beside the QBR rhythm; None before the account has a plan."""
    plan = plan_of(session, team_id=team_id, account_id=account_id)
    if plan is None:
        return None
    account = account_by_id(session, team_id=team_id, account_id=account_id, gone=ACCOUNT_GONE)
    return fit_of(account, plan, rhythm.live_qbr(session, account))


@dataclass(frozen=True)
class Aligned:
    """The QBR rhythm after lining it up with the plan."""

    qbr: Qbr
    account: Account
    fit: CadenceFit
    was: str | None  # the cadence before (None: no QBR was planned)
    changed: bool  # False: it already agreed (a second click)


def align_qbr(
    session: Session,
    *,
    team_id: str,
    account_id: int,
    user_id: str,
    calendar: WorkCalendar,
    now: datetime,
) -> Aligned:
    """Set the account's QBR rhythm to the one its plan calls for. A review already
    planned within one new interval keeps its day; otherwise (or with none planned) the
    next is one interval from today, on the owner's working day."""
    account = account_by_id(session, team_id=team_id, account_id=account_id, gone=ACCOUNT_GONE)
    plan = plan_of(session, team_id=team_id, account_id=account.id)
    if plan is None:
        raise NotFound(
            f"{account.name} has no governance plan to line its QBRs up with. "
            f"Write one: `/rapport governance {account.name}`."
        )
    qbr = rhythm.live_qbr(session, account)
    fit = fit_of(account, plan, qbr)
    if qbr is not None and fit.agrees:
        return Aligned(qbr=qbr, account=account, fit=fit, was=qbr.cadence, changed=False)
    today = calendar.today(now)
    first = calendar.on_or_after(rhythm.next_review(today, fit.fitting))
    keep = qbr is not None and today <= qbr.next_on <= first
    scheduled = rhythm.schedule_qbr(
        session,
        account=account,
        next_on=qbr.next_on if keep and qbr is not None else first,
        cadence=fit.fitting,
        user_id=user_id,
        calendar=calendar,
        now=now,
    )
    return Aligned(
        qbr=scheduled,
        account=account,
        fit=fit_of(account, plan, scheduled),
        was=fit.qbr_cadence,
        changed=True,
    )
