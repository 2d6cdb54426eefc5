"""The weekly digest: subscribed by command, built by the sweep, posted once, in a thread."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select, update

from bot.devtools.localslack import LocalSlack
from bot.scheduler.delivery import ChannelPacer, deliver_pending
from bot.scheduler.digests import details_messages, on_delivery_failure, plan_digests
from bot.services import digest as rules
from bot.services.accounts import get_or_create_account
from bot.services.calendar import WorkCalendar
from bot.services.followups import add_commitment
from messages import render_in_parts
from storage import outbox
from storage.db import SessionFactory
from storage.models import (
    Account,
    CheckIn,
    Commitment,
    Concession,
    DigestSubscription,
    HealthSnapshot,
    OutboxMessage,
    Qbr,
    Rating,
    UserPrefs,
)
from tests.conftest import at
from tests.scheduling import Scenario
from tests.slackkit import ALICE, BOB, OTHER_TEAM, TEAM, SlackSender, block_action, blocks_text

SALES = "C0SALES"


@pytest.fixture
def scene(s: Scenario) -> Scenario:
    # Pacing has its own tests (tests/test_pacing.py); here it would only add a
    # second's sleep between a digest's three posts.
    return replace(s, pacer=ChannelPacer(s.db, interval=0))


MONDAY = "2026-11-30T09:00:00+00:00"  # Monday of ISO week 49
CALENDAR = WorkCalendar(tz=ZoneInfo("UTC"))


def promise(
    db: SessionFactory,
    account: str,
    what: str,
    *,
    due: date,
    owner: str = ALICE,
    team: str = TEAM,
    made: str = "2026-11-02T10:00:00+00:00",
) -> None:
    with db.begin() as session:
        add_commitment(
            session,
            team_id=team,
            account_name=account,
            user_id=owner,
            what=what,
            due_on=due,
            calendar=CALENDAR,
            now=at(made),
        )


def subscribe(slack_user: SlackSender, text: str, *, when: str = "2026-11-27T12:00:00") -> str:
    with freeze_time(at(when), real_asyncio=True):
        reply = slack_user.command("/rapport", f"digest {text}")
    assert reply.status == 200
    return reply.text


def posts_to(slack: LocalSlack, channel: str) -> list[dict[str, object]]:
    return [c.args for c in slack.calls("chat.postMessage") if c.args["channel"] == channel]


# --- the rules, without Slack ----------------------------------------------------


def test_the_slot_keeps_its_local_hour_across_a_daylight_saving_change() -> None:
    new_york = ZoneInfo("America/New_York")
    # Clocks go back on Sunday 1 Nov 2026: Monday 09:00 is 13:00 UTC before, 14:00 after.
    before = rules.next_slot(weekday=0, at=time(9), tz=new_york, after=at("2026-10-20T00:00"))
    after = rules.next_slot(weekday=0, at=time(9), tz=new_york, after=at("2026-10-27T00:00"))
    assert before == at("2026-10-26T13:00")
    assert after == at("2026-11-02T14:00")


def test_the_slot_is_strictly_after_now() -> None:
    utc = ZoneInfo("UTC")
    assert rules.next_slot(weekday=0, at=time(9), tz=utc, after=at(MONDAY)) == at(
        "2026-12-07T09:00"
    )
    assert rules.next_slot(
        weekday=0, at=time(9), tz=utc, after=at(MONDAY) - timedelta(seconds=1)
    ) == at(MONDAY)


@pytest.mark.parametrize(
    ("text", "expected"), [("09:00", time(9)), ("2pm", time(14)), ("7.30", time(7, 30))]
)
def test_times_of_day_are_read_the_ways_people_write_them(text: str, expected: time) -> None:
    assert rules.parse_clock(text) == expected


def test_the_details_fill_as_few_messages_as_slacks_limits_allow_in_order() -> None:
    from tests.test_render import sample_digest

    small = replace(sample_digest("send the deck"), sections=sample_digest("x").sections[:2])
    (one,) = details_messages(small)
    assert one["text"].startswith("Details: Follow-ups overdue, Kept this week")
    assert "part 1 of" not in blocks_text(one)

    # Every section full of the longest lines: the details take several messages, each
    # within 50 blocks and 12,000 characters of blocks, every section once, in order.
    parts = details_messages(sample_digest("y" * 400))
    assert len(parts) > 2
    for number, part in enumerate(parts, 1):
        assert len(part["blocks"]) < 50
        assert len(json.dumps(part["blocks"], ensure_ascii=False)) <= 12_000
        assert f"Details, part {number} of {len(parts)}" in blocks_text(part)
    shown = "\n".join(blocks_text(part) for part in parts)
    places = [shown.find(f"*{spec.title}* (") for spec in rules.SECTIONS]
    assert -1 not in places and places == sorted(places)
    assert all(shown.count(f"*{spec.title}* (") == 1 for spec in rules.SECTIONS)


def test_a_piece_too_big_for_any_part_gets_one_of_its_own() -> None:
    from tests.test_render import sample_digest

    sections = sample_digest("z" * 400).sections[:3]
    parts = render_in_parts(
        "digest_details", sections, max_chars=100, open_action="digest_open_account"
    )
    assert [p["text"].split(": ")[1] for p in parts] == [s.spec.title for s in sections]


# --- subscribing -------------------------------------------------------------------


def test_subscribing_a_channel_confirms_the_slot_and_stores_it(
    slack_user: SlackSender, db: SessionFactory
) -> None:
    text = subscribe(slack_user, f"<#{SALES}|sales> day: fri time: 16:30")
    assert "every Fri at 16:30" in text
    with db() as session:
        sub = session.scalars(select(DigestSubscription)).one()
    assert (sub.team_id, sub.channel_id, sub.weekday, sub.send_at) == (TEAM, SALES, 4, time(16, 30))
    assert sub.next_run_at == at("2026-11-27T16:30")


def test_the_next_digest_is_written_like_every_other_day(slack_user: SlackSender) -> None:
    text = subscribe(slack_user, f"<#{SALES}|sales> day: tue time: 09:00")
    assert "Next one: Tue 1 Dec 09:00" in text, text


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("#sales", "could not tell which channel"),
        ("here day: someday", "`day:` takes a weekday"),
        ("here time: lunch", "`time:` takes a time of day"),
        ("here owners: bob", "`owners:` takes people"),
        ("here quiet: loud", "`quiet:` takes"),
        ("off", "no weekly digest to stop"),
    ],
)
def test_bad_digest_commands_say_how_to_write_them_and_write_nothing(
    slack_user: SlackSender, db: SessionFactory, text: str, says: str
) -> None:
    reply_text = subscribe(slack_user, text)
    assert says in reply_text
    assert "/rapport digest" in reply_text
    with db() as session:
        assert session.scalar(select(func.count()).select_from(DigestSubscription)) == 0


def test_digest_off_stops_it(slack_user: SlackSender, db: SessionFactory) -> None:
    subscribe(slack_user, "here")
    assert "will not get the weekly digest" in subscribe(slack_user, "off")
    with db() as session:
        sub = session.scalars(select(DigestSubscription)).one()
    assert not sub.active and sub.next_run_at is None


# --- the digest itself -------------------------------------------------------------


def test_the_digest_goes_out_at_its_slot_once_with_details_and_chart_in_its_thread(
    scene: Scenario,
) -> None:
    promise(scene.db, "Acme", "send the pricing sheet", due=date(2026, 11, 20))
    promise(scene.db, "Globex", "share the SLA draft", due=date(2026, 11, 26), owner=BOB)
    subscribe(scene.slack_user, f"<#{SALES}|sales> day: mon time: 09:00")

    assert scene.sweep("2026-11-30T08:59").digests == 0
    assert posts_to(scene.slack, SALES) == []

    report = scene.sweep(MONDAY)
    assert report.digests == 1
    top, details = posts_to(scene.slack, SALES)
    assert "thread_ts" not in top or top["thread_ts"] is None
    assert "Follow-ups overdue" in blocks_text(top)
    reply = scene.slack.calls("chat.postMessage")[-1]
    assert details["thread_ts"] == reply.args["thread_ts"]
    text = blocks_text(details)
    assert "send the pricing sheet" in text and "<@U0ALICE>" in text
    assert "share the SLA draft" in text and "<@U0BOB>" in text
    # The chart went into the same thread through the external upload flow.
    (completed,) = scene.slack.calls("files.completeUploadExternal")
    assert completed.args["channel_id"] == SALES
    assert completed.args["thread_ts"] == details["thread_ts"]
    (upload,) = scene.slack.calls("file_upload")
    png = scene.slack.uploaded(upload.args["file_id"])
    assert png is not None and png.startswith(b"\x89PNG")

    # Later sweeps that week add nothing; the next week's slot brings one more.
    scene.sweep("2026-11-30T09:01")
    scene.sweep("2026-12-02T12:00")
    assert len(posts_to(scene.slack, SALES)) == 2
    scene.sweep("2026-12-07T09:00")
    assert len(posts_to(scene.slack, SALES)) == 4


def test_reminders_due_at_the_digest_slot_go_out_before_the_digest_is_built(
    scene: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    promise(scene.db, "Acme", "send the pricing sheet", due=date(2026, 11, 30))
    promise(scene.db, "Globex", "share the SLA draft", due=date(2026, 11, 20), owner=BOB)
    subscribe(scene.slack_user, f"<#{SALES}|sales> day: mon time: 09:00")
    reminders_when_digests_began: list[int] = []

    def plan_digests_after_noting(*args: object, **kwargs: object) -> int:
        reminders_when_digests_began.append(len(scene.dms(ALICE)) + len(scene.dms(BOB)))
        return plan_digests(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr("bot.scheduler.sweep.digests.plan_digests", plan_digests_after_noting)
    report = scene.sweep(MONDAY)

    assert reminders_when_digests_began == [2]
    assert report.digests == 1 and len(posts_to(scene.slack, SALES)) == 2
    assert report.delivery.sent == 2 + 3  # two reminders; top, details and chart


def test_the_next_digest_leads_with_what_changed(scene: Scenario) -> None:
    promise(scene.db, "Acme", "send the pricing sheet", due=date(2026, 11, 20))
    subscribe(scene.slack_user, "here")
    scene.sweep(MONDAY)
    promise(scene.db, "Acme", "book the onsite", due=date(2026, 12, 2), made="2026-12-01T10:00:00")
    promise(
        scene.db, "Initech", "send references", due=date(2026, 12, 3), made="2026-12-01T10:00:00"
    )
    scene.slack.clear()
    scene.sweep("2026-12-07T09:00")
    top = posts_to(scene.slack, "C0LOCAL")[0]
    assert "3 overdue follow-ups, up from 1" in blocks_text(top)
    details = blocks_text(posts_to(scene.slack, "C0LOCAL")[1])
    # What fell due since the last digest is marked new and listed first.
    assert details.index("book the onsite") < details.index("send the pricing sheet")
    assert ":new:" in details


def test_a_quiet_week_posts_nothing_or_one_line_if_asked(scene: Scenario) -> None:
    subscribe(scene.slack_user, f"<#{SALES}|sales>")
    subscribe(scene.slack_user, "here quiet: line")
    scene.sweep(MONDAY)
    assert posts_to(scene.slack, SALES) == []
    (line,) = posts_to(scene.slack, "C0LOCAL")
    assert "Nothing needs attention this week" in blocks_text(line)
    with scene.db() as session:
        # Both slots moved on: a quiet week is a week served.
        subs = session.scalars(select(DigestSubscription)).all()
        assert {s.next_run_at for s in subs} == {at("2026-12-07T09:00")}


def test_a_refused_chart_upload_becomes_words_in_the_thread(scene: Scenario) -> None:
    promise(scene.db, "Acme", "send the pricing sheet", due=date(2026, 11, 20))
    subscribe(scene.slack_user, "here")
    scene.slack.fail_next("files.getUploadURLExternal", error="missing_scope")
    scene.sweep(MONDAY)
    top, details, chart = posts_to(scene.slack, "C0LOCAL")
    assert chart["thread_ts"] == details["thread_ts"]
    assert "0 of 1 follow-ups kept on time" in blocks_text(chart)
    with scene.db() as session:
        statuses = session.scalars(
            select(OutboxMessage.status).where(OutboxMessage.kind.like("digest%"))
        )
        assert set(statuses) == {"sent"}


def test_replies_wait_for_the_top_message_and_go_under_it(scene: Scenario) -> None:
    promise(scene.db, "Acme", "send the pricing sheet", due=date(2026, 11, 20))
    subscribe(scene.slack_user, "here")
    # The owner's own nudge goes first, then the digest: both fail once.
    scene.slack.fail_next("chat.postMessage", error="internal_error", times=2)
    scene.sweep(MONDAY)
    attempts = posts_to(scene.slack, "C0LOCAL")
    assert attempts and all("thread_ts" not in p for p in attempts)
    with scene.db() as session:
        waiting = dict(
            session.execute(
                select(OutboxMessage.kind, OutboxMessage.status).where(
                    OutboxMessage.kind.like("digest%")
                )
            ).all()
        )
    assert waiting == {"digest": "pending", "digest_details": "pending", "digest_chart": "pending"}
    scene.slack.clear()
    scene.sweep("2026-11-30T09:10")
    top, details = posts_to(scene.slack, "C0LOCAL")
    assert details["thread_ts"] is not None and top.get("thread_ts") is None


def test_a_big_team_is_summarised_and_pointed_to_the_full_list(scene: Scenario) -> None:
    for n in range(60):
        promise(scene.db, f"Account {n:02d}", f"follow-up number {n}", due=date(2026, 11, 20))
    subscribe(scene.slack_user, "here")
    scene.sweep(MONDAY)
    details = posts_to(scene.slack, "C0LOCAL")[1]
    text = blocks_text(details)
    assert "50 more: `/rapport overdue`" in text
    assert len(details["blocks"]) <= 50  # type: ignore[arg-type]
    with freeze_time(at(MONDAY), real_asyncio=True):
        listed = scene.slack_user.command("/rapport", "overdue")
    assert "Overdue follow-ups (60)" in listed.text
    assert "20 more" in listed.text


def test_a_channel_covers_only_its_owners_and_skips_those_who_opted_out(scene: Scenario) -> None:
    promise(scene.db, "Acme", "alice's promise", due=date(2026, 11, 20))
    promise(scene.db, "Globex", "bob's promise", due=date(2026, 11, 20), owner=BOB)
    promise(scene.db, "Initech", "carol's promise", due=date(2026, 11, 20), owner="U0CAROL")
    scene.slack.add_usergroup("S0EAST", [BOB, "U0CAROL"])
    subscribe(scene.slack_user, f"<#{SALES}|sales> owners: <@{ALICE}|alice> <@{BOB}|bob>")
    subscribe(scene.slack_user, "here owners: <!subteam^S0EAST|@sales-east>")
    with scene.db.begin() as session:
        session.add(UserPrefs(team_id=TEAM, user_id="U0CAROL", digest_opt_out=True))
    scene.sweep(MONDAY)
    sales = blocks_text(posts_to(scene.slack, SALES)[1])
    assert "alice's promise" in sales and "bob's promise" in sales
    assert "carol's promise" not in sales
    east = posts_to(scene.slack, "C0LOCAL")
    assert "members of @sales-east" in blocks_text(east[0])
    assert "bob's promise" in blocks_text(east[1])
    assert "carol's promise" not in blocks_text(east[1])
    assert "alice's promise" not in blocks_text(east[1])


def test_one_team_never_sees_another_teams_accounts(scene: Scenario) -> None:
    promise(scene.db, "Acme", "ours", due=date(2026, 11, 20))
    promise(scene.db, "Umbrella", "theirs", due=date(2026, 11, 20), team=OTHER_TEAM)
    subscribe(scene.slack_user, "here")
    scene.sweep(MONDAY)
    text = "\n".join(blocks_text(p) for p in posts_to(scene.slack, "C0LOCAL"))
    assert "ours" in text and "Umbrella" not in text


def test_what_users_typed_cannot_ping_the_channel_or_forge_links(scene: Scenario) -> None:
    promise(
        scene.db,
        "Acme <!channel>",
        "call <https://evil.example|the bank> @here",
        due=date(2026, 11, 20),
    )
    subscribe(scene.slack_user, "here")
    scene.sweep(MONDAY)
    # Slack reads mentions and links in mrkdwn and in a message's own text; plain_text
    # (menu options, headers) shows whatever it holds as it is.
    posted = [
        text
        for message in posts_to(scene.slack, "C0LOCAL")
        for text in [str(message["text"]), *_mrkdwn(message["blocks"])]
    ]
    raw = "\n".join(posted)
    assert "Acme" in raw
    assert "<!channel>" not in raw and "<https://evil" not in raw and "@here" not in raw


def _mrkdwn(value: object) -> list[str]:
    if isinstance(value, dict):
        if value.get("type") == "mrkdwn":
            return [str(value["text"])]
        return [text for item in value.values() for text in _mrkdwn(item)]
    if isinstance(value, list):
        return [text for item in value for text in _mrkdwn(item)]
    return []


def unhappy_week(account_id: int, *, give: str) -> list[object]:
    """A give with nothing back and a CSAT of 4 this week, after a week at health 100."""
    return [
        Concession(
            team_id=TEAM,
            account_id=account_id,
            give=give,
            logged_by=ALICE,
            logged_at=at("2026-11-27T10:00"),
        ),
        Rating(
            team_id=TEAM,
            account_id=account_id,
            kind="csat",
            score=4,
            recorded_by=ALICE,
            recorded_at=at("2026-11-26T10:00"),
        ),
        # Last week the account looked far healthier than it can now.
        HealthSnapshot(
            team_id=TEAM,
            account_id=account_id,
            week=date(2026, 11, 23),
            score=100,
            taken_at=at("2026-11-23T09:00"),
        ),
    ]


def test_gives_without_gets_and_health_movers_show_up(scene: Scenario) -> None:
    with scene.db.begin() as session:
        account = get_or_create_account(
            session, team_id=TEAM, name="Acme", user_id=ALICE, now=at("2026-10-01T10:00")
        )
        session.add_all(unhappy_week(account.id, give="free onboarding"))
    subscribe(scene.slack_user, "here")
    scene.sweep(MONDAY)
    details = blocks_text(posts_to(scene.slack, "C0LOCAL")[1])
    assert "Given with nothing back this week" in details and "free onboarding" in details
    assert "Health falling" in details and "health 100 →" in details
    assert "What buyers told us this week" in details and "CSAT 4/10" in details
    with scene.db() as session:
        weeks = session.scalars(select(HealthSnapshot.week)).all()
    assert sorted(weeks) == [date(2026, 11, 23), date(2026, 11, 30)]


def test_preview_shows_the_digest_only_to_the_asker(scene: Scenario) -> None:
    promise(scene.db, "Acme", "send the pricing sheet", due=date(2026, 11, 20))
    with freeze_time(at(MONDAY), real_asyncio=True):
        reply = scene.slack_user.command("/rapport", "digest preview")
    assert reply.status == 200
    (answer,) = scene.slack.wait_for("response_url")
    assert answer.args["response_type"] == "ephemeral"
    assert "send the pricing sheet" in blocks_text(answer.args)
    assert "no weekly digest yet" in blocks_text(answer.args)
    assert posts_to(scene.slack, "C0LOCAL") == []


def test_a_worker_down_for_weeks_sends_one_digest_not_a_backlog(scene: Scenario) -> None:
    promise(scene.db, "Acme", "send the pricing sheet", due=date(2026, 11, 20))
    subscribe(scene.slack_user, "here")
    scene.sweep("2026-12-23T15:00")
    tops = [p for p in posts_to(scene.slack, "C0LOCAL") if not p.get("thread_ts")]
    assert len(tops) == 1
    with scene.db() as session:
        sub = session.scalars(select(DigestSubscription)).one()
    assert sub.next_run_at == at("2026-12-28T09:00")


def test_the_slot_is_read_in_the_subscribers_time_zone(
    slack_user: SlackSender, db: SessionFactory
) -> None:
    with db.begin() as session:
        session.add(UserPrefs(team_id=TEAM, user_id=ALICE, tz_override="Asia/Tokyo"))
    subscribe(slack_user, "here day: mon time: 09:00")
    with db() as session:
        sub = session.scalars(select(DigestSubscription)).one()
    # Monday 09:00 in Tokyo is Monday 00:00 UTC.
    assert (sub.tz, sub.next_run_at) == ("Asia/Tokyo", at("2026-11-30T00:00"))


def test_two_workers_sweeping_at_once_queue_each_digest_once(scene: Scenario) -> None:
    promise(scene.db, "Acme", "send the pricing sheet", due=date(2026, 11, 20))
    for n in range(12):
        subscribe(scene.slack_user, f"<#C0ROOM{n:02d}|room> quiet: line")
    with ThreadPoolExecutor(2) as pool:
        served = list(
            pool.map(lambda _: plan_digests(scene.db, scene.client_for, now=at(MONDAY)), range(2))
        )
    assert sum(served) == 12
    with scene.db() as session:
        tops = session.scalars(
            select(OutboxMessage.recipient).where(OutboxMessage.kind == "digest")
        ).all()
        replies = session.scalar(select(func.count()).where(OutboxMessage.kind == "digest_details"))
    assert sorted(tops) == [f"C0ROOM{n:02d}" for n in range(12)]
    assert replies == 12


def _menu_choice(
    details: dict[str, object], team: str = TEAM, response_url: str = "http://127.0.0.1:9/r"
) -> dict[str, object]:
    """Choosing the first account in a digest section's "Open an account…" menu."""
    blocks = details["blocks"]
    assert isinstance(blocks, list)
    menu = next(b for b in blocks if b["type"] == "actions")
    element = menu["elements"][0]
    option = element["options"][0]
    payload = block_action(
        element["action_id"], team=team, response_url=response_url, container={"type": "message"}
    )
    action = payload["actions"][0]
    del action["value"]
    action.update(type="static_select", block_id=menu["block_id"], selected_option=option)
    return payload


