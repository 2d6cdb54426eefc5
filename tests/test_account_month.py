"""A month of one account's life with a frozen clock (issue 12's proof): Globex, owned
by Alice, from Mon 23 Nov to Wed 23 Dec 2026, through the real app (signed commands
in, recorded Slack calls out, sweeps at frozen times).

Won; marked lost by Bob (not the owner), Alice told and undoing it; lost and won
again; a QBR missed, moved and held; a pause ending on a weekend before a team day
off; an overdue promise with no manager and no channel to escalate to; a DM with 25
items. At each step every surface asked (the reply, the DMs, App Home, `/followup`,
the account card, the digest) says the same about the account.
"""

from __future__ import annotations

from freezegun import freeze_time
from sqlalchemy import select

from storage.models import Commitment
from tests.conftest import at
from tests.scheduling import Scenario
from tests.slackkit import ALICE, BOB, Reply, blocks_text
from tests.test_home import home_at
from tests.test_lifecycle import account_named, click_undo, open_checkins, undo_value


def at_once(s: Scenario, when: str, *lines: tuple[str, str]) -> list[Reply]:
    """Alice types each line at `when`: one frozen clock for all (a clock costs more
    to freeze than a command to run)."""
    with freeze_time(at(when), real_asyncio=True):
        replies = [s.slack_user.command(command, text) for command, text in lines]
        s.settle()
    return replies


def surfaces(s: Scenario, when: str) -> dict[str, str]:
    """What Alice sees about her accounts at `when`, on each surface that lists them."""
    card, followups, due, _ = at_once(
        s,
        when,
        ("/rapport", "account Globex"),
        ("/followup", ""),
        ("/rapport", "due"),
        ("/rapport", "digest preview"),
    )
    return {
        "card": card.text,
        "followups": followups.text,
        "due": due.text,
        "home": blocks_text(home_at(s.slack_user, s.slack, when)),
        "digest": s.answer().text,
    }


def assert_lost(s: Scenario, when: str) -> None:
    seen = surfaces(s, when)
    assert account_named(s, "globex").stage == "lost"
    assert "*Stage*\nLost since" in seen["card"], "shown where asked for"
    for name in ("followups", "due", "home", "digest"):
        assert "Globex" not in seen[name], name
    assert open_checkins(s) == []


def assert_won(s: Scenario, when: str, *, checkins: list[str]) -> dict[str, str]:
    seen = surfaces(s, when)
    assert account_named(s, "globex").stage == "won"
    assert "*Stage*\nWon" in seen["card"] and "Lost since" not in seen["card"]
    assert "Globex" in seen["home"]
    assert open_checkins(s) == checkins
    return seen


