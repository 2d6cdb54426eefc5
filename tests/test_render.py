"""messages.render: Slack-safe text, valid Block Kit, limits kept under hostile input."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.scheduler.digests import Coverage, details_messages
from bot.services import team_calendar
from bot.services.accounts import AccountShown
from bot.services.buyer_scores import SCALES, BuyerScores
from bot.services.coaching import Advice
from bot.services.concessions import Balance, ConcessionLog
from bot.services.digest import SECTIONS, AccountRow, Digest, Line, Section, WeekPoint
from bot.services.due import DueList
from bot.services.errors import AccountOption, AccountUnsure
from bot.services.health import PARTS, Raw, combine
from bot.services.health_watch import AlertRule, FallenPart, FallShown
from bot.services.home import AccountLine, Cooling, HomeSummary, MySettings, Upcoming
from bot.services.lifecycle import Closed, Outcome
from bot.services.org_view import OrgScopes
from bot.services.questions import OwedReplies
from bot.services.ratings import RatingShown, RecoveryShown
from bot.services.review_cadence import CadenceFit
from bot.services.rhythm import QbrReminder
from handlers.edge.errors import usage_for
from handlers.rapport import help_sections, suggestions
from handlers.ratings import RatingForm, rating_modal
from messages import escape, render, render_in_parts
from messages.ids import Action
from messages.render import render_source
from storage.models import ViewScope
from tests.slackkit import mrkdwn_texts

NOW = datetime(2026, 11, 22, 10, tzinfo=UTC)
RULE = AlertRule()
HOSTILE = "<!channel> @here & <https://evil.test|invoice> \u2028 \x00 \ud800 *bold* \"q\" 'a' : - #"


def account(name: str = HOSTILE, *, stage: str = "open") -> AccountShown:
    return AccountShown(
        id=1,
        team_id="T1",
        name=name,
        owner_id="U0ALICE",
        stage=stage,
        channel_id=None,
        relationship_type=None,
        expectations=None,
        won_at=None,
        lost_at=NOW if stage == "lost" else None,
        paused_until=None,
        pause_reason=None,
    )


def concession(text: str, with_get: bool = True) -> SimpleNamespace:
    return SimpleNamespace(
        account=account(text[:80]),
        give=text,
        get=text if with_get else None,
        trigger=text,
        logged_by="U0ALICE",
        logged_at=NOW,
        id=7,
        item=text[:120],
        value_to_us=text,
        value_to_them=text,
        edited_at=NOW,
        withdrawn_at=NOW if not with_get else None,
        withdrawn_by="U0BOB",
    )


def commitment(text: str, direction: str = "ours") -> SimpleNamespace:
    return SimpleNamespace(
        account=account(text[:80]),
        what=text,
        due_on=date(2026, 11, 27),
        direction=direction,
        owner_id="U0ALICE",
    )


def owed(text: str, count: int, more: int) -> OwedReplies:
    """`count` questions owed a reply, every other one overdue at NOW."""
    return OwedReplies(
        tuple(
            SimpleNamespace(  # type: ignore[misc]
                account=account(text[:80]),
                question=text,
                reply_by=NOW + timedelta(hours=-2 if n % 2 else 30),
                norm_minutes=240,
            )
            for n in range(count)
        ),
        more,
        NOW,
    )


def nudge_items(text: str) -> list[SimpleNamespace]:
    kinds = [
        "followup_due",
        "followup_unkept",
        "followup_second",
        "followup_escalation",
        "followup_snoozed",
        "theirs_due",
        "theirs_unkept",
    ]
    items = [
        SimpleNamespace(
            nudge=SimpleNamespace(kind=kind, subject=f"commitment:{i}", id=i),
            account=account(text[:80]),
            commitment=commitment(text, "theirs" if "theirs" in kind else "ours"),
            qbr=None,
            checkin=None,
            closed="done" if i == 3 else None,
            days_quiet=0,
            kept_since=0,
            balance=Balance(1, 2),
            open_commitments=[],
        )
        for i, kind in enumerate(kinds)
    ]
    qbr = SimpleNamespace(next_on=date(2026, 12, 3), last_held_on=None)
    for n, (kind, closed) in enumerate(
        [("qbr_after", None), ("qbr_after", "answered"), ("qbr_lapsed", None)]
    ):
        items.append(
            SimpleNamespace(
                nudge=SimpleNamespace(
                    kind=kind, subject="qbr:1", id=30 + n, slot="after:2026-11-30"
                ),
                account=account(text[:80]),
                commitment=None,
                qbr=qbr,
                checkin=None,
                closed=closed,
            )
        )
    items.append(
        SimpleNamespace(
            nudge=SimpleNamespace(kind="no_escalation", subject="person:U1", id=40, slot="once"),
            account=account(text[:80]),
            commitment=None,
            qbr=None,
            checkin=None,
            closed=None,
        )
    )
    items.append(
        SimpleNamespace(
            nudge=SimpleNamespace(kind="qbr_lead", subject="qbr:1", id=20, slot="lead:2026-12-03"),
            account=account(text[:80]),
            commitment=None,
            qbr=qbr,
            checkin=None,
            closed=None,
            days_quiet=0,
            kept_since=2,
            balance=Balance(3, 1),
            open_commitments=[commitment(text)] * 5,
            kpis=text,
        )
    )
    items.append(
        SimpleNamespace(
            nudge=SimpleNamespace(kind="checkin", subject="checkin:1", id=21),
            account=account(text[:80]),
            commitment=None,
            qbr=None,
            checkin=SimpleNamespace(label="one-week", due_on=date(2026, 11, 30)),
            closed=None,
            days_quiet=0,
            kept_since=0,
            balance=None,
            open_commitments=[],
        )
    )
    items.append(
        SimpleNamespace(
            nudge=SimpleNamespace(kind="touch", subject="account:1", id=22),
            account=account(text[:80]),
            commitment=None,
            qbr=None,
            checkin=None,
            closed=None,
            days_quiet=45,
            kept_since=0,
            balance=None,
            open_commitments=[],
        )
    )
    items.append(
        SimpleNamespace(
            nudge=SimpleNamespace(kind="checkin", subject="checkin:2", id=23),
            account=account(text[:80]),
            commitment=None,
            qbr=None,
            checkin=SimpleNamespace(label="90-day", due_on=date(2026, 12, 2)),
            closed="done",
            days_quiet=0,
            kept_since=0,
            balance=None,
            open_commitments=[],
            rating=RatingShown(5, "nps", 9, date(2026, 11, 27)),
            advice=Advice("referral-ask", text[:80], text[:500], say=True),
        )
    )
    # After a low answer: the recovery move, with its follow-up one click away (an
    # open check-in, a done one), then recorded.
    low = RatingShown(6, "csat", 3, date(2026, 11, 27))
    recorded = RatingShown(
        7, "nps", 0, None, followup=RecoveryShown(text[:500], date(2026, 12, 1), False)
    )
    for n, (rating, closed) in enumerate([(low, None), (low, "done"), (recorded, "done")]):
        items.append(
            SimpleNamespace(
                nudge=SimpleNamespace(kind="checkin", subject=f"checkin:{3 + n}", id=24 + n),
                account=account(text[:80]),
                commitment=None,
                qbr=None,
                checkin=SimpleNamespace(label="30-day", due_on=date(2026, 12, 2)),
                closed=closed,
                rating=rating,
                advice=Advice("recovery", None, text[:500], say=False),
            )
        )
    # An account's health fell: every part named, the playbook's move; then back up.
    fell = FallShown(
        before=88,
        after=31,
        below=45,
        day=date(2026, 11, 24),
        now=29,
        parts=tuple(FallenPart(label, 12, text[:3000]) for label, _ in PARTS.values()),
        advice=Advice("recovery", text[:80], text[:500], say=True),
        recovered=False,
    )
    for n, (shown, closed) in enumerate([(fell, None), (replace(fell, advice=None), "recovered")]):
        items.append(
            SimpleNamespace(
                nudge=SimpleNamespace(kind="health_drop", subject="health:1", id=30 + n),
                account=account(text[:80]),
                commitment=None,
                qbr=None,
                checkin=None,
                closed=closed,
                health_fall=shown,
            )
        )
    for item in items:
        item.__dict__.setdefault("rating", None)
        item.__dict__.setdefault("advice", None)
        item.__dict__.setdefault("question", None)
        item.__dict__.setdefault("health_fall", None)
    return items


def every_template(text: str) -> dict[str, dict]:
    entries = [concession(text, with_get=i % 2 == 0) for i in range(15)]
    log = ConcessionLog(account=account(text[:80]), entries=entries, balance=Balance(8, 30))  # type: ignore[arg-type]
    owned = account(text[:80], stage="won")
    summary = HomeSummary(
        today=date(2026, 11, 23),
        tz=ZoneInfo("Asia/Tokyo"),
        accounts=[AccountLine(owned, 12, "at risk", text, text)] * 14 + [AccountLine(owned)],
        more_accounts=3,
        owed=owed(text, 10, 5),
        open_commitments=[
            SimpleNamespace(
                **vars(commitment(text, "theirs" if n % 2 else "ours")), id=n, snoozed_until=NOW
            )
            for n in range(10)
        ],
        more_commitments=4,
        upcoming=[
            Upcoming(date(2026, 11, 20 + n), owned, "checkin" if n % 2 else "qbr", text[:30])
            for n in range(10)
        ],
        more_upcoming=2,
        recent_concessions=entries[:5],
        balance=Balance(1, 4),
        cooling=[Cooling(owned, 400, 7)] * 10,
        more_cooling=6,
        settings=MySettings(
            time(9),
            time(17),
            "0246",
            text[:64],
            "slack",
            True,
            date(2026, 11, 20),
            date(2026, 12, 1),
        ),
    )
    sick = combine(1, {key: Raw(None if key == "qbr" else 0.4, text) for key in PARTS})
    review = SimpleNamespace(
        id=4,
        next_on=date(2027, 1, 17),
        cadence="quarter",
        lead_days=7,
        held_count=2,
        last_held_on=date(2026, 10, 1),
    )
    reminders = [
        QbrReminder("lead:2027-01-17", "qbr_lead", date(2027, 1, 8), NOW),
        QbrReminder("eve:2027-01-17", "qbr_eve", date(2027, 1, 15), NOW),
    ]
    return {
        "concession_logged": render("concession_logged", entry=entries[0], balance=Balance(1, 0)),
        "concession_logged_one_way": render(
            "concession_logged", entry=entries[1], balance=Balance(0, 1)
        ),
        "concession_logged_lost": render(
            "concession_logged",
            entry=SimpleNamespace(
                **{**vars(entries[1]), "account": account(text[:80], stage="lost")}
            ),
            balance=Balance(0, 1),
        ),
        "concession_log": render("concession_log", log=log, actions=Action),
        "followup_recorded": render(
            "followup_recorded",
            commitment=commitment(text),
            reminder_on=date(2026, 12, 7),
            day_off="a Sunday, not one of your working days",
        ),
        "followup_recorded_theirs": render(
            "followup_recorded",
            commitment=commitment(text, "theirs"),
            reminder_on=None,
            day_off=None,
        ),
        **{
            f"followup_done_{n}": render(
                "followup_done",
                account=account(text[:80]),
                closed=closed,
                left=left,
                matches=matches,
                what=text,
                today=date(2026, 12, 9),
            )
            for n, (closed, left, matches) in enumerate(
                [
                    (commitment(text), [], 1),
                    (commitment(text, "theirs"), [commitment(text)], 3),
                    (None, [], 0),
                    (None, [commitment(text), commitment(text, "theirs")] * 12, 0),
                    (None, [commitment(text)] * 2, 2),
                ]
            )
        },
        "followup_list": render(
            "followup_list",
            commitments=[commitment(text)] * 45,
            owed=owed(text, 10, 5),
            account=None,
            today=date(2026, 11, 28),
            tz=ZoneInfo("America/New_York"),
        ),
        "nudge_dm": render(
            "nudge_dm",
            items=nudge_items(text),
            more=3,
            ref=7,
            to_channel=False,
            now=NOW,
            today=NOW.date(),
        ),
        "nudge_dm_channel": render(
            "nudge_dm",
            items=nudge_items(text)[:2],
            more=0,
            ref=7,
            to_channel=True,
            now=NOW,
            today=NOW.date(),
        ),
        **{
            f"qbr_scheduled_{n}": render(
                "qbr_scheduled",
                qbr=review,
                account=account(text[:80]),
                held=held,
                extra=extra,
                on_schedule=held is not None,
                ahead=ahead,
                short_notice=not ahead,
                day_off="a Sunday, not one of your working days" if not ahead else None,
                when="tomorrow",
                asked_on=date(2027, 1, 18),
                moved_from=date(2027, 1, 16) if held else None,
                moved_why="a Saturday, not one of your working days",
                # The first against a weekly plan it does not follow.
                fit=None if n else CadenceFit(1, "weekly", "month", "quarter", None, True),
                align_action=Action.QBR_ALIGN,
                # Scheduled by its owner, and by someone else.
                reader_is_owner=n != 1,
            )
            for n, (held, extra, ahead) in enumerate(
                [
                    (None, False, []),
                    (date(2026, 12, 14), False, reminders),
                    (None, True, reminders[1:]),
                ]
            )
        },
        "due_list": render(
            "due_list",
            due=DueList(
                today=NOW.date(),
                owed=owed(text, 10, 7),
                followups=[commitment(text, "theirs" if n % 2 else "ours") for n in range(15)],
                escalated=[commitment(text) for _ in range(15)],
                qbrs=[
                    SimpleNamespace(account=account(text[:80]), next_on=date(2026, 11, 20 + n // 2))
                    for n in range(15)
                ],
                checkins=[
                    SimpleNamespace(
                        account=account(text[:80]), label="90-day", due_on=date(2026, 12, n + 1)
                    )
                    for n in range(15)
                ],
                quiet=[(account(text[:80]), 400)] * 15,
                more={"followups": 4, "escalated": 1, "qbrs": 2, "checkins": 3, "quiet": 9},
            ),
            today=NOW.date(),
            tz=ZoneInfo("Asia/Tokyo"),
        ),
        "due_list_empty": render(
            "due_list", due=DueList(today=NOW.date()), today=NOW.date(), tz=ZoneInfo("UTC")
        ),
        "qbr_which": render(
            "qbr_which", qbr=review, account=account(text[:80]), days=45, today=NOW.date()
        ),
        "snooze_modal": render("snooze_modal", callback_id="snooze_until", metadata=text),
        "health_account": render(
            "health_account", account=account(text[:80]), health=sick, scales=SCALES, rule=RULE
        ),
        "health_account_rule_off": render(
            "health_account",
            account=account(text[:80]),
            health=sick,
            scales=SCALES,
            rule=AlertRule(None, None),
        ),
        "health_list": render(
            "health_list", rows=[(text[:80], sick)] * 20, more=5, scales=SCALES, rule=RULE
        ),
        "health_rule_checking": render(
            "health_rule", change={"drop": 20, "below": None}, rule=None
        ),
        "health_rule_set": render("health_rule", change={"drop": 20}, rule=AlertRule(20, 45)),
        "health_rule_off": render(
            "health_rule", change={"drop": None, "below": None}, rule=AlertRule(None, None)
        ),
        "org_view_outside": render("org_view", mode="outside"),
        "org_view_shown": render("org_view", mode="shown", scopes=OrgScopes()),
        "org_view_checking": render("org_view", mode="checking", change={"home": "org"}),
        "org_view_set": render(
            "org_view", mode="set", scopes=OrgScopes(home=ViewScope.ORG, digests=ViewScope.ORG)
        ),
        "rating_modal": rating_modal(
            RatingForm("act:1:checkin:1:1", "D1", "1.1", text[:80], text[:30], score=4),
            kind="nps",
            contact_on=date(2026, 11, 27),
            warning="Click the score they gave.",
        ),
        "home": render("home", summary=summary, actions=Action),
        # home: org, every item from another workspace of the org, named.
        "home_org": render("home", summary=summary, names={"T1": text[:200]}, actions=Action),
        "user_error": render(
            "user_error", problem=text, key=None, help=None, example=None, typed=None
        ),
        "user_error_typed": render(
            "user_error",
            problem=text,
            key=text[:20],
            help=usage_for("/rapport qbr"),
            example=text,
            typed=f"/rapport qbr {text}",
        ),
        "rapport_unknown": render(
            "rapport_unknown", word=text, rest=text, suggestions=suggestions("hlep")
        ),
        "rapport_unknown_none": render("rapport_unknown", word=text, rest="", suggestions=[]),
        "rapport_help": render("rapport_help", sections=help_sections()),
        "unexpected_error": render("unexpected_error", reference="abc123"),
        **team_templates(text),
    }


# Words the code builds (digests.schedule_words, digests.scope_label), never typed text.
SCHEDULE = "every Mon at 09:00 (Europe/Berlin)"
SCOPE = "across the team"


def sample_digest(text: str, *, lines_each: int = 12) -> Digest:
    row = AccountRow(id=1, name=text[:80], owner_id="U0ALICE", channel_id="C0SALES")
    sections = [
        Section(
            spec,
            [(Line(row, text, (n,), NOW), n % 2 == 0) for n in range(lines_each)],
            lines_each + 5,
        )
        for spec in SECTIONS
    ]
    return Digest(
        sections=sections,
        counts={spec.key: lines_each + 5 for spec in SECTIONS},
        # Built from counts alone (digest._changes): no typed text reaches them.
        changes=["12 follow-ups overdue, up from 4", "3 follow-ups kept on time this week"],
        chart=[WeekPoint(date(2026, 11, 2 + 7 * n), 5, 4, 2, 1) for n in range(4)],
        accounts=240,
        opted_out=2,
        buyers=BuyerScores(
            csat_answers=120, csat_total=1003, promoters=400, passives=300, detractors=99
        ),
    )


def team_templates(text: str) -> dict[str, dict]:
    """Templates of the team side (digests, holidays, settings, errors), full and hostile."""
    digest = sample_digest(text)
    prefs = SimpleNamespace(
        work_start=time(8),
        work_end=time(17),
        work_days="01234",
        tz_override="America/New_York",
        away_from=date(2026, 12, 20),
        away_until=date(2027, 1, 4),
        manager_id="U0BOSS",
        digest_opt_out=True,
    )
    sub = SimpleNamespace(
        active=True, channel_id="C0SALES", quiet="post", scope="team", scope_ids=None
    )
    week_of = date(2026, 11, 30)
    return {
        "digest_top": render("digest_top", digest=digest, week_of=week_of, scope_label=SCOPE),
        **{
            f"digest_details {part}": message
            for part, message in enumerate(details_messages(digest), 1)  # type: ignore[arg-type]
        },
        # An org's digest: every account named with its workspace, none of them this
        # channel's (so no menu to open one).
        **{
            f"digest_details_org {part}": message
            for part, message in enumerate(
                details_messages(
                    digest,  # type: ignore[arg-type]
                    Coverage(None, SCOPE, workspaces={"": text[:200], "T0OTHER": "B"}),
                    own_team="T0OTHER",
                ),
                1,
            )
        },
        "digest_quiet": render("digest_quiet", digest=digest, week_of=week_of, scope_label=SCOPE),
        **{
            f"digest_preview {part}": message
            for part, message in enumerate(
                render_in_parts(
                    "digest_preview",
                    digest.sections,
                    open_action=Action.DIGEST_OPEN_ACCOUNT.value,
                    digest=digest,
                    week_of=week_of,
                    scope_label=SCOPE,
                    channel_id="C0SALES",
                    schedule=SCHEDULE,
                    quiet="skip",
                ),
                1,
            )
        },
        "digest_problem": render("digest_problem", error="missing_scope", label=SCOPE),
        "digest_chart_text": render(
            "digest_chart_text", summary="Kept on time: 80%, 75%, 90% over three weeks"
        ),
        "digest_status": render(
            "digest_status",
            channel_id="C0SALES",
            start="/rapport digest here day: mon time: 09:00",
            others=[(f"C0CHAN{n}", SCHEDULE) for n in range(30)],
        ),
        "digest_subscribed": render(
            "digest_subscribed",
            sub=sub,
            schedule=SCHEDULE,
            scope_label=SCOPE,
            next_local="Mon 7 Dec 09:00",
        ),
        "overdue_list": render(
            "overdue_list",
            lines=[Line(AccountRow(1, text[:80], "U0ALICE", None), text, (n,)) for n in range(60)],
            limit=40,
            owners=["U0ALICE", "U0BOB"],
        ),
        "holidays_list": render(
            "holidays_list",
            days=[SimpleNamespace(day=date(2026, 12, 1 + n % 28), name=text) for n in range(40)],
            team_country="DE",
            default_country="US",
        ),
        "holidays_list_nothing_removed": render(
            "holidays_list",
            days=[],
            day_off=SimpleNamespace(day=date(2026, 12, 31), add=False, name=text, last=None),
            changed=False,
            team_country=None,
            default_country=None,
        ),
        **{
            f"holidays_list_range_{n}": render(
                "holidays_list",
                days=[],
                day_off=team_calendar.DayOffChange(
                    date(2026, 12, 24), add=add, name=text[:80], last=date(2026, 12, 26)
                ),
                changed=changed,
                team_country=None,
                default_country=None,
            )
            for n, (add, changed) in enumerate(
                [(True, True), (True, False), (False, True), (False, False)]
            )
        },
        "settings_modal": render(
            "settings_modal", callback_id="settings", prefs=prefs, tz_name="America/New_York"
        ),
        "settings_hours_set": render("settings_hours_set", prefs=prefs, tz_name="America/New_York"),
        "settings_in_form": render("settings_in_form", typed=text),
        "log_touch_modal": render(
            "log_touch_modal", callback_id="log_touch", note=text[:2900], metadata=text[:3000]
        ),
        "touch_logged": render(
            "touch_logged",
            account=SimpleNamespace(name=text[:80], relationship_type="strategic"),
            note=text[:1000],
            on=date(2026, 12, 4),
            behind=NOW,
            tz=ZoneInfo("Europe/Berlin"),
            ideal_days=30,
        ),
        "database_busy": render("database_busy"),
        "notice_modal": render(
            "notice_modal", title="Nothing saved", message=render("database_busy")
        ),
        "request_pending": render("request_pending"),
        "did_you_mean": render(
            "did_you_mean",
            problem=text,
            choices=[
                (text[:75], f"/followup {text} due: 10 Dec", text[:1900]),
                (text[:75], f"/followup {text} due: 12 Oct", text[:1900]),
                (text[:75], f"/followup {text}", None),
            ],
            run_action=Action.RUN_COMMAND.value,
        ),
        "digest_paused": render("digest_paused", channel_id="C0SALES", error="is_archived"),
        "digest_paused_other": render("digest_paused", channel_id="C0SALES", error=text[:100]),
        "account_question": render(
            "account_question",
            question=AccountUnsure(
                typed=text,
                options=tuple(AccountOption(n, text[:80], text) for n in range(1, 4)),
                new_name=text[:80],
            ),
            prefix="account_choice_",
            buttons=[(text[:80], n, "v" * 1900) for n in range(4)],
        ),
        "account_question_later": render(
            "account_question",
            question=AccountUnsure(
                typed=text, options=(AccountOption(1, text[:80], ""),), named_later=True
            ),
            prefix="account_choice_",
            buttons=[],
        ),
        "account_new": render("account_new", name=text[:80]),
        "holidays_checking": render(
            "holidays_checking",
            change=team_calendar.describe(team_calendar.DayOffChange(date(2026, 12, 24), True, "")),
        ),
        **lifecycle_templates(text),
    }


# Every kind of recorded change (lifecycle.ChangeKind), with the words the code
# writes (stage words) where the code writes them, and typed text everywhere else.
def changes_of_every_kind(text: str) -> list[SimpleNamespace]:
    lost_detail = {
        "commitments": [[n, None] for n in range(40)],
        "checkins": [[n, None] for n in range(3)],
        "qbr": [1, None],
        "reason": text[:300],
    }
    kinds: list[tuple[str, str | None, str | None, dict | None]] = [
        ("won", "prospect", "won", {}),
        ("lost", "won", "lost", lost_detail),
        ("reopened", "lost", "prospect", {}),
        ("paused", "not paused", f"paused until Mon 7 Dec 2026: {text}", {}),
        ("resumed", f"paused until Mon 7 Dec 2026: {text}", "not paused", {}),
        ("type", None, "strategic", {}),
        ("owner", "U0ALICE", text[:30], {}),
        ("expects", text, text, {}),
        ("channel", None, "C0SALES", {}),
        ("concession_withdrawn", text, "withdrawn", {"logged_by": "U0BOB"}),
        ("digest_stopped", "weekly digest on", "stopped", {"channel_id": "C0SALES"}),
    ]
    changes = [
        SimpleNamespace(
            id=n,
            kind=kind,
            actor_id="U0BOB",
            owner_id="U0ALICE",
            at=datetime(2026, 11, 23, 10, n),
            before=before,
            after=after,
            detail=detail,
            undone_at=NOW if n % 3 == 0 else None,
            undone_by="U0ALICE",
        )
        for n, (kind, before, after, detail) in enumerate(kinds)
    ]
    undos = [
        SimpleNamespace(
            id=100 + n,
            kind="undone",
            actor_id="U0ALICE",
            owner_id="U0ALICE",
            at=NOW,
            before=c.after,
            after=c.before,
            detail={"undid": vars(c)},
            undone_at=None,
            undone_by=None,
        )
        for n, c in enumerate(changes)
    ]
    return changes + undos


def lifecycle_templates(text: str) -> dict[str, dict]:
    """The account lifecycle's replies, DMs and history, long and hostile."""
    won_at = datetime(2026, 11, 23, 10)
    named = {"name": text[:80], "owner_id": "U0ALICE", "id": 1, "won_at": won_at}
    won = SimpleNamespace(**named, relationship_type=None, stage="won", lost_at=None)
    sold = SimpleNamespace(**named, relationship_type="transactional", stage="won")
    checkins = tuple(
        SimpleNamespace(due_on=date(2026, 11, 29 + n % 2), label=text[:40]) for n in range(4)
    )
    change = SimpleNamespace(
        id=9, kind="lost", actor_id="U0BOB", owner_id="U0ALICE", at=NOW, detail={"reason": text}
    )
    every = changes_of_every_kind(text)
    closed = Closed(
        commitments=tuple(commitment(text) for _ in range(40)),  # type: ignore[arg-type]
        checkins=checkins,  # type: ignore[arg-type]
        qbr=SimpleNamespace(next_on=date(2026, 12, 14)),  # type: ignore[arg-type]
    )
    lost = SimpleNamespace(**named, stage="lost", lost_at=NOW, relationship_type=None)
    paused = SimpleNamespace(
        **named, paused_until=date(2026, 12, 26), pause_reason=text, stage="won"
    )
    running = SimpleNamespace(**named, paused_until=None, pause_reason=None, stage="won")

    def outcome(account: object, previous: str, **more: object) -> Outcome:
        return Outcome(account, previous != "same", previous, **more)  # type: ignore[arg-type]

    moved = {
        "moved_from": date(2026, 12, 5),
        "moved_why": "a Saturday, not one of your working days",
        "moved_days": 7,
    }
    notices = {
        f"owner_notice_{c.kind}_{n}": render(
            "owner_notice", change=c, account=won, actions=Action, new_owner=False
        )
        for n, c in enumerate(every)
    }
    return {
        "account_won": render(
            "account_won",
            outcome=outcome(won, "open", change=change, checkins=checkins, **moved),
            account=SimpleNamespace(**{**vars(won), "paused_until": date(2026, 12, 26)}),
            actions=Action,
            resumes_on=date(2026, 12, 29),
        ),
        "account_won_again": render(
            "account_won",
            outcome=outcome(won, "lost", change=change, checkins=checkins),
            account=won,
            actions=Action,
            resumes_on=None,
        ),
        "account_won_transactional": render(
            "account_won",
            outcome=outcome(sold, "open", change=change, checkins=checkins[:2], **moved),
            account=sold,
            actions=Action,
            resumes_on=None,
        ),
        "account_won_already": render(
            "account_won",
            outcome=outcome(won, "same", checkins=checkins),
            account=SimpleNamespace(**{**vars(won), "changed": False}),
            actions=Action,
            resumes_on=date(2026, 12, 29),
        ),
        "account_lost": render(
            "account_lost",
            outcome=outcome(lost, "won", change=change, closed=closed, waiting_questions=3),
            account=lost,
            actions=Action,
        ),
        "account_lost_nothing_open": render(
            "account_lost",
            outcome=outcome(lost, "open", change=change),
            account=lost,
            actions=Action,
        ),
        "account_lost_already": render(
            "account_lost", outcome=outcome(lost, "same"), account=lost, actions=Action
        ),
        **{
            f"account_paused_{n}": render(
                "account_paused",
                account=shown,
                change=made,
                actions=Action,
                resumes_on=resumes_on,
                resume_why=resumes_on and "a public holiday (Second Day of Christmas)",
            )
            for n, (shown, made, resumes_on) in enumerate(
                [
                    (paused, change, date(2026, 12, 29)),  # paused
                    (running, change, None),  # resumed
                    (running, None, None),  # was not paused
                ]
            )
        },
        "account_reopened": render(
            "account_reopened",
            outcome=outcome(won, "lost", change=change),
            account=won,
            actions=Action,
        ),
        "account_reopened_not_lost": render(
            "account_reopened", outcome=outcome(won, "same"), account=won, actions=Action
        ),
        "account_history": render(
            "account_history",
            account=won,
            changes=every + every[:3],
            more=True,
            tz=ZoneInfo("Asia/Tokyo"),
        ),
        "account_history_empty": render(
            "account_history", account=won, changes=[], more=False, tz=ZoneInfo("UTC")
        ),
        "change_undone": render("change_undone", change=every[1], account=paused, changed=True),
        "change_undone_twice": render(
            "change_undone", change=every[3], account=None, changed=False
        ),
        **notices,
        "owner_notice_digest": render(
            "owner_notice", change=every[10], account=None, actions=Action, new_owner=False
        ),
        "owner_notice_new_owner": render(
            "owner_notice",
            change=every[6],
            account=won,
            actions=Action,
            new_owner=True,
            open_items=45,
        ),
    }