def test_each_section_opens_its_accounts_in_a_modal(scene: Scenario) -> None:
    promise(scene.db, "Acme", "send the pricing sheet", due=date(2026, 11, 20))
    subscribe(scene.slack_user, "here")
    scene.sweep(MONDAY)
    details = posts_to(scene.slack, "C0LOCAL")[1]
    assert scene.slack_user.interact(_menu_choice(details)).status == 200
    (opened,) = scene.slack.wait_for("views.open")
    view = opened.args["view"]
    assert view["type"] == "modal"
    assert "Acme" in blocks_text(view) and "<@U0ALICE>" in blocks_text(view)


def test_the_modal_of_an_account_whose_pause_ended_does_not_say_paused(
    scene: Scenario,
) -> None:
    promise(scene.db, "Acme", "send the pricing sheet", due=date(2026, 11, 20))
    subscribe(scene.slack_user, "here")
    scene.sweep(MONDAY)
    with scene.db.begin() as session:
        acme = session.scalars(select(Account)).one()
        acme.paused_until, acme.pause_reason = date(2026, 11, 1), "their audit"
    details = posts_to(scene.slack, "C0LOCAL")[1]
    assert scene.slack_user.interact(_menu_choice(details)).status == 200
    (opened,) = scene.slack.wait_for("views.open")
    assert "Acme" in blocks_text(opened.args["view"])
    assert "paused until" not in blocks_text(opened.args["view"]), "as the card says today"