def test_a_month_of_globex(s: Scenario) -> None:
    s.slack.add_user(ALICE, is_admin=True)  # she may set the team's days off

    # Mon 23 Nov: won, a promise, a QBR in two weeks.
    won, _, qbr = at_once(
        s,
        "2026-11-23T10:00:00Z",
        ("/rapport", "won Globex"),
        ("/followup", "Globex send the renewal draft due: wed"),
        ("/rapport", "qbr Globex next: 2026-12-07"),
    )
    assert "*Globex* is won" in won.text
    assert "Mon 30 Nov 2026, Wed 23 Dec 2026, Mon 22 Feb 2027" in won.text
    assert "*Mon 30 Nov 2026*" in qbr.text and "*Fri 4 Dec 2026*" in qbr.text
    seen = assert_won(
        s, "2026-11-23T10:05:00Z", checkins=["2026-11-30", "2026-12-23", "2027-02-22"]
    )
    assert "send the renewal draft" in seen["followups"]

    # Tue 24 Nov: Bob, not the owner, marks it lost; Alice is told and undoes it.
    lost = s.say("2026-11-24T10:00:00Z", "/rapport", "lost Globex", user=BOB)
    assert "I closed 5 open items" in lost.text and "send the renewal draft" in lost.text
    assert "The QBR of Mon 7 Dec 2026" in lost.text
    s.sweep("2026-11-24T10:01:00Z")
    (notice,) = s.dms(ALICE)
    told = blocks_text(notice)
    assert f"<@{BOB}> marked it lost (was won), closing 1 follow-up, 3 check-ins, its QBRs" in (
        told
    )
    assert_lost(s, "2026-11-24T10:02:00Z")
    undone = click_undo(s, "2026-11-24T11:00:00Z", undo_value(notice), user=ALICE)
    assert "Undone" in undone.text and "It is back as it was: won" in undone.text
    seen = assert_won(
        s, "2026-11-24T11:01:00Z", checkins=["2026-11-30", "2026-12-23", "2027-02-22"]
    )
    assert "send the renewal draft" in seen["followups"]
    history = s.say("2026-11-24T11:02:00Z", "/rapport", "account Globex history").text
    assert f"Tue 24 Nov 2026 11:00, <@{ALICE}> undid <@{BOB}>'s change" in history

    # Wed 25 Nov: the promise falls due and is reminded of.
    s.sweep("2026-11-25T09:00:00Z")
    assert "send the renewal draft" in s.dm_texts(ALICE)[-1]

    # Thu 26 Nov lost by Alice herself (no DM), Fri 27 Nov won again: from that day.
    s.say("2026-11-26T10:00:00Z", "/rapport", "lost Globex")
    assert_lost(s, "2026-11-26T10:01:00Z")
    again, _ = at_once(
        s,
        "2026-11-27T10:00:00Z",
        ("/rapport", "won Globex"),
        ("/rapport", "qbr Globex next: 2026-12-07"),
    )
    assert "won again" in again.text and "Fri 4 Dec 2026, Mon 28 Dec 2026" in again.text
    seen = assert_won(
        s, "2026-11-27T10:02:00Z", checkins=["2026-12-04", "2026-12-28", "2027-02-25"]
    )
    assert "send the renewal draft" not in seen["followups"], "the loss closed it for good"
    assert len(s.dms(ALICE)) == 2, "her own changes are not announced to her"

    # The QBR: agenda a week ahead, reminder on Friday, asked on Tuesday, moved, held.
    s.sweep("2026-11-30T09:00:00Z")
    assert "Draft agenda" in s.dm_texts(ALICE)[-1]
    s.sweep("2026-12-04T09:00:00Z")
    friday = s.dm_texts(ALICE)[-1]
    assert "QBR with Globex* is on Monday" in friday and "check-in with Globex" in friday
    s.sweep("2026-12-07T09:00:00Z")
    s.sweep("2026-12-08T09:00:00Z")
    asked = s.dms(ALICE)[-1]
    assert "Did the QBR with Globex happen?" in blocks_text(asked)
    s.click(
        "2026-12-08T10:00:00Z",
        asked,
        "nudge_qbr_moved",
        extra=lambda action: action.update(selected_date="2026-12-10"),
    )
    # A pause to Sat 12 Dec; Mon 14 Dec is a team day off: reminders come back Tue 15.
    # The day off is stored after the ack (the admin check asks Slack): settled before
    # the pause reads the calendar, or on a loaded machine the pause came first.
    at_once(s, "2026-12-09T10:00:00Z", ("/rapport", "holidays add 2026-12-14 Team offsite"))
    *_, paused = at_once(
        s,
        "2026-12-09T10:00:00Z",
        ("/followup", "Globex send the audit answers due: 2026-12-11"),
        ("/rapport", "pause Globex until: sat reason: audit"),
    )
    assert "They resume by themselves on *Tue 15 Dec 2026*" in paused.text
    seen = surfaces(s, "2026-12-10T10:00:00Z")
    assert "paused until Sat 12 Dec 2026" in seen["card"]
    assert "Globex" in seen["digest"] and "audit" in seen["digest"]
    held, health = at_once(
        s, "2026-12-10T15:00:00Z", ("/rapport", "qbr Globex held"), ("/rapport", "health globex")
    )
    assert "as held, on schedule" in held.text and "*Wed 10 Mar 2027*" in held.text
    assert "1 of 1 QBR held on schedule" in health.text
    count = len(s.dms(ALICE))
    for day in ("2026-12-11", "2026-12-14"):
        s.sweep(f"{day}T10:00:00Z")
    assert len(s.dms(ALICE)) == count, "quiet while paused and on the day off"

    # Tue 15 Dec: back, and unkept with nobody above Alice: her own reminders only.
    for day in ("2026-12-15", "2026-12-16", "2026-12-17", "2026-12-21"):
        s.sweep(f"{day}T09:00:00Z")
    after_pause = s.dm_texts(ALICE)[count:]
    assert "send the audit answers" in after_pause[0]
    assert not any(":rotating_light:" in t for t in s.dm_texts(ALICE) + s.dm_texts(BOB))
    assert sum("Nobody else hears" in t for t in after_pause) == 1
    seen = surfaces(s, "2026-12-21T10:00:00Z")
    assert "paused" not in seen["card"].split("*Stage*")[1].split("\n\n")[0]

    # Tue 22 Dec: 25 things due at once; today's lead, and `/rapport due` has the rest.
    at_once(
        s,
        "2026-12-21T11:00:00Z",
        *(("/followup", f"Acme{n} item {n} due: 2026-12-22") for n in range(25)),
    )
    s.sweep("2026-12-22T09:00:00Z")
    big = s.dm_texts(ALICE)[-1]
    assert "25 things" in big and "…and 10 more" in big and "`/rapport due`" in big
    assert "send the audit answers" in s.say("2026-12-22T10:00:00Z", "/rapport", "due").text

    # Wed 23 Dec: the one-month check-in... of the first win, dropped with the loss.
    s.sweep("2026-12-23T09:00:00Z")
    assert not any("check-in with Globex" in t for t in s.dm_texts(ALICE)[-1:])
    with s.db() as session:
        open_promises = session.scalars(
            select(Commitment.what).where(Commitment.done_at.is_(None))
        ).all()
    assert "send the renewal draft" not in open_promises
