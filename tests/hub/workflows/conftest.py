"""Workflow fixtures: a migrated PostgreSQL database (the app's role, RLS in force), an
SMTP sink (real aiosmtpd), and helpers to seed alerts at exact data times."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from hub.db.session import make_engine, session_scope
from hub.serving.models import AlertEpisode
from hub.settings import HubSettings, SmtpSettings
from hub.workflows.smtp_sink import SmtpSink
from tests.support.db import app_role_url, fresh_postgres_database
from tests.support.services import Postgres

T0 = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)


@dataclass
class WorkflowDb:
    owner: Engine  # superuser: seeding, and what the pipeline would write
    app: Engine  # the application's role: row-level security applies
    app_url: str


@pytest.fixture(scope="module")
def workflow_db(postgres: Postgres) -> Iterator[WorkflowDb]:
    """A database per test module: the scheduler and the dispatcher visit every org in it."""
    owner_url = fresh_postgres_database(postgres)
    app_url = app_role_url(postgres, owner_url)
    db = WorkflowDb(make_engine(owner_url), make_engine(app_url), app_url)
    yield db
    db.owner.dispose()
    db.app.dispose()


@pytest.fixture
def smtp_sink(tmp_path) -> Iterator[SmtpSink]:  # type: ignore[no-untyped-def]
    sink = SmtpSink(tmp_path / "mail").start()
    yield sink
    sink.stop()


def smtp_settings(sink: SmtpSink) -> SmtpSettings:
    return SmtpSettings(host=sink.host, port=sink.port, sender="Altaviz <alerts@altaviz.test>")


def hub_settings(database_url: str, **workflows: object) -> HubSettings:
    """Development mode (a local webhook receiver is allowed; the placeholder secret too)."""
    return HubSettings.load(
        None, database_url=database_url, development=True,
        portal={"base_url": "https://ops.example.com"}, workflows=workflows,
    )  # fmt: skip


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


def seed_episode(
    engine: Engine,
    org_id: str,
    compressor_id: str,
    *,
    episode_id: str,
    severity: str,
    opened_at: datetime,
    condition: str = "discharge_temp_high",
) -> str:
    """An open lakehouse episode, as the serving sync writes it."""
    station_id = compressor_id.rsplit("-C", 1)[0]
    with session_scope(engine, org_id=org_id) as session:
        session.add(
            AlertEpisode(
                org_id=org_id, episode_id=episode_id, station_id=station_id,
                compressor_id=compressor_id, condition=condition, category="equipment",
                signal="discharge_temp_below_trip_f", status="open", severity=severity,
                first_seen_at=opened_at - timedelta(minutes=10), opened_at=opened_at,
                last_seen_at=opened_at,
                escalated_at=opened_at if severity == "critical" else None,
                peak_value=-12.0, peak_at=opened_at, warning_threshold=-35.0,
                critical_threshold=-20.0, minutes_active=10,
            )
        )  # fmt: skip
    return episode_id
