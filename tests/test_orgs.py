"""The one reading of Enterprise Grid orgs: which org a workspace is in, which
workspaces an org holds, and the scope a person's own rows are kept under."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from storage.db import SessionFactory
from storage.models.installs import TeamEnterprise
from storage.orgs import org_of, people_scope, people_scope_sql, teams_of

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def test_workspaces_of_an_org_share_its_scope_and_others_keep_their_own(
    db: SessionFactory,
) -> None:
    with db.begin() as session:
        for team in ("T0EU", "T0US"):
            session.add(TeamEnterprise(team_id=team, enterprise_id="E0ORG", seen_at=NOW))
    with db() as session:
        assert org_of(session, team_id="T0EU") == "E0ORG"
        assert org_of(session, team_id="T0SOLO") is None
        assert teams_of(session, enterprise_id="E0ORG") == ["T0EU", "T0US"]
        assert teams_of(session, enterprise_id="E0NONE") == []
        assert people_scope(session, team_id="T0US") == "E0ORG"
        assert people_scope(session, team_id="T0SOLO") == "T0SOLO"
        in_sql = [session.scalar(select(people_scope_sql(t))) for t in ("T0EU", "T0SOLO")]
        assert in_sql == ["E0ORG", "T0SOLO"]