def test_another_team_cannot_open_an_account_through_the_menu(scene: Scenario) -> None:
    promise(scene.db, "Acme", "send the pricing sheet", due=date(2026, 11, 20))
    subscribe(scene.slack_user, "here")
    scene.sweep(MONDAY)
    details = posts_to(scene.slack, "C0LOCAL")[1]
    choice = _menu_choice(details, team=OTHER_TEAM, response_url=scene.slack.response_url())
    assert scene.slack_user.interact(choice).status == 200
    (answer,) = scene.slack.wait_for("response_url")
    assert "no longer there" in blocks_text(answer.args)
    assert scene.slack.calls("views.open") == []


def test_overdue_lists_one_persons_follow_ups_when_named(scene: Scenario) -> None:
    promise(scene.db, "Acme", "alice's promise", due=date(2026, 11, 20))
    promise(scene.db, "Globex", "bob's promise", due=date(2026, 11, 25), owner=BOB)
    promise(scene.db, "Umbrella", "not ours", due=date(2026, 11, 20), team=OTHER_TEAM)
    with freeze_time(at(MONDAY), real_asyncio=True):
        everyone = scene.slack_user.command("/rapport", "overdue")
        bobs = scene.slack_user.command("/rapport", f"overdue <@{BOB}|bob>")
    assert everyone.ephemeral and "Overdue follow-ups (2)" in everyone.text
    assert everyone.text.index("alice's promise") < everyone.text.index("bob's promise")
    assert "not ours" not in everyone.text
    assert "Overdue follow-ups (1)" in bobs.text and "alice's promise" not in bobs.text