def test_escape_defuses_mentions_and_links() -> None:
    escaped = escape("<!channel> <@U123> <https://x.test|y> a & b @here @Everyone")
    assert "<" not in escaped and ">" not in escaped
    assert "&amp;" in escaped
    assert "@here" not in escaped and "@Everyone" not in escaped


@pytest.mark.parametrize("text", [HOSTILE, "x" * 3500, "🤝 emoji ok", ""])
def test_every_template_renders_valid_block_kit(text: str) -> None:
    for name, message in every_template(text or "x").items():
        assert message.get("text") or message.get("type") in ("home", "modal"), name
        # Slack parses mrkdwn and the fallback text; plain_text is shown as typed.
        for parsed in [message.get("text", ""), *mrkdwn_texts(message)]:
            assert "<!channel>" not in parsed, name
            assert "<https://evil.test|" not in parsed, name
            assert "@here" not in parsed, name


@pytest.mark.parametrize("text", ["Globex", "x" * 3500])
def test_lists_keep_one_item_a_line(text: str) -> None:
    for name, message in every_template(text).items():
        for block_text in mrkdwn_texts(message):
            # A bullet glued to the end of the line before it ("…log• Open …") is the
            # mark of a loop whose newline was eaten by trim_blocks.
            assert re.search(r"[^\n]•", block_text) is None, (name, block_text[:300])
    health_list = every_template(text)["health_list"]
    rows = [t for t in mrkdwn_texts(health_list) if "health" not in t.casefold()][0]
    assert rows.count("\n") == 19, "twenty accounts, twenty lines"


