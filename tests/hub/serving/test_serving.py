"""Serving tables: upserts on SQLite and PostgreSQL, fleet seeding, tenant scope, alert workflow."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from hub.db.migrate import upgrade
from hub.db.models import Compressor, Station
from hub.db.session import make_engine, session_scope
from hub.serving.fleet import ensure_assets, seed_fleet
from hub.serving.models import PIPELINE_EPISODE_COLUMNS, AlertEpisode, HourlyAggregate
from hub.serving.sync import _events
from hub.serving.upsert import upsert
from shared.fleet import load_fleet
from tests.conftest import REPO_ROOT
from tests.support.db import app_role_url, fresh_postgres_database
from tests.support.services import Postgres

HOUR = datetime(2026, 7, 6, 12, tzinfo=UTC)


def _sqlite(tmp_path: Path) -> Engine:
    url = f"sqlite:///{tmp_path / 'serving.db'}"
    upgrade(url)
    return make_engine(url)


def _episode(**overrides: object) -> dict[str, object]:
    row: dict[str, object] = {
        "org_id": "demo-org", "episode_id": "e" * 32, "station_id": "EF-KARNES",
        "compressor_id": "COMP-003", "condition": "discharge_temp_high", "category": "equipment",
        "signal": "discharge_temp_below_trip_f", "status": "open", "severity": "warning",
        "first_seen_at": HOUR, "opened_at": HOUR + timedelta(minutes=9),
        "last_seen_at": HOUR + timedelta(minutes=30), "closed_at": None, "escalated_at": None,
        "peak_value": -40.0, "peak_at": HOUR + timedelta(minutes=20), "warning_threshold": -50.0,
        "critical_threshold": -25.0, "minutes_active": 22,
    }  # fmt: skip
    row.update(overrides)
    return row


def _exercise(engine: Engine) -> None:
    seed_fleet(engine, load_fleet(REPO_ROOT / "config" / "fleet.yaml"))
    with session_scope(engine, org_id="demo-org") as session:
        hourly = {"org_id": "demo-org", "compressor_id": "COMP-003", "hour_start": HOUR,
                  "station_id": "EF-KARNES", "n_readings": 60, "n_running_minutes": 60,
                  "discharge_temp_f_mean": 250.0}  # fmt: skip
        upsert(session, HourlyAggregate.__table__, [hourly])  # type: ignore[arg-type]
        upsert(session, HourlyAggregate.__table__, [{**hourly, "discharge_temp_f_mean": 260.0}])  # type: ignore[arg-type]
        upsert(session, AlertEpisode.__table__, [_episode()], update=PIPELINE_EPISODE_COLUMNS)  # type: ignore[arg-type]
    with session_scope(engine, org_id="demo-org") as session:  # the portal acknowledges
        episode = session.get(AlertEpisode, ("demo-org", "e" * 32))
        assert episode is not None
        episode.acknowledged_by, episode.acknowledged_at = (
            "op@example.com",
            HOUR + timedelta(hours=1),
        )
    with session_scope(engine, org_id="demo-org") as session:  # the pipeline updates it
        closed = _episode(status="closed", closed_at=HOUR + timedelta(hours=2), severity="critical")
        upsert(session, AlertEpisode.__table__, [closed], update=PIPELINE_EPISODE_COLUMNS)  # type: ignore[arg-type]
    with session_scope(engine, org_id="demo-org") as session:
        episode = session.get(AlertEpisode, ("demo-org", "e" * 32))
        assert episode is not None
        assert (episode.status, episode.severity) == ("closed", "critical")
        assert episode.acknowledged_by == "op@example.com"  # the operator's work survives
        means = session.scalars(select(HourlyAggregate.discharge_temp_f_mean)).all()
        assert means == [260.0]
        _, unit = load_fleet(REPO_ROOT / "config" / "fleet.yaml").compressor("COMP-007")
        assert session.get(Compressor, ("demo-org", "COMP-007")).stages == unit.stages  # type: ignore[union-attr]


def test_upserts_and_workflow_on_sqlite(tmp_path: Path) -> None:
    _exercise(_sqlite(tmp_path))


@pytest.mark.postgres
def test_upserts_and_workflow_on_postgres_under_row_level_security(postgres: Postgres) -> None:
    owner = fresh_postgres_database(postgres)
    app = make_engine(app_role_url(postgres, owner))
    _exercise(app)
    with session_scope(app, org_id="other-org") as session:
        ensure_assets(session, "other-org", [("other-org", "S1", "C1")])
        assert session.scalars(select(AlertEpisode)).all() == []  # another tenant sees nothing
        assert session.scalars(select(Station.id)).all() == ["S1"]
    with (
        pytest.raises(Exception, match="row-level security"),
        session_scope(app, org_id="other-org") as session,
    ):
        upsert(session, AlertEpisode.__table__, [_episode(episode_id="x" * 32)])  # type: ignore[arg-type]


def test_assets_named_by_telemetry_are_created_once(tmp_path: Path) -> None:
    engine = _sqlite(tmp_path)
    for _ in range(2):
        with session_scope(engine, org_id="org-a") as session:
            ensure_assets(
                session,
                "org-a",
                [("org-a", "S1", "C1"), ("org-a", "S1", "C2"), ("org-b", "X", "Y")],
            )
    with session_scope(engine, org_id="org-a") as session:
        assert sorted(session.scalars(select(Compressor.id)).all()) == ["C1", "C2"]


def test_lifecycle_events_follow_state_changes() -> None:
    opened = _episode()
    assert [e["kind"] for e in _events(opened, None)] == ["opened"]
    escalated = _episode(severity="critical", escalated_at=HOUR + timedelta(minutes=40))
    assert [e["kind"] for e in _events(escalated, {"status": "open", "severity": "warning"})] == [
        "escalated"
    ]
    closed = _episode(status="closed", closed_at=HOUR + timedelta(hours=3), severity="critical")
    assert [e["kind"] for e in _events(closed, {"status": "open", "severity": "critical"})] == [
        "closed"
    ]
    assert (
        _events(closed, {"status": "closed", "severity": "critical"}) == []
    )  # a replay adds nothing