# --- a thread too long for one message -------------------------------------------------

# A long name and long words: each section of a big team fills its 10 lines.
LONG_NAME = "Northwind Consolidated Mining, Logistics and Freight Holdings {:02d}"
LONG_WHAT = (
    "send the revised multi-year pricing schedule with the volume tiers, the SLA credits "
    "and the exit ramps we agreed in the workshop, number {:02d}"
)


def big_team(db: SessionFactory, accounts: int = 12) -> None:
    """A team whose digest fills seven sections: overdue, kept, QBRs, check-ins, gives
    with nothing back, buyers' answers and health falling."""
    for n in range(accounts):
        name = LONG_NAME.format(n)
        promise(db, name, LONG_WHAT.format(n), due=date(2026, 11, 20))
        promise(db, name, "kept: " + LONG_WHAT.format(n), due=date(2026, 11, 27))
    with db.begin() as session:
        for account in session.scalars(select(Account).where(Account.team_id == TEAM)):
            give = f"a second onboarding workshop, on site, for {account.name}"
            session.add_all(
                [
                    *unhappy_week(account.id, give=give),
                    Qbr(
                        team_id=TEAM,
                        account_id=account.id,
                        next_on=date(2026, 12, 8),
                        created_by=ALICE,
                    ),
                    CheckIn(
                        team_id=TEAM,
                        account_id=account.id,
                        due_on=date(2026, 12, 2),
                        label="30-day",
                    ),
                ]
            )
        session.execute(
            update(Commitment)
            .where(Commitment.what.like("kept: %"))
            .values(done_at=at("2026-11-27T10:00"), done_by=ALICE, kept_on_time=True)
        )


