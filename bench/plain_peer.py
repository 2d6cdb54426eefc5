"""The plain peer for `bench/ack_latency.py`: the same `/concede`, written the way a
first implementation would be, to measure Rapport's ack latency against.

Bolt with its defaults behind its own WSGI adapter, an SQLAlchemy ORM session per
request, a Jinja2 template for the reply, served by gunicorn with the gthread worker,
2 processes x 4 threads (issue 14 names this setup). What it does for each signed
`/concede ACCOUNT give: … get: …`: finds or creates the account, stores the
concession, counts the account's gives with and without a get, and acks with the
rendered reply. It skips what Rapport adds on top (fuzzy account matching, the field
reader's corrections, tradeable suggestions, request deduplication, the budget on
database waits); those are part of what the comparison prices.

Started by `bench/ack_latency.py`; by hand:

    PEER_DATABASE_URL=sqlite:////tmp/peer.db SLACK_API_URL=http://127.0.0.1:PORT/api/ \
    SLACK_SIGNING_SECRET=… gunicorn --chdir bench --worker-class gthread --workers 2 \
        --threads 4 --bind 127.0.0.1:3001 plain_peer:application
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from typing import Any

from jinja2 import Environment
from slack_bolt import Ack, App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient
from sqlalchemy import (
    DateTime,
    ForeignKey,
    String,
    UniqueConstraint,
    case,
    create_engine,
    event,
    func,
    select,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker


class Base(DeclarativeBase):
    pass


class Account(Base):
    __tablename__ = "accounts"
    __table_args__ = (UniqueConstraint("team_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))


class Concession(Base):
    __tablename__ = "concessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    user_id: Mapped[str] = mapped_column(String(32))
    give: Mapped[str] = mapped_column(String(500))
    get: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


COMMAND = re.compile(r"^\s*(?P<account>.+?)\s+give:\s*(?P<give>.+?)(?:\s+get:\s*(?P<get>.*))?$")

REPLY = Environment(autoescape=False).from_string(
    "Logged for *{{ account }}*: we give {{ give }}"
    "{% if get %}, we get {{ get }}{% else %}, with nothing in return yet{% endif %}.\n"
    "{{ traded }} traded, {{ one_way }} one-way so far."
    "{% if one_way > traded %} More one-way gives than trades: ask for something back."
    "{% endif %}"
)


def _engine(url: str) -> Any:
    engine = create_engine(url)
    if url.startswith("sqlite"):
        # Two processes write one SQLite file: WAL and a busy timeout, as SQLAlchemy's
        # and SQLite's documentation advise; without them the peer fails, not slows.
        @event.listens_for(engine, "connect")
        def _pragmas(connection: Any, _: Any) -> None:
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=5000")
            cursor.close()

    return engine


def build() -> SlackRequestHandler:
    sessions = sessionmaker(_engine(os.environ["PEER_DATABASE_URL"]))
    app = App(
        client=WebClient(token="xoxb-bench", base_url=os.environ["SLACK_API_URL"]),
        signing_secret=os.environ["SLACK_SIGNING_SECRET"],
    )

    @app.command("/concede")
    def concede(ack: Ack, command: dict[str, Any]) -> None:
        match = COMMAND.match(command.get("text", ""))
        if match is None:
            ack("Write it as `/concede ACCOUNT give: … get: …`.")
            return
        team_id = command["team_id"]
        with sessions.begin() as session:
            account = session.scalar(
                select(Account).where(Account.team_id == team_id, Account.name == match["account"])
            )
            if account is None:
                account = Account(team_id=team_id, name=match["account"])
                session.add(account)
                session.flush()
            session.add(
                Concession(
                    account_id=account.id,
                    user_id=command["user_id"],
                    give=match["give"],
                    get=match["get"] or None,
                    created_at=datetime.now(UTC),
                )
            )
            session.flush()
            traded, one_way = session.execute(
                select(
                    func.count(Concession.get),
                    func.sum(case((Concession.get.is_(None), 1), else_=0)),
                ).where(Concession.account_id == account.id)
            ).one()
            text = REPLY.render(
                account=account.name,
                give=match["give"],
                get=match["get"],
                traded=traded,
                one_way=one_way or 0,
            )
        ack(text=text, blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": text}}])

    return SlackRequestHandler(app)


if __name__ == "__main__":
    # The tables, made once before gunicorn starts (two workers racing to create them
    # would fail): `python bench/plain_peer.py`.
    Base.metadata.create_all(create_engine(os.environ["PEER_DATABASE_URL"]))
    raise SystemExit(0)

# Built at import: gunicorn (without --preload) imports this module in each worker
# after the fork, so each process has its own engine and connections.
_slack = build()


def application(environ: dict[str, Any], start_response: Any) -> Any:
    """The WSGI entry point gunicorn serves; also answers GET /healthz for the bench."""
    if environ.get("PATH_INFO") == "/healthz":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]
    return _slack(environ, start_response)
