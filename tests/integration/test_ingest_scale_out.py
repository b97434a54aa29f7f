"""Ingest scaled out: two replicas behind one MQTT shared subscription ($share/...) on a real
mosquitto split the batches between them, and none is landed twice or lost, also when one
replica is restarted while batches stream in (a rolling upgrade)."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import paho.mqtt.client as paho
import pyarrow.parquet as pq
import pytest

from tests.support.factories import batch_payload
from tests.support.services import Mosquitto
from tests.support.stack import hub_settings, start_ingest, wait_until

pytestmark = [pytest.mark.mosquitto, pytest.mark.slow]

BATCHES = 240
ROWS = 10


def test_two_ingest_replicas_land_every_batch_exactly_once(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    settings = hub_settings(tmp_path, mosquitto.port)
    assert settings.ingest.shared_group  # $share/<group>/altaviz/v1/+/+/telemetry
    first = start_ingest(settings, client_id="ingest-a")
    second = start_ingest(settings, client_id="ingest-b")
    publisher = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="stations")
    publisher.max_inflight_messages_set(100)
    publisher.connect("127.0.0.1", mosquitto.port)
    publisher.loop_start()
    restarted = None
    try:
        for i in range(BATCHES):
            station = f"STATION-{i % 4 + 1}"
            payload = batch_payload(ROWS, station_id=station, first_seq=(i // 4) * ROWS + 1)
            publisher.publish(f"altaviz/v1/org-a/{station}/telemetry", payload, qos=1)
            if i == BATCHES // 2:  # a rolling restart of one replica mid-stream
                first.stop()
                restarted = start_ingest(settings, client_id="ingest-a")
            time.sleep(0.005)
        wait_until(
            lambda: len(list(settings.landing_dir.rglob("*.parquet"))) >= BATCHES,
            timeout=60,
            what="every batch landed",
        )
        time.sleep(0.5)  # nothing more arrives late
    finally:
        publisher.loop_stop()
        publisher.disconnect()
        for worker in (first, second, restarted):
            if worker is not None:
                worker.stop()
    assert restarted is not None
    shares = [first.service.landed, second.service.landed, restarted.service.landed]
    assert sum(shares) == BATCHES
    assert first.service.landed > 0 and second.service.landed > 0  # the load was split
    readings: Counter[tuple[str, int]] = Counter()
    for path in settings.landing_dir.rglob("*.parquet"):
        table = pq.read_table(path, columns=["station_id", "seq"])
        readings.update(
            zip(
                table.column("station_id").to_pylist(), table.column("seq").to_pylist(), strict=True
            )
        )
    assert len(readings) == BATCHES * ROWS and set(readings.values()) == {1}
    assert not list(settings.quarantine_dir.glob("*.json"))