POSTS = ("chat.postMessage", "files.completeUploadExternal")


def deliver(scene: Scenario, when: str) -> None:
    """Only the digests' rows, as the sweep sends them (the owners' DMs left out)."""
    deliver_pending(
        scene.db,
        scene.client_for,
        now=at(when),
        pacer=scene.pacer,
        on_failure=on_delivery_failure,
    )


@pytest.fixture
def big_digest(scene: Scenario) -> Scenario:
    """A big team's digest, planned at its slot and not yet sent."""
    big_team(scene.db)
    subscribe(scene.slack_user, f"<#{SALES}|sales> day: mon time: 09:00")
    plan_digests(scene.db, scene.client_for, now=at(MONDAY))
    return scene


def digest_states(scene: Scenario) -> dict[str, str]:
    with scene.db() as session:
        rows = session.execute(
            select(OutboxMessage.kind, OutboxMessage.status).where(
                OutboxMessage.kind.like("digest%")
            )
        )
        return {str(kind): str(status) for kind, status in rows}


def the_thread(scene: Scenario) -> tuple[dict[str, object], list[str]]:
    """The channel as Slack holds it: the top message, and how its replies begin."""
    top, *thread = scene.slack.posted(SALES)
    assert {m["thread_ts"] for m in thread} == {top["ts"]}
    return top, [m["text"].split(":")[0] for m in thread]


