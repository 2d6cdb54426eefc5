"""rapport import: accounts and owners from a CRM export, checked row by row first."""

from __future__ import annotations

from pathlib import Path

import pytest
from slack_sdk import WebClient
from slack_sdk.oauth.installation_store import Installation
from sqlalchemy import Engine, select

from bot.app.cli import main
from bot.devtools.localslack import LocalSlack
from bot.services.importing import CheckedFile, check_accounts_csv, import_accounts
from storage.db import SessionFactory
from storage.installs import InstallationStore
from storage.models import Account
from tests.conftest import at
from tests.slackkit import ALICE, BOB, OTHER_TEAM, TEAM

NOW = at("2026-11-20T09:00:00")


class Directory:
    """Emails as a workspace knows them; remembers what it was asked."""

    def __init__(self, **users: str) -> None:
        self.users = {email.casefold(): user for email, user in users.items()}
        self.asked: list[str] = []

    def user_for_email(self, email: str) -> str | None:
        self.asked.append(email)
        return self.users.get(email.casefold())


def check(text: str, directory: Directory | None = None) -> CheckedFile:
    return check_accounts_csv(text, directory=directory or Directory(), today=NOW.date())


def accounts(db: SessionFactory, team: str = TEAM) -> list[tuple[str, str, str | None]]:
    with db() as s:
        rows = s.scalars(select(Account).where(Account.team_id == team).order_by(Account.name))
        return [(a.name, a.owner_id, a.relationship_type) for a in rows]


def test_crm_headers_bom_and_semicolons_are_read() -> None:
    text = (
        "\ufeffAccount Name ; Account Owner;Owner Email;Industry\nAcme;Bob Smith;bob@x.com;Retail\n"
    )
    checked = check(text, Directory(**{"bob@x.com": BOB}))
    assert checked.bad == ()
    assert [(r.line, r.name, r.owner_id) for r in checked.rows] == [(2, "Acme", BOB)]
    assert checked.ignored_columns == ("Industry",)


def test_owner_ids_type_channel_and_expectations_are_read() -> None:
    text = (
        "NAME,Owner,Relationship Type,Channel,Expectations\n"
        'Acme,<@U0ALICE>,partner,C0DEALS,"straight answers, no lunches"\n'
        "Globex,U0BOB,,,\n"
        "Initech,walter,,,\n"
    )
    checked = check(text)
    # A name is not an id, even one that starts like one.
    assert [b.line for b in checked.bad] == [4]
    acme, globex = checked.rows
    assert (acme.owner_id, acme.relationship_type, acme.channel_id) == (
        ALICE,
        "strategic",
        "C0DEALS",
    )
    assert acme.expectations == "straight answers, no lunches"
    assert (globex.owner_id, globex.relationship_type, globex.channel_id) == (BOB, None, None)


def test_bad_rows_are_reported_by_line_with_what_is_wrong() -> None:
    text = (
        "name,owner,relationship_type,channel\n"
        "Acme,U0ALICE,strategic,C0DEALS\n"
        "\n"  # blank lines do not count as rows, but they do count as lines
        ",U0ALICE,,\n"
        "Globex,Bob Smith,,\n"
        "Initech,bob@x.com,,\n"
        "Hooli,U0ALICE,cosy,#deals\n"
        "ACME ,U0BOB,,\n"
        '"Umbrella\nCorp",,,\n'
        "Stark,U0BOB,,\n"
    )
    checked = check(text)
    assert [str(bad) for bad in checked.bad] == [
        "line 4: account name is missing",
        "line 5: owner “Bob Smith” is neither a Slack user id (like U123ABC) nor an email address",
        "line 6: owner bob@x.com is not a user in this Slack workspace",
        "line 7: relationship type “cosy” is not one of transactional, functional, affiliative, "
        "strategic, personal; channel “#deals” is not a Slack channel id (like C123ABC; "
        "Slack shows it at the bottom of the channel's details)",
        "line 8: account “ACME” is already on line 2",
        "line 9: owner is missing",
    ]
    assert [(r.line, r.name) for r in checked.rows] == [(2, "Acme"), (11, "Stark")]


