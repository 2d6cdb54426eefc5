"""One account at a glance: who owns it, what kind of relationship, what is open on it."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from bot.services import account_changes, account_kpis, account_state, lifecycle
from bot.services.account_changes import ChangeShown
from bot.services.account_kpis import AccountKpis, KpiInput
from bot.services.accounts import (
    AccountShown,
    clean_account_name,
    find_account,
    get_account,
    get_or_create_account,
)
from bot.services.concessions import balance_of
from bot.services.debrief_steps import DebriefSteps, latest_steps
from bot.services.errors import NotFound, UsageError
from bot.services.followups import CommitmentShown, reliability
from bot.services.governance import DebriefShown, Plan, latest_debrief, plan_of
from bot.services.prep import Prep, current_prep
from bot.services.questions import REPLY_WINDOW, AccountReplies, account_replies
from bot.services.review_cadence import CadenceFit, cadence_fit
from storage.models import RELATIONSHIP_TYPES, Commitment, MesoSet

OPEN_COMMITMENTS_SHOWN = 5
MAX_EXPECTATIONS = 500
# Words reps use for the five types, beyond the type names themselves.
_TYPE_ALIASES = {
    "personal assistance": "personal",
    "personal-assistance": "personal",
    "assistance": "personal",
    "advisor": "affiliative",
    "adviser": "affiliative",
    "trusted advisor": "affiliative",
    "partner": "strategic",
    "partnership": "strategic",
    "transaction": "transactional",
    "one-off": "transactional",
    "habit": "functional",
}


class GiveBalance(Protocol):
    """What the view reads from bot.services.concessions.balance_of's answer."""

    @property
    def traded(self) -> int: ...
    @property
    def one_way(self) -> int: ...
    @property
    def is_drifting(self) -> bool: ...


@dataclass(frozen=True)
class MesoOption:
    label: str
    terms: tuple[str, ...]


@dataclass(frozen=True)
class MesoSummary:
    """The latest MESO set offered on an account, as the account view shows it."""

    offered_at: datetime
    offered_by: str
    options: tuple[MesoOption, ...]
    chosen: str | None = None


def last_meso_set(session: Session, *, team_id: str, account_id: int) -> MesoSummary | None:
    """The account's latest MESO set (storage.models), read-only.

    Read straight from the MESO tables rather than through bot.services.meso, whose
    API was still being built alongside this view.
    """
    meso = session.scalar(
        select(MesoSet)
        .where(MesoSet.team_id == team_id, MesoSet.account_id == account_id)
        .order_by(MesoSet.created_at.desc(), MesoSet.id.desc())
        .options(selectinload(MesoSet.offers))
        .limit(1)
    )
    if meso is None:
        return None
    return MesoSummary(
        offered_at=meso.created_at,
        offered_by=meso.created_by,
        options=tuple(
            MesoOption(
                label=offer.label,
                terms=tuple(
                    part for part in (offer.terms, offer.scope, offer.cadence, offer.extras) if part
                ),
            )
            for offer in meso.offers
        ),
        chosen=meso.chosen_label,
    )


@dataclass(frozen=True)
class AccountOverview:
    account: AccountShown
    balance: GiveBalance
    plan: Plan | None
    latest_debrief: DebriefShown | None
    meso: MesoSummary | None
    open_commitments: tuple[CommitmentShown, ...]
    open_count: int
    # Which fields this request changed: "type", "owner", "expects".
    changed: tuple[str, ...] = ()
    # Reliability: follow-ups to this account closed, and how many of them on time.
    kept_on_time: int = 0
    closed_count: int = 0
    # The day it is shown on, for what holds on it (None: show what is stored).
    today: date | None = None
    # The current negotiation's prep, if one is written (bot/services/prep.py).
    prep: Prep | None = None
    # The client's questions and how fast we answered them (None: not read).
    replies: AccountReplies | None = None
    # Renewal, retention, repeat purchases and referrals (None: not read).
    kpis: AccountKpis | None = None
    # The governance plan's review cadence beside the QBR rhythm (None: no plan).
    cadence: CadenceFit | None = None
    # The latest debrief's improvement steps and the follow-ups they became.
    debrief_steps: DebriefSteps | None = None
    # After a change: what it says about the account's stage (account_kpis.check_stage).
    stage_note: str | None = None

    @property
    def paused_until(self) -> date | None:
        """The pause that holds today: none on a lost account, none once it ended."""
        until = self.account.paused_until
        if until is None or account_state.is_lost(self.account.stage):
            return None
        return until if self.today is None or account_state.paused_on(until, self.today) else None

    @property
    def more_commitments(self) -> int:
        return self.open_count - len(self.open_commitments)


@dataclass(frozen=True)
class AccountChanges:
    relationship_type: str | None = None
    owner_id: str | None = None
    expectations: str | None = None
    # Where shared entries and escalations of unkept follow-ups go.
    channel_id: str | None = None
    # A renewal (its date, its outcome), a repeat purchase, a referral.
    kpis: KpiInput = KpiInput()

    @property
    def names(self) -> tuple[str, ...]:
        return (
            tuple(
                name
                for name, value in (
                    ("type", self.relationship_type),
                    ("owner", self.owner_id),
                    ("expects", self.expectations),
                    ("channel", self.channel_id),
                )
                if value is not None
            )
            + self.kpis.names
        )