IN_PARTS = ["Details (1 of 3)", "Details (2 of 3)", "Details (3 of 3)"]


def test_a_thread_too_long_for_one_message_goes_in_parts_in_order_once_each(
    big_digest: Scenario,
) -> None:
    scene = big_digest
    # The details' second part (the third post) fails and waits for a retry; the third
    # part waits for it. On the retry, the third part reaches Slack but its answer is lost.
    scene.slack.fail_next("chat.postMessage", error="internal_error", after=2)
    scene.slack.fail_next("chat.postMessage", error="internal_error", accepted=True, after=1)

    deliver(scene, MONDAY)
    deliver(scene, "2026-11-30T09:10")
    deliver(scene, "2026-11-30T09:20")  # found in the thread: not posted again

    top, thread = the_thread(scene)
    assert thread == IN_PARTS, "each part once, in order"
    (chart,) = scene.slack.calls("files.completeUploadExternal")
    assert chart.args["thread_ts"] == top["ts"]
    sent = [c for c in scene.slack.calls() if c.method in POSTS]
    assert sent[-1] is chart, "the chart goes last, after the details"
    # What was sent, each part once (a failed attempt is sent again as it was).
    parts = list({str(p["text"]): p for p in posts_to(scene.slack, SALES)[1:]}.values())
    for part in parts:
        blocks = part["blocks"]
        assert isinstance(blocks, list) and len(blocks) < 50
        assert len(json.dumps(blocks, ensure_ascii=False)) <= 12_000
    shown = "\n".join(blocks_text(p) for p in parts)
    titles = [s.title for s in rules.SECTIONS if s.title in shown]
    assert titles == [
        "Follow-ups overdue",
        "Kept this week",
        "QBRs in the next two weeks",
        "Check-ins due",
        "Given with nothing back this week",
        "What buyers told us this week",
        "Health falling",
    ], "every section, once, in the digest's order"
    assert all(shown.count(f"*{title}*") == 1 for title in titles)
    assert set(digest_states(scene).values()) == {"sent"} and len(digest_states(scene)) == 5