def test_each_email_is_looked_up_once() -> None:
    directory = Directory(**{"bob@x.com": BOB})
    checked = check("name,owner\nA,bob@x.com\nB,BOB@X.COM\nC,mailto:bob@x.com\n", directory)
    assert [r.owner_id for r in checked.rows] == [BOB, BOB, BOB]
    # The cache is SlackDirectory's job; the check asks per row, the directory decides.
    assert len(directory.asked) == 3


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "line 1: the file is empty"),
        ("owner\nU0BOB\n", "line 1: no account name column (call it name or Account Name)"),
        ("name,industry\nAcme,retail\n", "line 1: no owner column"),
        ("name,owner\n", "line 1: there are no accounts after the header"),
        # A JSON export: not read back, and not read as a CSV without a name column.
        ('{\n"accounts": [\n  {"id": 1, "name": "Acme"}]}\n', "line 1: this is JSON"),
    ],
)
def test_a_file_without_what_it_needs_is_refused(text: str, problem: str) -> None:
    checked = check(text)
    assert checked.fatal and not checked.importable(skip_bad=True)
    assert str(checked.bad[0]).startswith(problem)


def test_one_bad_row_imports_nothing(db: SessionFactory) -> None:
    checked = check("name,owner\nAcme,U0ALICE\nGlobex,\n")
    with db.begin() as s:
        report = import_accounts(s, team_id=TEAM, checked=checked, now=NOW)
    assert not report.imported and [b.line for b in report.skipped] == [3]
    assert accounts(db) == []


def test_skip_bad_imports_the_good_rows(db: SessionFactory) -> None:
    checked = check("name,owner\nAcme,U0ALICE\nGlobex,\n")
    with db.begin() as s:
        report = import_accounts(s, team_id=TEAM, checked=checked, now=NOW, skip_bad=True)
    assert report.imported and report.created == 1 and len(report.skipped) == 1
    assert accounts(db) == [("Acme", ALICE, None)]


def test_existing_accounts_are_updated_not_duplicated(db: SessionFactory) -> None:
    with db.begin() as s:
        s.add(
            Account(
                team_id=TEAM,
                key="acme corp",
                name="Acme Corp",
                owner_id=ALICE,
                created_by=ALICE,
                created_at=NOW,
                relationship_type="functional",
                expectations="kept as it was",
            )
        )
        # Same name in another team: a different account, left alone.
        s.add(
            Account(
                team_id=OTHER_TEAM,
                key="acme corp",
                name="Acme Corp",
                owner_id=ALICE,
                created_by=ALICE,
                created_at=NOW,
            )
        )
    checked = check("name,owner,relationship\nACME  corp,U0BOB,\nGlobex,U0BOB,strategic\n")
    with db.begin() as s:
        report = import_accounts(s, team_id=TEAM, checked=checked, now=NOW)
    assert (report.created, report.updated, report.unchanged) == (1, 1, 0)
    assert accounts(db) == [("Acme Corp", BOB, "functional"), ("Globex", BOB, "strategic")]
    assert accounts(db, OTHER_TEAM) == [("Acme Corp", ALICE, None)]
    with db() as s:
        acme = s.scalars(select(Account).where(Account.team_id == TEAM, Account.key == "acme corp"))
        assert acme.one().expectations == "kept as it was"

    with db.begin() as s:
        again = import_accounts(s, team_id=TEAM, checked=checked, now=NOW)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)


def test_dry_run_counts_but_writes_nothing(db: SessionFactory) -> None:
    checked = check("name,owner\nAcme,U0ALICE\n")
    with db.begin() as s:
        report = import_accounts(s, team_id=TEAM, checked=checked, now=NOW, dry_run=True)
    assert report.dry_run and report.created == 1
    assert accounts(db) == []


# --- the command, against the fake Slack ---------------------------------------------


