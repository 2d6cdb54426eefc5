"""Account KPIs the team records or imports: the renewal date and whether they renewed
(retention), repeat purchases and referrals given. Recorded with `/rapport account`,
shown on the card, summed up in the weekly digest, carried by the export so it
imports back."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app.cli import main
from bot.services import account_kpis
from bot.services.account_kpis import KpiTally, read_renewed
from bot.services.dates import RENEWAL, DayReader
from bot.services.errors import UsageError
from storage.db import SessionFactory
from storage.models import AccountKpi
from tests.scheduling import Scenario
from tests.slackkit import TEAM
from tests.test_import import cli_env as cli_env  # a fixture: `rapport` against the fake Slack

THURSDAY = "2026-12-03T10:00:00+00:00"  # in the quarter from 1 Oct 2026


def kpis(s: Scenario | SessionFactory) -> list[tuple[str, date | None, str | None, str | None]]:
    """Every KPI row stored: (kind, day, outcome, note), in the order recorded."""
    db = s.db if isinstance(s, Scenario) else s
    with db() as session:
        return [
            (k.kind, k.day, k.outcome, k.note)
            for k in session.scalars(select(AccountKpi).order_by(AccountKpi.id))
        ]


def test_a_renewal_repeat_purchase_and_referral_show_on_the_card(s: Scenario) -> None:
    card = s.say(
        THURSDAY,
        "/rapport",
        "account Acme Corp renewal: 15 Jan 2027 repeat: 20 more seats "
        "referral: introduced us to Initech",
    )
    assert "Updated renewal date, repeat purchase, referral." in card.text
    assert "Fri 15 Jan 2027, in 43 days" in card.text
    assert "1 (latest Thu 3 Dec 2026: 20 more seats)" in card.text
    assert "1 (latest Thu 3 Dec 2026: introduced us to Initech)" in card.text
    assert "_no outcome recorded yet" in card.text

    # Renewed early: the open renewal closes, the next one opens.
    card = s.say(THURSDAY, "/rapport", "account acme corp renewed: yes renewal: 15 Jan 2028")
    assert "Sat 15 Jan 2028" in card.text
    assert "renewed at 1 of 1 renewal; the last, Fri 15 Jan 2027: renewed" in card.text
    rows = [(kind, day, outcome) for kind, day, outcome, _ in kpis(s)]
    assert rows == [
        ("renewal", date(2027, 1, 15), "renewed"),
        ("repeat", date(2026, 12, 3), None),
        ("referral", date(2026, 12, 3), None),
        ("renewal", date(2028, 1, 15), None),
    ]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("account Acme renewed: maybe", "I read `renewed: maybe`; write `renewed: yes`"),
        ("account Acme renewal: someday", "I couldn't read “someday” as a date"),
        ("account Acme renewal: 1 Jan 2020", "more than three years ago"),
        ("account Acme repeat:", "Say what goes after `repeat:`"),
        ("account Acme referral: " + "x" * 301, "Keep `referral:` under 300 characters"),
    ],
)
def test_bad_kpis_say_what_was_read_and_store_nothing(s: Scenario, text: str, says: str) -> None:
    s.say(THURSDAY, "/rapport", "account Acme type: strategic")
    reply = s.say(THURSDAY, "/rapport", text)
    assert reply.status == 200 and reply.ephemeral
    assert says in reply.text
    assert "/rapport account ACCOUNT" in reply.text
    assert kpis(s) == []


def test_an_outcome_said_twice_or_corrected_the_same_day_is_one_renewal(s: Scenario) -> None:
    s.say(THURSDAY, "/rapport", "account Acme renewed: no")
    s.say(THURSDAY, "/rapport", "account Acme renewed: no")
    card = s.say(THURSDAY, "/rapport", "account Acme renewed: yes")
    assert "renewed at 1 of 1 renewal" in card.text
    assert kpis(s) == [("renewal", date(2026, 12, 3), "renewed", None)]


def test_a_renewal_that_fell_due_unrecorded_is_asked_about(s: Scenario) -> None:
    card = s.say(THURSDAY, "/rapport", "account Initech renewal: 1 Dec 2026")
    assert "Was due Tue 1 Dec 2026: did they renew?" in card.text


def test_the_digest_sums_up_the_quarters_renewals_and_the_weeks_purchases(s: Scenario) -> None:
    for line in (
        "account Acme renewal: 1 Nov 2026",
        "account Acme renewed: yes",
        "account Globex renewal: 20 Nov 2026",
        "account Globex renewed: no",
        "account Initech renewal: 2 Dec 2026",
        "account Acme repeat: 20 more seats",
        "account Globex referral: introduced us to Hooli",
    ):
        s.say(THURSDAY, "/rapport", line)
    s.say("2026-10-05T10:00:00+00:00", "/rapport", "account Initech repeat: pilot extension")
    s.say(THURSDAY, "/rapport", "digest preview")
    digest = s.answer().text
    assert (
        "*Accounts:* 1 of 3 renewals due this quarter renewed (50% of those decided), "
        "1 not recorded yet · 1 repeat purchase this week, 2 this quarter · "
        "1 referral this week, 1 this quarter."
    ) in digest
    assert "Renewals, repeat purchases and referrals" in digest
    assert "renewal was due Wed 2 Dec; whether they renewed is not recorded yet" in digest
    assert "repeat purchase on Thu 3 Dec: 20 more seats" in digest
    assert "pilot extension" not in digest  # in the quarter, not this week


CRM = (
    "Account Name,Owner,Renewal Date,Renewed,Repeat Purchases,Referrals\n"
    "Acme Corp,U0ALICE,2027-03-31,,3,1\n"
    "Globex,U0BOB,2026-11-30,no,,\n"
    "Initech,U0BOB,2026-11-30,maybe,x,\n"
    "Hooli,U0BOB,,yes,,\n"
)


def test_a_crm_file_brings_renewals_and_counts_and_reports_what_does_not_read(
    db: SessionFactory, tmp_path: Path, cli_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    crm = tmp_path / "crm.csv"
    crm.write_text(CRM)
    assert main(["import", str(crm), "--team", TEAM]) == 1
    out = capsys.readouterr().out
    assert "line 4: renewed “maybe” is neither yes nor no; repeat purchases “x”" in out
    assert "line 5: renewed needs the date of the renewal it answers" in out
    assert kpis(db) == []

    assert main(["import", str(crm), "--team", TEAM, "--skip-bad"]) == 0
    assert sorted(kpis(db), key=str) == sorted(
        [
            ("renewal", date(2027, 3, 31), None, None),
            ("repeat", None, None, None),
            ("repeat", None, None, None),
            ("repeat", None, None, None),
            ("referral", None, None, None),
            ("renewal", date(2026, 11, 30), "not_renewed", None),
        ],
        key=str,
    )


def test_the_export_carries_the_kpis_and_imports_back_unchanged(
    db: SessionFactory, tmp_path: Path, cli_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    crm = tmp_path / "crm.csv"
    crm.write_text(CRM)
    assert main(["import", str(crm), "--team", TEAM, "--skip-bad"]) == 0
    before = sorted(map(str, kpis(db)))
    assert main(["export", "--format", "csv", "--team", TEAM, str(tmp_path / "out")]) == 0
    exported = (tmp_path / "out" / "accounts.csv").read_text()
    header = exported.splitlines()[0].split(",")
    assert header[-4:] == ["renewal_on", "renewed", "repeat_purchases", "referrals"]
    assert ",2027-03-31,,3,1" in exported and ",2026-11-30,no,0,0" in exported
    assert (tmp_path / "out" / "account_kpis.csv").exists()
    assert (tmp_path / "out" / "client_questions.csv").exists()
    capsys.readouterr()

    assert main(["import", str(tmp_path / "out" / "accounts.csv"), "--team", TEAM]) == 0
    assert "2 unchanged" in capsys.readouterr().out
    assert sorted(map(str, kpis(db))) == before


def test_renewed_is_read_as_people_say_it() -> None:
    assert read_renewed("Yes") and read_renewed("renewed") and read_renewed("retained")
    assert not read_renewed("no") and not read_renewed("Churned") and not read_renewed("lost")
    with pytest.raises(UsageError):
        read_renewed("perhaps")


def test_a_renewal_date_may_be_recent_or_ahead_within_three_years() -> None:
    reader = DayReader(date(2026, 12, 3))
    assert reader.read("2026-11-30", RENEWAL) == date(2026, 11, 30)
    assert reader.read("2029-12-03", RENEWAL) == date(2029, 12, 3)
    with pytest.raises(UsageError, match="more than three years away"):
        reader.read("2029-12-04", RENEWAL)


def test_the_tally_counts_the_quarters_renewals_and_the_weeks_purchases() -> None:
    today = date(2026, 12, 3)
    rows = [
        ("renewal", date(2026, 11, 1), "renewed"),
        ("renewal", date(2026, 11, 20), "not_renewed"),
        ("renewal", date(2026, 12, 2), None),
        ("renewal", date(2026, 12, 20), None),  # not due yet
        ("repeat", date(2026, 12, 1), None),
        ("repeat", date(2026, 10, 5), None),
        ("referral", date(2026, 11, 27), None),
    ]
    counted = account_kpis.tally(rows, today)
    assert counted == KpiTally(
        renewals_due=3,
        renewed=1,
        not_renewed=1,
        repeats_week=1,
        repeats_quarter=2,
        referrals_week=1,
        referrals_quarter=1,
    )
    assert counted.retention_pct == 50 and counted.unrecorded == 1
    assert account_kpis.quarter_start(today) == date(2026, 10, 1)
    assert account_kpis.tally([], today).empty
