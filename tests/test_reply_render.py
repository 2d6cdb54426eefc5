"""The reply clock's templates (the answer to a question put on the clock, Replied, the
Reply owed form, the team's norm) and its parts of shared ones (the reminder DM, the
account card, the digest), and the account KPIs' parts of the card and the digest,
stay valid Block Kit inside Slack's sizes at their largest, with hostile text."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from bot.scheduler.digests import details_messages
from bot.services import account_kpis, questions
from bot.services.account_kpis import AccountKpis, Done, KpiTally
from bot.services.account_overview import AccountOverview
from bot.services.questions import AccountReplies, QuestionShown, Recorded, ReplyTally
from messages import render, render_in_parts
from messages.ids import Action, View
from messages.playbook import load_playbook
from tests.test_playbook_render import HOSTILE, check, fill
from tests.test_render import account, nudge_items, sample_digest

NOW = datetime(2026, 12, 3, 10, tzinfo=UTC)
TOKYO = ZoneInfo("Asia/Tokyo")


def question(text: str, n: int = 1, *, answered: bool = False, late: bool = False) -> QuestionShown:
    asked = NOW - timedelta(hours=n)
    reply_by = asked + timedelta(hours=4)
    answered_at = (
        (reply_by + timedelta(hours=2) if late else asked + timedelta(hours=1))
        if answered
        else None
    )
    return QuestionShown(
        id=n,
        account=account(text[:80]),
        question=text[: questions.MAX_QUESTION] or "x",
        owner_id="U0ALICE",
        recorded_by="U0BOB",
        asked_at=asked,
        reply_by=reply_by,
        norm_minutes=240,
        permalink=f"https://slack.com/archives/C0ACME/p17000000{n:08d}",
        answered_at=answered_at,
        reply_minutes=(360 if late else 60) if answered else None,
    )


def every_template(text: str) -> None:
    """Each template of the reply clock at its largest (and its emptiest) with `text`."""
    waiting = question(text)
    for recorded, reader, buttons in (
        (Recorded(waiting, NOW + timedelta(hours=3), NOW + timedelta(hours=1)), "U0ALICE", True),
        (Recorded(waiting, NOW, NOW - timedelta(hours=1)), "U0BOB", False),
        (
            Recorded(replace(waiting, reply_by=NOW - timedelta(minutes=1)), None, NOW),
            "U0ALICE",
            True,
        ),
        (Recorded(waiting, None, NOW, already=True), "U0BOB", False),
    ):
        message = render(
            "question_recorded",
            recorded=recorded,
            reader=reader,
            tz=TOKYO,
            now=NOW,
            buttons=buttons,
        )
        check(message)
        modal = render("notice_modal", title="On the clock", message=message)
        assert modal["type"] == "modal" and len(modal["blocks"]) <= 100
    many = [question(text, n, answered=True, late=n % 2 == 0) for n in range(1, 30)]
    check(render("question_replied", answered=many, again=False))
    check(render("question_replied", answered=many[:1], again=True))
    modal = render(
        "reply_owed_modal",
        callback_id=View.REPLY_OWED.value,
        metadata='{"message_ts": "1700000000.000100"}',
        account=text[:80],
        question=text * 3,
        asked_at=NOW,
        tz=TOKYO,
        norm=questions.MAX_NORM_MINUTES,
    )
    assert modal["type"] == "modal" and len(modal["blocks"]) <= 100
    render(
        "reply_owed_modal",
        callback_id=View.REPLY_OWED.value,
        metadata="{}",
        account="",
        question="",
        asked_at=NOW,
        tz=TOKYO,
        norm=90,
    )
    for state in ("shown", "checking", "changed"):
        check(render("reply_norm", minutes=questions.MIN_NORM_MINUTES + 15, state=state))
    # The reminder DM at its fullest: fifteen questions, open, late and replied.
    items = [
        SimpleNamespace(
            **{
                **vars(nudge_items(text)[0]),
                "nudge": SimpleNamespace(
                    kind="reply_due", subject=f"question:{n}", id=n, slot="by"
                ),
                "commitment": None,
                "question": replace(
                    question(text, n, answered=n % 3 == 0, late=n % 2 == 0),
                    reply_by=NOW + timedelta(hours=1 if n % 2 else -1),
                ),
                "closed": "replied" if n % 3 == 0 else None,
            }
        )
        for n in range(1, 16)
    ]
    check(
        render(
            "nudge_dm",
            items=items,
            more=4,
            ref=9,
            to_channel=False,
            now=NOW,
            today=NOW.date(),
            tz=TOKYO,
        )
    )
    # The account card with its questions and KPIs, and with none yet.
    tally = ReplyTally(answered=120, within=100, waiting_late=7, median_minutes=4 * 60 + 59)
    note = text[: account_kpis.MAX_NOTE]
    full = AccountKpis(
        next_renewal=date(2026, 11, 30),
        last_outcome="not_renewed",
        last_renewed_on=date(2025, 11, 30),
        renewals_decided=12,
        renewed=11,
        repeats=9999,
        last_repeat=Done(date(2026, 12, 1), note),
        referrals=40,
        last_referral=Done(None, note or None),
    )
    empty = AccountKpis(None, None, None, 0, 0, 0, None, 0, None)
    playbook = load_playbook()
    for replies, kpis in (
        (AccountReplies(tally, tuple(many[:5]), 3, 240, NOW), full),
        (AccountReplies(ReplyTally(), (), 0, 240, NOW), empty),
        (AccountReplies(ReplyTally(), (waiting,), 1, 240, NOW), replace(full, next_renewal=None)),
    ):
        view = card(text, replies, kpis)
        check(render("account_view", view=view, playbook=playbook, actions=Action, tz=TOKYO))
    ahead = replace(card(text, None, full), today=date(2026, 11, 1))
    check(render("account_view", view=ahead, playbook=playbook, actions=Action, tz=TOKYO))
    quarter = KpiTally(400, 300, 60, 1000, 9000, 300, 2000)
    digest = replace(sample_digest(text), replies=tally, kpis=quarter)
    week_of = date(2026, 11, 30)
    check(render("digest_top", digest=digest, week_of=week_of, scope_label="across the team"))
    for details in details_messages(digest):  # type: ignore[arg-type]
        check(details)
    for preview in render_in_parts(
        "digest_preview",
        digest.sections,
        open_action=Action.DIGEST_OPEN_ACCOUNT.value,
        digest=digest,
        week_of=week_of,
        scope_label="across the team",
        channel_id="C0SALES",
        schedule="every Mon at 09:00 (Europe/Berlin)",
        quiet="skip",
    ):
        check(preview)


def card(text: str, replies: AccountReplies | None, kpis: AccountKpis) -> AccountOverview:
    shown = replace(account(fill(80)), relationship_type="personal", expectations=fill(500))
    return AccountOverview(
        account=shown,  # type: ignore[arg-type]
        balance=SimpleNamespace(traded=3, one_way=9, is_drifting=True),  # type: ignore[arg-type]
        plan=None,
        latest_debrief=None,
        meso=None,
        open_commitments=tuple(
            SimpleNamespace(what=text, due_on=date(2026, 12, 1), owner_id="U0ALICE")  # type: ignore[misc]
            for _ in range(5)
        ),
        open_count=40,
        replies=replies,
        kpis=kpis,
        today=date(2026, 12, 3),
    )


@pytest.mark.parametrize("text", [fill(questions.MAX_QUESTION), "x", HOSTILE, ""])
def test_reply_clock_templates_at_their_largest(text: str) -> None:
    every_template(text)