def test_a_part_that_failed_for_good_comes_back_with_the_parts_after_it(
    big_digest: Scenario,
) -> None:
    scene = big_digest
    scene.slack.fail_next("chat.postMessage", error="invalid_blocks", after=2)

    deliver(scene, MONDAY)

    assert digest_states(scene) == {
        "digest": "sent",
        "digest_details": "sent",
        "digest_details_2": "failed",
        "digest_details_3": "skipped",
        "digest_chart": "skipped",
    }, "nothing goes out of order after a part that failed"
    with scene.db.begin() as session:
        failed = session.scalars(
            select(OutboxMessage.id).where(OutboxMessage.kind == "digest_details_2")
        ).one()
        assert outbox.requeue_failed(session, now=at("2026-11-30T10:00"), row_id=failed) == [failed]
    deliver(scene, "2026-11-30T10:00")

    top, thread = the_thread(scene)
    assert thread == IN_PARTS
    (chart,) = scene.slack.calls("files.completeUploadExternal")
    assert chart.args["thread_ts"] == top["ts"]


def test_a_big_teams_preview_comes_in_parts_each_within_slacks_limits(
    scene: Scenario,
) -> None:
    big_team(scene.db)
    with freeze_time(at(MONDAY), real_asyncio=True):
        reply = scene.slack_user.command("/rapport", "digest preview")
    assert reply.status == 200
    scene.settle()

    answers = [c.args for c in scene.slack.calls("response_url")]
    assert len(answers) > 1
    assert answers[0]["text"].startswith("Preview of the digest for")  # type: ignore[union-attr]
    assert f"In {len(answers)} messages." in blocks_text(answers[0])
    for number, answer in enumerate(answers, 1):
        assert answer["response_type"] == "ephemeral"
        blocks = answer["blocks"]
        assert isinstance(blocks, list) and len(blocks) < 50
        assert len(json.dumps(blocks, ensure_ascii=False)) <= 12_000
        if number > 1:
            assert f"Preview, part {number} of {len(answers)}." in blocks_text(answer)
    shown = "\n".join(blocks_text(a) for a in answers)
    assert all(
        shown.count(f"*{title}* (") == 1 for title in ("Follow-ups overdue", "Health falling")
    )