def test_every_template_file_is_rendered_by_these_checks() -> None:
    """A new template cannot skip the checks above: every file is rendered by one of
    the render tests (this module, the negotiation and the playbook ones)."""
    from jinja2 import Environment

    from messages.render import _environment
    from tests import (
        test_coaching_render,
        test_meso_render,
        test_playbook_render,
        test_reply_render,
        test_review_render,
    )

    env = _environment()
    rendered: set[str] = set()
    real = Environment.get_template

    def recording(self: Environment, name: str, *args: object, **kwargs: object) -> object:
        rendered.add(name.removesuffix(".yaml.j2"))
        return real(self, name, *args, **kwargs)  # type: ignore[arg-type]

    env.get_template = recording.__get__(env)  # type: ignore[method-assign]
    try:
        every_template("x" * 300)
        test_meso_render.every_template("x" * 300)
        test_playbook_render.test_every_playbook_page_fits_one_message(
            test_playbook_render.load_playbook()
        )
        test_playbook_render.test_account_and_governance_templates_at_their_largest("x")
        test_coaching_render.every_template("x" * 300)
        test_reply_render.every_template("x" * 300)
        test_review_render.every_template("x" * 300)
    finally:
        del env.get_template
    files = {
        path.name.removesuffix(".yaml.j2")
        for path in (Path(__file__).parents[1] / "messages" / "templates").glob("*.yaml.j2")
    }
    assert files - rendered == set()


