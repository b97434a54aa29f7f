"""The request's database session: one transaction per request, owned here."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import Request
from sqlalchemy.orm import Session


def db_session(request: Request) -> Iterator[Session]:
    """Commit when the handler returns, roll back when it raises (services only flush).

    Used with `Depends(..., scope="function")` so the commit happens before the
    response is sent: a failed commit is a 500, never a 200.
    """
    factory = request.app.state.session_factory
    with factory() as session, session.begin():
        session.info["stale_after_minutes"] = request.app.state.settings.portal.stale_after_minutes
        session.info["clock"] = request.app.state.settings.portal.clock
        yield session
