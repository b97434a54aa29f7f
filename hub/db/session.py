"""Engines and sessions. One owner per transaction: `session_scope` commits or rolls back."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

from shared.ids import check_id

#: How long a SQLite writer waits for another's transaction before "database is locked".
SQLITE_BUSY_TIMEOUT_MS = 60_000


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for the serving database; SQLite gets WAL and enforced foreign keys."""
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, pool_pre_ping=True, **kwargs)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute("PRAGMA journal_mode = WAL")
            # The serving sync writes a micro-batch in one transaction (seconds on a busy
            # machine): another writer (a workflow tick, a sign-in) waits for it.
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            cursor.close()

    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(engine: Engine, *, org_id: str | None = None) -> Iterator[Session]:
    """A transaction that commits on success and rolls back on error.

    With `org_id`, the transaction is tenant-scoped: on PostgreSQL the setting
    `app.org_id` is set for this transaction only, and row-level security limits
    every query to that org's rows.
    """
    with session_factory(engine)() as session, session.begin():
        if org_id is not None:
            set_tenant(session, org_id)
        yield session


def set_tenant(session: Session, org_id: str) -> None:
    """Scope the current transaction to one org (PostgreSQL RLS reads `app.org_id`)."""
    check_id("org id", org_id)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT set_config('app.org_id', :org_id, true)"), {"org_id": org_id})
    session.info["org_id"] = org_id
