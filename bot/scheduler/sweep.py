"""One scheduler pass at `now`, the pipeline's stages in order: plan due nudges
(`plan`), look up the time zones of the people about to be nudged
(`bot/slackapi/timezones.py`), group the nudges per person (`group`), deliver the
outbox (`delivery`, rendering each message with `compose`), then the weekly digests,
and last the deletion of what uninstalled workspaces left (`purge`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from bot.config import Settings
from bot.scheduler import compose, digests, group, plan, purge
from bot.scheduler.delivery import ChannelPacer, ClientForTeam, DeliveryReport, deliver_pending
from bot.slackapi import timezones
from storage.db import SessionFactory, one_at_a_time

log = logging.getLogger("rapport.sweep")

PLAN_AND_GROUP = "plan-and-group"  # the lock one sweeper at a time holds


@dataclass(frozen=True)
class SweepReport:
    planned: int  # new nudges written
    messages: int  # outbox messages they were grouped into
    delivery: DeliveryReport
    digests: int = 0  # channels whose weekly digest came round


def sweep(
    db: SessionFactory,
    client_for: ClientForTeam,
    settings: Settings,
    *,
    now: datetime,
    pacer: ChannelPacer | None = None,
) -> SweepReport:
    # One sweeper at a time plans and groups: each person's due nudges must become
    # one message, and two workers that each took part of someone's nudges would
    # send two. Sending, the slow part, runs in every worker at once.
    with one_at_a_time(db, PLAN_AND_GROUP):
        grouping = group.Grouping()
        planned = plan.plan_due(db, settings, now=now, grouping=grouping)
        people = group.due_recipients(db, now=now)
        timezones.refresh_timezones(db, client_for, people, now=now)
        messages = group.group_due(db, settings, now=now, grouping=grouping)

    # This minute's reminders go out before the week's digests are built: at a big
    # team's digest slot that takes seconds (bench/README.md), and a nudge due now
    # should not wait for it.
    def deliver() -> DeliveryReport:
        return deliver_pending(
            db,
            client_for,
            now=now,
            compose=compose.composer(settings),
            pacer=pacer,
            on_failure=digests.on_delivery_failure,
        )

    delivery = deliver()
    channels = digests.plan_digests(db, client_for, now=now)
    if channels:
        delivery += deliver()
    purge.purge_due(db, settings, now=now)
    if planned or messages or channels or delivery.sent or delivery.failed or delivery.held:
        log.info(
            "sweep at %s: %d nudges planned, %d messages, %d digests, %d sent, %d retrying, "
            "%d failed, %d held",
            now.isoformat(),
            planned,
            messages,
            channels,
            delivery.sent,
            delivery.retrying,
            delivery.failed,
            delivery.held,
        )
    return SweepReport(planned=planned, messages=messages, delivery=delivery, digests=channels)
