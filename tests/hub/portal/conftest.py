"""Portal fixtures: one migrated PostgreSQL database per run, the app on a non-superuser role."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from fastapi import FastAPI
from sqlalchemy import Engine

from hub.db.migrate import upgrade
from hub.db.session import make_engine
from hub.portal.app import create_app
from hub.settings import HubSettings
from tests.support.db import app_role_url, fresh_postgres_database
from tests.support.services import Postgres, free_port


@dataclass
class PortalDb:
    owner_url: str
    app_url: str
    owner: Engine  # superuser: bypasses RLS, for seeding
    app: Engine  # the application's role: RLS applies


@pytest.fixture(scope="session")
def portal_db(postgres: Postgres) -> Iterator[PortalDb]:
    owner_url = fresh_postgres_database(postgres)
    app_url = app_role_url(postgres, owner_url)
    db = PortalDb(owner_url, app_url, make_engine(owner_url), make_engine(app_url))
    yield db
    db.owner.dispose()
    db.app.dispose()


@pytest.fixture(scope="session")
def sqlite_portal_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PortalDb]:
    """The demo's database: a migrated SQLite file (no RLS; one engine plays both roles)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('portal-sqlite') / 'serving.db'}"
    upgrade(url)
    engine = make_engine(url)
    yield PortalDb(url, url, engine, engine)
    engine.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def any_portal_db(request: pytest.FixtureRequest) -> PortalDb:
    """The portal's database on SQLite (the demo) and on PostgreSQL (production), in turn."""
    name = "sqlite_portal_db" if request.param == "sqlite" else "portal_db"
    db: PortalDb = request.getfixturevalue(name)
    return db


@pytest.fixture(scope="session")
def any_portal_app(any_portal_db: PortalDb) -> FastAPI:
    return create_app(portal_settings(any_portal_db.app_url), engine=any_portal_db.app)


def portal_settings(database_url: str, **overrides: Any) -> HubSettings:
    """Development mode (plain-http cookies on the test client) unless a test says otherwise."""
    return HubSettings.load(None, database_url=database_url, **{"development": True, **overrides})


@pytest.fixture(scope="session")
def portal_app(portal_db: PortalDb) -> FastAPI:
    """The portal as deployed: it connects as the app role, so RLS is in force underneath."""
    return create_app(portal_settings(portal_db.app_url), engine=portal_db.app)


class Inbox:
    """What a real SMTP server (aiosmtpd) on loopback received."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.messages.append(envelope.content)
        return "250 OK"

    def wait_for(self, count: int, timeout_s: float = 5.0) -> list[bytes]:
        """Mail goes out after the response: wait for it rather than assume it is there."""
        deadline = time.monotonic() + timeout_s
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.messages


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()