@settings(max_examples=30, deadline=None)  # each example renders every template once
@given(st.text(min_size=1, max_size=400))
def test_any_user_text_renders(text: str) -> None:
    every_template(text)


def test_templates_are_yaml_with_json_values() -> None:
    source = render_source(
        "user_error",
        problem='a "quoted": value\nnext',
        key=None,
        help=None,
        example=None,
        typed=None,
    )
    assert '"a \\"quoted\\": value\\nnext"' in source


def test_long_lifecycle_messages_keep_every_line_and_their_end() -> None:
    """A history shows each of its changes whole, however long their text; a loss that
    closed 45 items lists ten and counts the rest, and still ends with what it means."""
    text = "x" * 3500
    every = changes_of_every_kind(text)
    pauses = [every[3], every[4], every[16], every[17]] * 6  # the longest lines there are
    for changes in (every, pauses):
        history = render(
            "account_history",
            account=SimpleNamespace(name=text[:80], owner_id="U0ALICE", stage="won"),
            changes=changes,
            more=False,
            tz=ZoneInfo("UTC"),
        )
        shown = [t for t in mrkdwn_texts(history) if t.startswith("• ")]
        assert sum(t.count("\n• ") + 1 for t in shown) == len(changes)
        assert all(len(t) < 3000 for t in shown), "no block cut short by the 3,000 limit"
    lost = lifecycle_templates(text)["account_lost"]["text"]
    assert lost.count("\n• ") == 10 and "• …and 36 more" in lost
    assert lost.endswith("`/rapport account " + "x" * 80 + "` still shows it.")


def test_fifteen_rated_check_ins_with_their_advice_fit_one_reminder() -> None:
    """The most blocks an item takes: a done check-in whose low score still offers its
    follow-up (its line, the Done note, the button). Fifteen of them, the most a DM
    shows, stay within Slack's 50 blocks, each line whole."""
    text = "x" * 3500
    worst = next(i for i in nudge_items(text) if i.nudge.id == 25)
    assert worst.closed == "done" and worst.rating.next == "recovery"
    message = render(
        "nudge_dm", items=[worst] * 15, more=40, ref=7, to_channel=False, now=NOW, today=NOW.date()
    )
    assert len(message["blocks"]) <= 50
    assert sum("Record a follow-up" in str(block) for block in message["blocks"]) == 15


def test_a_template_given_a_database_row_is_refused_in_tests() -> None:
    """Templates get plain values (issue 14), so a reply renders after its session has
    closed; under the tests' strict mode a row anywhere in the arguments is refused."""
    from storage.models import Account

    row = Account(name="Globex", owner_id="U0ALICE")
    with pytest.raises(AssertionError, match="holds a database row"):
        render("account_view", view={"account": row})
    with pytest.raises(AssertionError, match=r"entries holds a database row \(Account\)"):
        render("concession_log", entries=[row])