def relationship_type_from(text: str) -> str:
    """One of RELATIONSHIP_TYPES for what a rep typed: the name, a common word, a typo."""
    wanted = " ".join(text.casefold().split())
    if wanted in RELATIONSHIP_TYPES:
        return wanted
    if wanted in _TYPE_ALIASES:
        return _TYPE_ALIASES[wanted]
    candidates = [*RELATIONSHIP_TYPES, *_TYPE_ALIASES]
    close = difflib.get_close_matches(wanted, candidates, n=1, cutoff=0.75)
    if close:
        return _TYPE_ALIASES.get(close[0], close[0])
    raise UsageError(
        "`type:` is one of " + ", ".join(f"`{name}`" for name in RELATIONSHIP_TYPES) + "."
    )


def overview(
    session: Session,
    *,
    team_id: str,
    account: AccountShown,
    changed: tuple[str, ...] = (),
    today: date | None = None,
    now: datetime | None = None,
) -> AccountOverview:
    """The account at a glance; with `now`, its client questions' response time too."""
    open_filter = (
        Commitment.team_id == team_id,
        Commitment.account_id == account.id,
        Commitment.done_at.is_(None),
    )
    commitments = session.scalars(
        select(Commitment)
        .where(*open_filter)
        .order_by(Commitment.due_on, Commitment.id)
        .limit(OPEN_COMMITMENTS_SHOWN)
    )
    open_count = session.scalar(select(func.count()).where(*open_filter)) or 0
    kept, closed = reliability(session, team_id=team_id, account_id=account.id)
    return AccountOverview(
        account=account,
        balance=balance_of(session, team_id=team_id, account_id=account.id),
        plan=plan_of(session, team_id=team_id, account_id=account.id),
        latest_debrief=latest_debrief(session, team_id=team_id, account_id=account.id),
        meso=last_meso_set(session, team_id=team_id, account_id=account.id),
        open_commitments=tuple(CommitmentShown.of(row, account) for row in commitments),
        open_count=open_count,
        changed=changed,
        kept_on_time=kept,
        closed_count=closed,
        today=today,
        prep=current_prep(session, team_id=team_id, account_id=account.id),
        cadence=cadence_fit(session, team_id=team_id, account_id=account.id),
        debrief_steps=latest_steps(session, team_id=team_id, account_id=account.id),
        replies=None
        if now is None
        else account_replies(
            session, team_id=team_id, account=account, since=now - REPLY_WINDOW, now=now
        ),
        kpis=account_kpis.account_kpis(session, team_id=team_id, account_id=account.id),
    )


def account_overview(
    session: Session,
    *,
    team_id: str,
    name: str,
    today: date | None = None,
    now: datetime | None = None,
) -> AccountOverview:
    account = find_account(session, team_id=team_id, name=name)
    if account is None:
        raise NotFound(
            f"There is no account called “{clean_account_name(name)}” yet. Start one with "
            f"`/rapport account {clean_account_name(name)} type: …` or `/concede`."
        )
    return overview(
        session, team_id=team_id, account=AccountShown.of(account), today=today, now=now
    )


def update_account(
    session: Session,
    *,
    team_id: str,
    name: str,
    user_id: str,
    changes: AccountChanges,
    now: datetime,
    today: date | None = None,
) -> AccountOverview:
    """Apply `changes` to the team's account, creating it (owned by `user_id`) if new."""
    account = get_or_create_account(session, team_id=team_id, name=name, user_id=user_id, now=now)
    stage_note = account_kpis.check_stage(account, changes.kpis)
    if (
        changes.relationship_type is not None
        and changes.relationship_type not in RELATIONSHIP_TYPES
    ):
        raise UsageError(f"Unknown relationship type `{changes.relationship_type}`.")
    # Each into the account's history; the owner hears of someone else's change.
    for field, value in (
        ("type", changes.relationship_type),
        ("owner", changes.owner_id),
        (
            "expects",
            None if changes.expectations is None else changes.expectations[:MAX_EXPECTATIONS],
        ),
        ("channel", changes.channel_id),
    ):
        if value is not None:
            lifecycle.set_field(session, account, field, value, actor_id=user_id, now=now)
    if changes.kpis.names:
        day = today or now.date()
        account_kpis.record(session, account, changes.kpis, user_id=user_id, today=day, now=now)
    session.flush()
    shown = AccountShown.of(account)
    card = overview(
        session, team_id=team_id, account=shown, changed=changes.names, today=today, now=now
    )
    return replace(card, stage_note=stage_note)


def account_history(
    session: Session, *, team_id: str, name: str
) -> tuple[AccountShown, list[ChangeShown]]:
    """`ACCOUNT history`: the account and its changes, newest first."""
    account = get_account(session, team_id=team_id, name=name)
    changes = account_changes.history(session, account=account)
    return AccountShown.of(account), [ChangeShown.of(change) for change in changes]
