"""The database models, one module a concern; importing this package registers every
table on `Base.metadata` (Alembic and `create_all` read it).

- `base`: the declarative base every model derives from, and the column type of Slack ids.
- `accounts`: the customer relationship, its stage and type, and its history of changes.
- `negotiation`: the give/get concession log (with its edits), MESO sets and their offers,
  and each team's negotiation settings.
- `governance`: governance plans (who meets whom, how often, on what) and debriefs after a
  deal.
- `scheduling`: commitments (follow-ups), user preferences and working hours, team days off,
  nudges, QBRs, check-ins and touches.
- `team`: team-wide views: ratings, health snapshots and digest subscriptions.
- `delivery`: the outbox of messages to Slack, teams on hold, and the replies kept for
  requests Slack may deliver twice.
"""

from storage.models.accounts import (
    RELATIONSHIP_TYPES as RELATIONSHIP_TYPES,
)
from storage.models.accounts import (
    STAGE_WORDS as STAGE_WORDS,
)
from storage.models.accounts import (
    Account as Account,
)
from storage.models.accounts import (
    AccountChange as AccountChange,
)
from storage.models.accounts import (
    AccountStage as AccountStage,
)
from storage.models.base import (
    Base as Base,
)
from storage.models.base import (
    SlackId as SlackId,
)
from storage.models.delivery import (
    DeliveryHold as DeliveryHold,
)
from storage.models.delivery import (
    OutboxMessage as OutboxMessage,
)
from storage.models.delivery import (
    OutboxStatus as OutboxStatus,
)
from storage.models.delivery import (
    RequestReply as RequestReply,
)
from storage.models.governance import (
    Debrief as Debrief,
)
from storage.models.governance import (
    GovernancePlan as GovernancePlan,
)
from storage.models.governance import (
    ReviewCadence as ReviewCadence,
)
from storage.models.negotiation import (
    Concession as Concession,
)
from storage.models.negotiation import (
    ConcessionRevision as ConcessionRevision,
)
from storage.models.negotiation import (
    MesoOffer as MesoOffer,
)
from storage.models.negotiation import (
    MesoSet as MesoSet,
)
from storage.models.negotiation import (
    NegotiationSettings as NegotiationSettings,
)
from storage.models.scheduling import (
    DEFAULT_WORK_DAYS as DEFAULT_WORK_DAYS,
)
from storage.models.scheduling import (
    DEFAULT_WORK_END as DEFAULT_WORK_END,
)
from storage.models.scheduling import (
    DEFAULT_WORK_START as DEFAULT_WORK_START,
)
from storage.models.scheduling import (
    NUDGE_IS_PENDING as NUDGE_IS_PENDING,
)
from storage.models.scheduling import (
    ChannelPacing as ChannelPacing,
)
from storage.models.scheduling import (
    CheckIn as CheckIn,
)
from storage.models.scheduling import (
    Commitment as Commitment,
)
from storage.models.scheduling import (
    CommitmentDirection as CommitmentDirection,
)
from storage.models.scheduling import (
    Nudge as Nudge,
)
from storage.models.scheduling import (
    NudgeStatus as NudgeStatus,
)
from storage.models.scheduling import (
    Qbr as Qbr,
)
from storage.models.scheduling import (
    QbrCadence as QbrCadence,
)
from storage.models.scheduling import (
    TeamCalendar as TeamCalendar,
)
from storage.models.scheduling import (
    TeamHoliday as TeamHoliday,
)
from storage.models.scheduling import (
    Touch as Touch,
)
from storage.models.scheduling import (
    UserPrefs as UserPrefs,
)
from storage.models.team import (
    DigestScope as DigestScope,
)
from storage.models.team import (
    DigestSubscription as DigestSubscription,
)
from storage.models.team import (
    HealthSnapshot as HealthSnapshot,
)
from storage.models.team import (
    QuietWeek as QuietWeek,
)
from storage.models.team import (
    Rating as Rating,
)
from storage.models.team import (
    RatingKind as RatingKind,
)
