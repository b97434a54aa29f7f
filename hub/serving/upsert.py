"""INSERT ... ON CONFLICT for SQLite and PostgreSQL alike (both speak it)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def _insert(session: Session, table: Table):  # type: ignore[no-untyped-def]
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"upserts are written for SQLite and PostgreSQL, not {dialect}")


def upsert(
    session: Session,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    update: Iterable[str] | None = None,
    where: Callable[[Table, Any], Any] | None = None,
) -> int:
    """Insert rows; on a primary-key conflict update `update` (default: every non-key column).

    `where(table, excluded)` limits which conflicting rows are updated (e.g. only when the
    incoming row is newer). Only flushes: the caller's `session_scope` owns the transaction.
    """
    if not rows:
        return 0
    keys = [c.name for c in table.primary_key.columns]
    columns = list(update) if update is not None else [c for c in rows[0] if c not in keys]
    statement = _insert(session, table)
    if columns:
        statement = statement.on_conflict_do_update(
            index_elements=keys,
            set_={c: statement.excluded[c] for c in columns},
            where=where(table, statement.excluded) if where is not None else None,
        )
    else:
        statement = statement.on_conflict_do_nothing(index_elements=keys)
    session.execute(statement, list(rows))
    return len(rows)


def insert_missing(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> int:
    """Insert rows whose primary key is not there yet; leave existing rows alone."""
    if not rows:
        return 0
    keys = [c.name for c in table.primary_key.columns]
    statement = _insert(session, table).on_conflict_do_nothing(index_elements=keys)
    session.execute(statement, list(rows))
    return len(rows)
