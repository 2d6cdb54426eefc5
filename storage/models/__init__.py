"""The database models, one module a concern; importing this package registers every
table on `Base.metadata` (Alembic and `create_all` read it).

- `base`: the declarative base every model derives from, the column type of Slack ids, and
  the columns many tables share (a team's row, an account's row, team-wide settings).
- `accounts`: the customer relationship, its stage and type, and its history of changes.
- `negotiation`: the give/get concession log (with its edits), MESO sets and their offers,
  and each team's negotiation settings.
- `governance`: governance plans (who meets whom, how often, on what) and debriefs after a
  deal.
- `preparation`: negotiation preps, the one-page plan written before each negotiation.
- `scheduling`: commitments (follow-ups), user preferences and working hours, team days off,
  nudges, QBRs, check-ins and touches.
- `kpis`: client questions on the team's reply clock; renewals, repeat purchases and
  referrals.
- `team`: team-wide views: ratings, health snapshots, the daily health watch and its
  alerts, digest subscriptions, and how far an Enterprise Grid org's App Home and digests
  look.
- `delivery`: the outbox of messages to Slack, teams on hold, workspaces that uninstalled
  Rapport, and the replies kept for requests Slack may deliver twice.
- `installs`: in distributed mode, Slack's installations (each workspace's bot token) and
  the states of installs under way, as slack_sdk's stores keep them, and the Enterprise
  Grid org of each workspace whose requests named one.
"""

from storage.models.accounts import (
    RELATIONSHIP_TYPES,
    STAGE_WORDS,
    Account,
    AccountChange,
    AccountStage,
)
from storage.models.base import Base, SlackId
from storage.models.delivery import (
    DeliveryHold,
    OutboxMessage,
    OutboxStatus,
    RequestReply,
    TeamUninstall,
)
from storage.models.governance import Debrief, DebriefFollowup, GovernancePlan, ReviewCadence
from storage.models.installs import (
    SLACK_BOTS,
    SLACK_INSTALLATIONS,
    SLACK_OAUTH_STATES,
    TeamEnterprise,
)
from storage.models.kpis import AccountKpi, ClientQuestion, KpiKind, RenewalOutcome
from storage.models.negotiation import (
    Concession,
    ConcessionRevision,
    ConcessionTerms,
    MesoOffer,
    MesoSet,
    NegotiationSettings,
)
from storage.models.preparation import NegotiationPrep
from storage.models.scheduling import (
    DEFAULT_WORK_DAYS,
    DEFAULT_WORK_END,
    DEFAULT_WORK_START,
    NUDGE_IS_PENDING,
    ChannelPacing,
    CheckIn,
    Commitment,
    CommitmentDirection,
    Nudge,
    NudgeStatus,
    Qbr,
    QbrCadence,
    TeamCalendar,
    TeamHoliday,
    Touch,
    UserPrefs,
)
from storage.models.team import (
    DigestScope,
    DigestSubscription,
    HealthAlerts,
    HealthDay,
    HealthFall,
    HealthSnapshot,
    HealthWatch,
    OrgView,
    QuietWeek,
    Rating,
    RatingKind,
    ViewScope,
)

__all__ = [
    "RELATIONSHIP_TYPES",
    "STAGE_WORDS",
    "Account",
    "AccountChange",
    "AccountStage",
    "Base",
    "SlackId",
    "DeliveryHold",
    "OutboxMessage",
    "OutboxStatus",
    "RequestReply",
    "TeamUninstall",
    "SLACK_BOTS",
    "SLACK_INSTALLATIONS",
    "SLACK_OAUTH_STATES",
    "TeamEnterprise",
    "AccountKpi",
    "ClientQuestion",
    "KpiKind",
    "RenewalOutcome",
    "Debrief",
    "DebriefFollowup",
    "GovernancePlan",
    "ReviewCadence",
    "NegotiationPrep",
    "Concession",
    "ConcessionRevision",
    "MesoOffer",
    "MesoSet",
    "NegotiationSettings",
    "ConcessionTerms",
    "DEFAULT_WORK_DAYS",
    "DEFAULT_WORK_END",
    "DEFAULT_WORK_START",
    "NUDGE_IS_PENDING",
    "ChannelPacing",
    "CheckIn",
    "Commitment",
    "CommitmentDirection",
    "Nudge",
    "NudgeStatus",
    "Qbr",
    "QbrCadence",
    "TeamCalendar",
    "TeamHoliday",
    "Touch",
    "UserPrefs",
    "DigestScope",
    "DigestSubscription",
    "HealthAlerts",
    "HealthDay",
    "HealthFall",
    "HealthSnapshot",
    "HealthWatch",
    "OrgView",
    "QuietWeek",
    "Rating",
    "RatingKind",
    "ViewScope",
]
