"""The real `altaviz-hub ingest` process: /health, /ready naming the broker while it is down,
metrics a landed batch increments, JSON log lines and OTLP traces."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import paho.mqtt.client as paho
import pytest
import yaml

from hub.db.models import Organization, Station
from hub.db.session import make_engine, session_scope
from tests.hub.observability.support import OtlpReceiver, get, sample, wait_for_status
from tests.support.db import fresh_postgres_database
from tests.support.factories import batch_payload
from tests.support.services import Mosquitto, Postgres, free_port
from tests.support.stack import wait_until

REPO = Path(__file__).resolve().parents[3]

pytestmark = [pytest.mark.mosquitto, pytest.mark.postgres, pytest.mark.slow]


def _publish(port: int, messages: list[tuple[str, bytes]]) -> None:
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="station-obs")
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        for topic, payload in messages:
            client.publish(topic, payload, qos=1).wait_for_publish(5)
    finally:
        client.loop_stop()
        client.disconnect()


def test_ingest_process_health_ready_metrics_logs_and_traces(
    mosquitto: Mosquitto, postgres: Postgres, tmp_path: Path
) -> None:
    database_url = fresh_postgres_database(postgres)
    engine = make_engine(database_url)
    with session_scope(engine, org_id="org-a") as session:
        session.add(Organization(id="org-a", name="A"))
        session.flush()
        session.add(Station(org_id="org-a", id="STATION-1", name="One"))
    engine.dispose()
    health_port = free_port()
    with OtlpReceiver() as otlp:
        config = tmp_path / "hub.yaml"
        config.write_text(
            yaml.safe_dump(
                {
                    "data_dir": str(tmp_path / "hub"),
                    "lake_root": str(tmp_path / "hub" / "lake"),
                    "database_url": database_url,
                    "mqtt": {"port": mosquitto.port},
                    "ingest": {"client_id": "obs-ingest"},
                    "pipeline": {"seed_fleet": None},
                    "observability": {
                        "ingest_port": health_port,
                        "traces": "otlp",
                        "otlp_endpoint": otlp.endpoint,
                    },
                }
            )
        )
        log = tmp_path / "ingest.log"
        with open(log, "wb") as stderr:
            process = subprocess.Popen(
                [sys.executable, "-m", "hub", "ingest", "--config", str(config), "--json-logs"],
                cwd=REPO,
                env={**os.environ, "PYTHONPATH": str(REPO)},
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
        base = f"http://127.0.0.1:{health_port}"
        try:
            assert wait_for_status(f"{base}/health", 200) == {"status": "ok", "service": "ingest"}
            ready = wait_for_status(f"{base}/ready", 200)
            assert ready["checks"] == {
                "mqtt broker": "ok",
                "postgresql": "ok",
                "landing zone": "ok",
            }
            before = get(f"{base}/metrics").text
            _publish(
                mosquitto.port,
                [
                    ("altaviz/v1/org-a/STATION-1/telemetry", batch_payload(10)),
                    (
                        "altaviz/v1/org-a/STATION-9/telemetry",
                        batch_payload(10, station_id="STATION-9"),
                    ),
                ],
            )
            landing = tmp_path / "hub" / "landing"
            quarantine = tmp_path / "hub" / "quarantine"
            wait_until(
                lambda: (
                    bool(list(landing.rglob("*.parquet"))) and bool(list(quarantine.glob("*.json")))
                ),
                timeout=20,
                what="one batch landed and one refused",
            )
            after = get(f"{base}/metrics").text
            landed = "altaviz_ingest_batches_total"
            assert (
                sample(after, landed, outcome="landed")
                == sample(before, landed, outcome="landed") + 1
            )
            assert sample(after, "altaviz_ingest_readings_landed_total") == 10
            assert sample(after, "altaviz_ingest_quarantined_total", reason="unknown_station") == 1
            assert sample(after, "altaviz_mqtt_connected", client="ingest") == 1

            mosquitto.stop()
            down = wait_for_status(f"{base}/ready", 503, timeout=10)
            assert down["failing"] == "mqtt broker" and "not connected" in down["detail"]
            assert get(f"{base}/health").status_code == 200  # alive, only not ready
            mosquitto.start()
            wait_for_status(f"{base}/ready", 200, timeout=10)
            assert otlp.received.wait(10), "no span reached the OTLP collector"
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        assert process.returncode == 0, log.read_text()[-2000:]
        assert any(b"ingest.batch" in body for body in otlp.bodies)

    lines = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    assert lines and all(entry["service"] == "ingest" for entry in lines)
    refused = [e for e in lines if "quarantined" in e["message"]]
    assert refused and refused[0]["level"] == "warning"
    assert len(refused[0]["trace_id"]) == 32  # the log line names the trace it belongs to
