"""/health and /ready of every hub service: ready with its dependencies up, and /ready names
the one that is down (a PostgreSQL or a broker nobody answers on)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hub.observability.health import HealthServer
from hub.observability.service import (
    bundle_server_health,
    ingest_checks,
    pipeline_checks,
    workflows_health,
)
from hub.portal.app import create_app
from hub.settings import HubSettings
from tests.hub.observability.support import get, sample
from tests.support.services import Mosquitto, free_port


def _down_postgres() -> str:
    return f"postgresql+psycopg://altaviz:x@127.0.0.1:{free_port()}/altaviz"


def _settings(tmp_path: Path, **overrides: Any) -> HubSettings:
    (tmp_path / "hub" / "landing").mkdir(parents=True, exist_ok=True)
    (tmp_path / "hub" / "lake").mkdir(parents=True, exist_ok=True)
    values: dict[str, Any] = {
        "data_dir": tmp_path / "hub",
        "lake_root": str(tmp_path / "hub" / "lake"),
        "database_url": f"sqlite:///{tmp_path / 'serving.db'}",
        "observability": {
            "ingest_port": 0,
            "pipeline_port": 0,
            "workflows_port": 0,
            "bundles_port": 0,
        },
        **overrides,
    }
    return HubSettings.load(None, **values)


def _ready(server: HealthServer) -> tuple[int, dict[str, Any]]:
    response = get(f"{server.url}/ready")
    return response.status_code, response.json()


def test_ingest_ready_names_a_down_postgresql(tmp_path: Path) -> None:
    settings = _settings(tmp_path, database_url=_down_postgres())
    with HealthServer("ingest", ingest_checks(settings, connected=lambda: True)) as server:
        assert get(f"{server.url}/health").json() == {"status": "ok", "service": "ingest"}
        status, body = _ready(server)
    assert status == 503
    assert body["failing"] == "postgresql" and "OperationalError" in body["detail"]
    assert body["checks"]["mqtt broker"] == "ok"


@pytest.mark.spark
def test_pipeline_ready_names_its_dependencies(tmp_path: Path, spark: Any) -> None:
    from hub.observability.checks import spark_check

    settings = _settings(tmp_path)
    checks = [*pipeline_checks(settings), spark_check(spark)]
    with HealthServer("pipeline", checks) as server:
        status, body = _ready(server)
        assert status == 200, body
        assert set(body["checks"]) == {"sqlite", "landing zone", "lake", "spark"}
        (tmp_path / "hub" / "landing").rmdir()
        status, body = _ready(server)
    assert status == 503 and body["failing"] == "landing zone"
    down = _settings(tmp_path / "down", database_url=_down_postgres())
    with HealthServer("pipeline", pipeline_checks(down)) as server:
        status, body = _ready(server)
    assert status == 503 and body["failing"] == "postgresql"


@pytest.mark.mosquitto
def test_workflows_ready_names_a_down_broker_then_recovers(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    settings = _settings(tmp_path, mqtt={"port": mosquitto.port})
    server = workflows_health(settings)
    assert server is not None
    try:
        assert get(f"{server.url}/health").json()["service"] == "workflows"
        assert _ready(server)[0] == 200
        mosquitto.stop()
        status, body = _ready(server)
        assert status == 503 and body["failing"] == "mqtt broker"
        mosquitto.start()
        assert _ready(server)[0] == 200
    finally:
        server.stop()


def test_bundle_server_ready_needs_its_artifact_store(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    server = bundle_server_health(settings, tmp_path / "artifacts")
    assert server is not None
    try:
        assert get(f"{server.url}/health").status_code == 200
        status, body = _ready(server)
        assert status == 503 and body["failing"] == "artifact store"
        (tmp_path / "artifacts").mkdir()
        assert _ready(server)[0] == 200
        assert "altaviz_ingest_batches" in get(f"{server.url}/metrics").text
    finally:
        server.stop()


@pytest.mark.postgres
def test_portal_health_ready_and_latency_per_route(tmp_path: Path, portal_db: Any) -> None:
    from tests.hub.portal.conftest import portal_settings

    app = create_app(portal_settings(portal_db.app_url), engine=portal_db.app)
    with TestClient(app) as client:
        assert client.get("/health").json() == {"status": "ok", "service": "portal"}
        ready = client.get("/ready")
        assert ready.status_code == 200 and ready.json()["checks"] == {"postgresql": "ok"}
        client.get("/api/v1/orgs/org-nobody/alerts")  # 401: no token, still timed
        metrics = client.get("/metrics").text
    route = "/api/v1/orgs/{org_id}/alerts"
    assert (
        sample(
            metrics, "altaviz_http_request_seconds_count", route=route, method="GET", status="401"
        )
        >= 1
    )
    assert "org-nobody" not in metrics  # templates, never raw paths

    down = create_app(portal_settings(_down_postgres()))
    with TestClient(down) as client:
        assert client.get("/health").status_code == 200
        response = client.get("/ready")
    assert response.status_code == 503 and response.json()["failing"] == "postgresql"


def test_a_taken_health_port_is_one_clear_error(tmp_path: Path) -> None:
    from hub.observability.service import ObservabilityError, start_service

    with HealthServer("other") as taken:
        settings = _settings(tmp_path, observability={"ingest_port": taken.port})
        with pytest.raises(ObservabilityError, match=r"observability.ingest_port: cannot listen"):
            start_service("ingest", settings.observability)
