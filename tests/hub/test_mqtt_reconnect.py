"""The hub's MQTT clients are back within seconds of the broker's return (not up to 30 s),
and a batch published then lands."""

from __future__ import annotations

import time
from pathlib import Path

import paho.mqtt.client as paho
import pytest

from tests.support.factories import batch_payload
from tests.support.services import Mosquitto
from tests.support.stack import hub_settings, start_ingest, wait_until

TELEMETRY = "altaviz/v1/org-a/STATION-1/telemetry"


@pytest.mark.mosquitto
@pytest.mark.slow
def test_a_batch_published_after_a_broker_restart_lands_within_seconds(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    settings = hub_settings(tmp_path, mosquitto.port)  # the hub's default reconnect settings
    worker = start_ingest(settings)
    try:
        mosquitto.stop()
        wait_until(lambda: not worker.connected.is_set(), timeout=5, what="the disconnect")
        # Down long enough for the old backoff (1, 2, 4, 8, 16 ... 30 s) to reach 8 s.
        time.sleep(8)
        mosquitto.start()
        restarted = time.monotonic()
        wait_until(worker.connected.is_set, timeout=40, what="ingest back at the broker")
        back_after = time.monotonic() - restarted
        publisher = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="station")
        publisher.connect("127.0.0.1", mosquitto.port)
        publisher.loop_start()
        try:
            publisher.publish(TELEMETRY, batch_payload(10), qos=1).wait_for_publish(5)
            wait_until(
                lambda: bool(list(settings.landing_dir.rglob("*.parquet"))),
                timeout=30,
                what="the batch to land",
            )
        finally:
            publisher.loop_stop()
            publisher.disconnect()
    finally:
        worker.stop()
    # The old backoff (1, 2, 4, 8 s ...) waited ~7 s more here; now at most 2 s between tries.
    assert back_after < 5.0, f"ingest reconnected {back_after:.1f} s after the broker came back"
