"""A station end to end: Modbus panels -> agent (scoring, alarms, model update) -> mosquitto -> hub.

Also what a technician sees: `altaviz-edge status`, /health and /metrics.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pyarrow.parquet as pq
import pytest
import yaml

from edge_agent.agent import Agent
from edge_agent.settings import EdgeSettings
from shared.bundle import encode_signature, generate_signing_key, public_key_pem
from shared.messages import (
    Alarm,
    AlarmEvent,
    ModelOffer,
    StationStatus,
    decode_message,
    encode_message,
)
from shared.register_map import find_register_map
from shared.schema import Quality
from tests.edge_agent.bundles import zscore_bundle
from tests.edge_agent.panels import PanelServer, SilentServer
from tests.integration.test_edge_resilience import assert_exactly_once
from tests.support.services import Mosquitto
from tests.support.sources import FiniteSource
from tests.support.stack import AgentThread, hub_settings, start_ingest, wait_until

pytestmark = pytest.mark.mosquitto

REPO = Path(__file__).resolve().parents[2]
PREFIX = "altaviz/v1/org-a/STATION-1"
HEALTHY = {
    "operating_state": "running",
    "vibration_mms": 3.1,
    "discharge_temp_f": 215.0,
    "suction_pressure_psi": 65.0,
    "discharge_pressure_psi": 1050.0,
    "horsepower_consumption": 1200.0,
    "gas_flow_mcf": 9000.0,
}


class Listener:
    """Subscribes to the station's alarms and status like the hub would."""

    def __init__(self, port: int) -> None:
        self.alarms: list[Alarm] = []
        self.statuses: list[StationStatus] = []
        self._lock = threading.Lock()
        self.subscribed = threading.Event()
        self.client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="hub-listener")
        self.client.reconnect_delay_set(min_delay=1, max_delay=1)
        self.client.on_message = self._on_message
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = lambda *_a: self.subscribed.clear()
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        assert self.subscribed.wait(10)

    def _on_connect(self, client: paho.Client, *_args: Any) -> None:
        client.subscribe([(f"{PREFIX}/alarms", 1), (f"{PREFIX}/status", 1)])
        self.subscribed.set()

    def _on_message(self, _c: Any, _u: Any, message: paho.MQTTMessage) -> None:
        with self._lock:
            if message.topic.endswith("/alarms"):
                self.alarms.append(decode_message(message.payload, Alarm))
            else:
                self.statuses.append(decode_message(message.payload, StationStatus))

    def events(self, condition: str) -> list[tuple[str, AlarmEvent]]:
        with self._lock:
            return [(a.compressor_id, a.event) for a in self.alarms if a.condition == condition]

    def publish_retained(self, topic: str, payload: bytes) -> None:
        self.client.publish(topic, payload, qos=1, retain=True).wait_for_publish(5)

    def stop(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def _panel(port: int, compressor: str) -> dict[str, Any]:
    return {
        "compressor_id": compressor,
        "register_map": "standard-scaled",
        "host": "127.0.0.1",
        "port": port,
        "poll_interval_s": 0.2,
        "timeout_s": 0.3,
        "retries": 1,
        "reconnect_max_s": 1.0,
    }


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_modbus_station_scores_alarms_updates_and_reports(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    key = generate_signing_key()
    (tmp_path / "pinned.pem").write_bytes(public_key_pem(key))
    register_map = find_register_map("standard-scaled")
    hub = hub_settings(tmp_path, mosquitto.port)
    ingest = start_ingest(hub)
    listener = Listener(mosquitto.port)
    config: dict[str, Any] = {
        "org_id": "org-a",
        "station_id": "STATION-1",
        "mqtt": {"port": mosquitto.port, "reconnect_min_s": 0.2, "reconnect_max_s": 1},
        "buffer": {"path": str(tmp_path / "edge" / "buffer.duckdb")},
        "http": {"port": 0},
        "uplink": {"batch_max_rows": 100, "batch_max_age_s": 0.5, "status_interval_s": 1},
        "model": {
            "dir": str(tmp_path / "models"),
            "public_key_file": str(tmp_path / "pinned.pem"),
            "shadow_readings": 10,
        },
    }
    (tmp_path / "edge.yaml").write_text(yaml.safe_dump(config))
    with (
        PanelServer(register_map, HEALTHY) as hot,
        PanelServer(register_map, HEALTHY) as calm,
        SilentServer() as silent,
    ):
        settings = EdgeSettings.load(
            tmp_path / "edge.yaml",
            source={
                "kind": "modbus",
                "options": {
                    "poll_interval_s": 0.1,
                    "panels": [
                        _panel(hot.port, "C01"),
                        _panel(calm.port, "C02"),
                        _panel(silent.port, "C03"),
                    ],
                },
            },
        )
        agent = Agent(settings)
        with AgentThread(agent):
            # A panel that never answers: flagged readings and one comm-loss episode.
            wait_until(
                lambda: ("C03", AlarmEvent.RAISED) in listener.events("panel_comm_loss"),
                timeout=30,
                what="comm-loss alarm",
            )
            # A unit running hot: one episode, published at once, cleared with hysteresis.
            hot.set({"discharge_temp_f": 320.0})
            wait_until(
                lambda: ("C01", AlarmEvent.RAISED) in listener.events("critical_discharge_temp"),
                timeout=20,
                what="high temperature alarm",
            )
            time.sleep(1.0)
            hot.set({"discharge_temp_f": 215.0})
            wait_until(
                lambda: ("C01", AlarmEvent.CLEARED) in listener.events("critical_discharge_temp"),
                timeout=20,
                what="alarm cleared",
            )
            assert listener.events("critical_discharge_temp").count(("C01", AlarmEvent.RAISED)) == 1
            # A signed model offered on the retained model topic, fetched, shadowed, promoted.
            manifest, signature, archive = zscore_bundle(key, version="3")
            (tmp_path / "bundle.tar").write_bytes(archive)
            offer = ModelOffer(
                manifest=manifest,
                signature=encode_signature(signature),
                bundle_url=(tmp_path / "bundle.tar").as_uri(),
            )
            listener.publish_retained(f"{PREFIX}/model", encode_message(offer))
            wait_until(
                lambda: any(s.model_version == "3" for s in listener.statuses),
                timeout=30,
                what="status reporting model 3",
            )
            status = listener.statuses[-1]
            assert status.online and status.last_model_update is not None
            assert status.last_model_update.outcome == "promoted"
            assert status.panels["C03"].state == "comm_error" and status.panels["C01"].state == "ok"
            # The technician's view.
            assert agent.http is not None
            code, health = _get(f"{agent.http.address}/health")
            assert code == 200 and "panel C03: comm_error" in json.loads(health)["problems"]
            _code, metrics = _get(f"{agent.http.address}/metrics")
            assert "altaviz_edge_link_up 1" in metrics
            assert 'altaviz_edge_model_info{model_id="anomaly-zscore",version="3"} 1' in metrics
            assert 'altaviz_edge_panel_up{panel="C03"} 0' in metrics
            time.sleep(2.5)  # the status file is rewritten every 2 s
            shown = subprocess.run(
                [sys.executable, "-m", "edge_agent", "status", "--config", str(tmp_path / "edge.yaml")],
                capture_output=True, text=True, cwd=REPO, timeout=60,
            )  # fmt: skip
            assert shown.returncode == 0, shown.stderr
            for expected in (
                "link      up",
                "anomaly-zscore@3",
                "promoted",
                "C03: comm_error",
                "ACTIVE",
            ):
                assert expected in shown.stdout, shown.stdout
        last_seq = agent.stats.last_seq
    ingest.stop()
    listener.stop()
    assert_exactly_once(hub.landing_dir, last_seq)
    landed = pq.read_table(list(hub.landing_dir.rglob("*.parquet")))
    silent_rows = landed.filter(
        landed.column("compressor_id").to_numpy(zero_copy_only=False) == "C03"
    )
    assert silent_rows.num_rows > 0
    assert set(silent_rows.column("vibration_mms_quality").to_pylist()) == {int(Quality.COMM_ERROR)}


def test_alarms_raised_without_uplink_reach_the_hub_later(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    listener = Listener(mosquitto.port)
    mosquitto.stop()
    source = FiniteSource(total=30, per_poll=30, compressors=1)
    settings = EdgeSettings.load(
        None,
        org_id="org-a",
        station_id="STATION-1",
        # Reconnects later than the listener below, which stands in for the hub.
        mqtt={"port": mosquitto.port, "reconnect_min_s": 3, "reconnect_max_s": 3},
        buffer={"path": tmp_path / "edge" / "buffer.duckdb"},
        http={"enabled": False},
    )
    agent = Agent(settings, source=source)
    original_poll = source.poll

    def hot_poll():  # type: ignore[no-untyped-def]
        readings = original_poll()
        for r in readings:
            r.values = {**r.values, "discharge_temp_f": 330.0}
        return readings

    source.poll = hot_poll  # type: ignore[method-assign]
    with AgentThread(agent):
        wait_until(lambda: agent.tracker.active >= 1, timeout=20, what="a local alarm")
        wait_until(
            lambda: agent.snapshot["alarms"]["unpublished"] >= 1,
            timeout=10,
            what="the alarm kept locally, queued for the hub",
        )
        mosquitto.start()
        assert listener.subscribed.wait(10)
        wait_until(
            lambda: ("C01", AlarmEvent.RAISED) in listener.events("critical_discharge_temp"),
            timeout=30,
            what="the alarm after reconnect",
        )
        wait_until(
            lambda: agent.snapshot["alarms"]["unpublished"] == 0, timeout=10, what="outbox empty"
        )
    listener.stop()