@pytest.fixture
def cli_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str, slack: LocalSlack
) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test-token")
    monkeypatch.setenv("SLACK_API_URL", slack.api_url)
    monkeypatch.setenv("SLACK_MAX_RETRIES", "2")


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "accounts.csv"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_owner_emails_are_looked_up_in_slack_and_the_team_comes_from_auth_test(
    db: SessionFactory,
    cli_env: None,
    slack: LocalSlack,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    slack.add_user(BOB, email="Bob@Example.com")
    file = write(
        tmp_path, "Account Name,Owner Email\nAcme,bob@example.com\nGlobex,bob@example.com\n"
    )

    assert main(["import", file]) == 0

    assert "Imported into team T0LOCAL: 2 created, 0 updated" in capsys.readouterr().out
    assert accounts(db, "T0LOCAL") == [("Acme", BOB, None), ("Globex", BOB, None)]
    lookups = slack.calls("users.lookupByEmail")
    assert [c.args["email"] for c in lookups] == ["bob@example.com"], "cached per email"
    assert len(slack.calls("auth.test")) == 1


def test_an_unknown_email_is_reported_and_nothing_is_imported(
    db: SessionFactory,
    cli_env: None,
    slack: LocalSlack,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    slack.add_user(BOB, email="bob@example.com")
    file = write(tmp_path, "name,owner\nAcme,bob@example.com\nGlobex,carol@example.com\n")

    assert main(["import", file, "--team", TEAM]) == 1

    out = capsys.readouterr().out
    assert "line 3: owner carol@example.com is not a user in this Slack workspace" in out
    assert "Nothing imported: 1 bad row" in out
    assert accounts(db) == []

    assert main(["import", file, "--team", "T0LOCAL", "--skip-bad"]) == 0
    out = capsys.readouterr().out
    assert "line 3" in out and "1 created, 0 updated, 0 unchanged, 1 skipped" in out
    assert accounts(db, "T0LOCAL") == [("Acme", BOB, None)]


def test_a_rate_limited_lookup_is_retried(
    db: SessionFactory, cli_env: None, slack: LocalSlack, tmp_path: Path
) -> None:
    slack.add_user(BOB, email="bob@example.com")
    slack.fail_next("users.lookupByEmail", status=429, retry_after=1)
    file = write(tmp_path, "name,owner\nAcme,bob@example.com\n")

    assert main(["import", file, "--team", "T0LOCAL"]) == 0
    assert len(slack.calls("users.lookupByEmail")) == 2
    assert accounts(db, "T0LOCAL") == [("Acme", BOB, None)]


def test_a_missing_scope_stops_the_import_with_advice(
    db: SessionFactory,
    cli_env: None,
    slack: LocalSlack,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    slack.fail_next("users.lookupByEmail", error="missing_scope")
    file = write(tmp_path, "name,owner\nAcme,bob@example.com\n")

    assert main(["import", file, "--team", TEAM]) == 2
    assert "users:read.email" in capsys.readouterr().err
    assert accounts(db) == []


def test_dry_run_from_the_command_writes_nothing(
    db: SessionFactory,
    cli_env: None,
    slack: LocalSlack,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    file = write(tmp_path, "name;owner\nAcme;U0ALICE\n")

    assert main(["import", file, "--team", TEAM, "--dry-run"]) == 0

    out = capsys.readouterr().out
    assert "Would import into team T0ACME: 1 created" in out and "nothing was written" in out
    assert accounts(db) == []
    assert slack.calls() == [], "user ids and --team need no Slack call"


def test_export_then_import_gives_back_the_same_accounts(
    db: SessionFactory, cli_env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with db.begin() as s:
        for name, owner, kind in [
            ("Acme Corp", ALICE, "strategic"),
            ("Globex; EMEA", BOB, None),
            ('Initech, "the" one', BOB, "personal"),
            ("@Umbrella", ALICE, "transactional"),
        ]:
            s.add(
                Account(
                    team_id=TEAM,
                    key=name.casefold(),
                    name=name,
                    owner_id=owner,
                    created_by=owner,
                    created_at=NOW,
                    relationship_type=kind,
                    channel_id="C0DEALS" if kind else None,
                    expectations=(
                        "=1+1 by Q3"
                        if name.startswith("@")
                        else "résumé, “quotes”\nand lines"
                        if kind
                        else None
                    ),
                )
            )
    assert main(["export", "--format", "csv", "--team", TEAM, str(tmp_path / "out")]) == 0
    with db() as s:
        before = [
            (a.name, a.owner_id, a.relationship_type, a.channel_id, a.expectations)
            for a in s.scalars(select(Account).order_by(Account.name))
        ]
        for account in s.scalars(select(Account)):
            s.delete(account)
        s.commit()

    assert main(["import", str(tmp_path / "out" / "accounts.csv"), "--team", TEAM]) == 0

    exported = (tmp_path / "out" / "accounts.csv").read_text(encoding="utf-8")
    assert "'@Umbrella" in exported and "'=1+1 by Q3" in exported
    assert "4 created" in capsys.readouterr().out
    with db() as s:
        after = [
            (a.name, a.owner_id, a.relationship_type, a.channel_id, a.expectations)
            for a in s.scalars(select(Account).order_by(Account.name))
        ]
    assert after == before


def test_import_help_says_where_the_team_comes_from(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["import", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "auth.test" in text and "--skip-bad" in text and "Owner Email" in text


def test_emails_are_not_looked_up_in_one_team_for_another(
    db: SessionFactory,
    cli_env: None,
    slack: LocalSlack,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    slack.add_user(BOB, email="bob@example.com")
    file = write(tmp_path, "name,owner\nAcme,bob@example.com\n")

    assert main(["import", file, "--team", TEAM]) == 2

    assert "looked up in Slack team T0LOCAL, not T0ACME" in capsys.readouterr().err
    assert accounts(db) == [] and accounts(db, "T0LOCAL") == []


def _on_file(db: SessionFactory, *names: str) -> None:
    with db.begin() as s:
        for name in names:
            s.add(
                Account(
                    team_id=TEAM,
                    key=" ".join(name.split()).casefold(),
                    name=name,
                    owner_id=ALICE,
                    created_by=ALICE,
                    created_at=NOW,
                )
            )


def test_names_are_matched_as_the_resolver_reads_them(db: SessionFactory) -> None:
    """Issue 11: case, spacing, punctuation and legal suffixes aside, as in commands:
    "Acme Corp Inc." is the Acme Corp on file, not a second account."""
    _on_file(db, "Acme Corp", "Procter & Gamble")
    checked = check("name,owner\nAcme Corp Inc.,U0BOB\nprocter and gamble co,U0BOB\n")
    with db.begin() as s:
        report = import_accounts(s, team_id=TEAM, checked=checked, now=NOW)
    assert (report.created, report.updated) == (0, 2), report
    assert accounts(db) == [("Acme Corp", BOB, None), ("Procter & Gamble", BOB, None)]


def test_one_account_spelled_twice_in_a_file_is_one_account(db: SessionFactory) -> None:
    _on_file(db, "Globex")
    checked = check(
        'name,owner\nAcme Corp,U0ALICE\n"ACME corp., inc",U0BOB\nGlobex,U0BOB\nGlobex Ltd,U0BOB\n'
    )
    with db.begin() as s:
        report = import_accounts(s, team_id=TEAM, checked=checked, now=NOW)
    assert [str(b) for b in report.skipped] == [
        "line 3: account “ACME corp., inc” is the same as on line 2",
        "line 5: account “Globex Ltd” is the same as on line 4",
    ]
    assert not report.imported


def test_a_near_miss_is_reported_not_created(
    db: SessionFactory,
    cli_env: None,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _on_file(db, "Globex", "Initech")
    file = write(tmp_path, "name,owner\nGlobx,U0BOB\nInitech,U0BOB\nHooli,U0BOB\n")

    assert main(["import", file, "--team", TEAM]) == 1
    out = capsys.readouterr().out
    assert "line 2: account “Globx” is not in Rapport; did you mean “Globex”?" in out
    assert '/rapport account "Globx" type: …' in out and "Nothing imported: 1 bad row" in out
    assert accounts(db) == [("Globex", ALICE, None), ("Initech", ALICE, None)]

    assert main(["import", file, "--team", TEAM, "--skip-bad"]) == 0
    out = capsys.readouterr().out
    assert (
        "line 2: account “Globx”" in out and "1 created, 1 updated, 0 unchanged, 1 skipped" in out
    )
    assert [name for name, _, _ in accounts(db)] == ["Globex", "Hooli", "Initech"]


def test_a_name_that_could_be_two_accounts_is_reported(db: SessionFactory) -> None:
    _on_file(db, "Acme", "Acme Inc")
    checked = check("name,owner\nACME Inc.,U0BOB\nAcme Inc,U0BOB\nacme,U0BOB\n")
    with db.begin() as s:
        report = import_accounts(s, team_id=TEAM, checked=checked, now=NOW, skip_bad=True)
    assert [str(b) for b in report.skipped] == [
        "line 2: account “ACME Inc.” could be “Acme” or “Acme Inc”: write the name as it is "
        "in Rapport"
    ]
    # Written as on file, each is its own account (an export of both imports back).
    assert accounts(db) == [("Acme", BOB, None), ("Acme Inc", BOB, None)]


def test_with_many_workspaces_owners_are_looked_up_with_the_named_ones_own_token(
    db: SessionFactory,
    engine: Engine,
    cli_env: None,
    slack: LocalSlack,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("SLACK_BOT_TOKEN")
    monkeypatch.setenv("SLACK_CLIENT_ID", "1111.2222")
    monkeypatch.setenv("SLACK_CLIENT_SECRET", "client-secret")
    code = slack.consent(TEAM, user_id=ALICE)
    granted = WebClient(base_url=slack.api_url).oauth_v2_access(
        client_id="1111.2222", client_secret="client-secret", code=code
    )
    InstallationStore(engine, client_id="1111.2222").save(
        Installation(
            app_id="A0RAPPORT",
            team_id=TEAM,
            bot_token=granted["access_token"],
            bot_user_id="U0RAPPORT",
            user_id=ALICE,
        )
    )
    slack.add_user(BOB, email="bob@example.com")
    file = write(tmp_path, "name,owner\nAcme,bob@example.com\n")

    assert main(["import", file]) == 2
    assert "say which one the accounts are for with --team" in capsys.readouterr().err

    assert main(["import", file, "--team", TEAM]) == 0
    assert accounts(db) == [("Acme", BOB, None)]
    (lookup,) = slack.calls("users.lookupByEmail")
    assert lookup.token == granted["access_token"]
