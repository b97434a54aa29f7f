"""Ingest: land valid batches once, quarantine everything else with a reason and a nack."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as paho
import pyarrow.parquet as pq
import pytest

from hub.ingest.landing import LandingZone
from hub.ingest.service import IngestService
from shared.messages import Ack, AckStatus, decode_message
from tests.support.factories import batch_payload, noisy_payload
from tests.support.services import Mosquitto
from tests.support.stack import hub_settings, start_ingest

TELEMETRY = "altaviz/v1/org-a/STATION-1/telemetry"


def _service(tmp_path: Path, max_bytes: int = 1 << 20) -> IngestService:
    return IngestService(
        LandingZone(tmp_path / "landing", tmp_path / "quarantine"), max_batch_bytes=max_bytes
    )


def test_valid_batch_lands_under_its_batch_id(tmp_path: Path) -> None:
    service = _service(tmp_path)
    outcome = service.handle(TELEMETRY, batch_payload(10))
    assert outcome.ack.status == AckStatus.DURABLE and not outcome.ack.duplicate
    (landed,) = (tmp_path / "landing").rglob("*.parquet")
    assert landed.relative_to(tmp_path / "landing").as_posix() == (
        "org=org-a/station=STATION-1/date=2026-03-01/STATION-1.000000000001-000000000010.parquet"
    )
    assert pq.read_table(landed).num_rows == 10
    assert not list((tmp_path).glob(".landing-tmp/*")), "temporary files left behind"


def test_a_simulated_clock_stamps_the_receipt_time_of_landed_files(tmp_path: Path) -> None:
    """The lake's received_at is the file's modification time: in the data's clock if given."""
    received = datetime(2026, 3, 1, 6, 30, tzinfo=UTC)
    zone = LandingZone(tmp_path / "landing", tmp_path / "quarantine", clock=lambda: received)
    service = IngestService(zone, max_batch_bytes=1 << 20)
    assert service.handle(TELEMETRY, batch_payload(10)).ack.status == AckStatus.DURABLE
    (landed,) = (tmp_path / "landing").rglob("*.parquet")
    assert landed.stat().st_mtime == received.timestamp()


def test_second_delivery_is_acknowledged_without_writing(tmp_path: Path) -> None:
    service = _service(tmp_path)
    payload = batch_payload(10)
    service.handle(TELEMETRY, payload)
    (landed,) = (tmp_path / "landing").rglob("*.parquet")
    before = landed.stat().st_mtime_ns
    again = service.handle(TELEMETRY, payload)
    assert again.ack.status == AckStatus.DURABLE and again.ack.duplicate
    assert landed.stat().st_mtime_ns == before
    assert (service.landed, service.duplicates) == (1, 1)


@pytest.mark.parametrize(
    ("topic", "payload", "reason"),
    [
        (TELEMETRY, b"\x00garbage\xff" * 10, "corrupt"),
        (TELEMETRY, noisy_payload(2000), "too_large"),
        ("altaviz/v1/org-a/STATION-2/telemetry", batch_payload(10), "bad_metadata"),
        ("altaviz/v1/org-b/STATION-1/telemetry", batch_payload(10), "bad_metadata"),
        ("altaviz/v1/org-a/STATION-1/alarms", batch_payload(10), "bad_topic"),
    ],
)
def test_refused_payloads_are_kept_with_a_reason(
    tmp_path: Path, topic: str, payload: bytes, reason: str
) -> None:
    service = _service(tmp_path, max_bytes=12288)
    outcome = service.handle(topic, payload)
    assert outcome.ack.status == AckStatus.REJECTED and outcome.ack.reason.startswith(reason)  # type: ignore[union-attr]
    assert not list((tmp_path / "landing").rglob("*.parquet"))
    (record,) = service.zone.quarantined()
    assert record["reason"] == reason and record["topic"] == topic
    kept = (tmp_path / "quarantine" / str(record["payload_file"])).read_bytes()
    assert kept == payload  # nothing lost: the exact bytes are kept


@pytest.mark.mosquitto
def test_quarantine_and_nack_over_mqtt_while_ingest_keeps_running(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    settings = hub_settings(tmp_path, mosquitto.port, ingest={"max_batch_bytes": 12288})
    worker = start_ingest(settings)
    acks: dict[str, list[Ack]] = {"STATION-1": [], "STATION-2": []}
    done = threading.Event()

    def on_message(_c, _u, message) -> None:  # type: ignore[no-untyped-def]
        acks[message.topic.split("/")[3]].append(decode_message(message.payload, Ack))
        if sum(map(len, acks.values())) == 4:
            done.set()

    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="station-sim")
    client.on_message = on_message
    client.connect("127.0.0.1", mosquitto.port)
    client.subscribe("altaviz/v1/org-a/+/ack", qos=1)
    client.loop_start()
    try:
        for topic, payload in [
            (TELEMETRY, b"definitely not parquet"),
            (TELEMETRY, noisy_payload(2000)),  # oversized for this hub
            ("altaviz/v1/org-a/STATION-2/telemetry", batch_payload(10)),  # names STATION-1 inside
            (TELEMETRY, batch_payload(10, first_seq=11)),  # a good one after all that
        ]:
            client.publish(topic, payload, qos=1).wait_for_publish(5)
        assert done.wait(20), f"acks received: {acks}"
    finally:
        client.loop_stop()
        client.disconnect()
        worker.stop()
    station1, station2 = acks["STATION-1"], acks["STATION-2"]
    assert [a.status for a in station1] == [
        AckStatus.REJECTED,
        AckStatus.REJECTED,
        AckStatus.DURABLE,
    ]
    assert station1[0].reason.startswith("corrupt") and station1[0].batch_id is None  # type: ignore[union-attr]
    assert station1[1].reason.startswith("too_large") and station1[1].batch_id  # type: ignore[union-attr]
    assert (
        station2[0].status == AckStatus.REJECTED
        and "sent by station 'STATION-2'" in station2[0].reason
    )  # type: ignore[operator]
    reasons = sorted(
        json.loads(p.read_text())["reason"] for p in settings.quarantine_dir.glob("*.json")
    )
    assert reasons == ["bad_metadata", "corrupt", "too_large"]
    (landed,) = settings.landing_dir.rglob("*.parquet")
    assert sorted(pq.read_table(landed).column("seq").to_pylist()) == list(range(11, 21))


@pytest.mark.mosquitto
def test_batches_published_while_ingest_reconnects_wait_at_the_broker(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    """A persistent session: what arrives while the worker is away is delivered when it returns."""
    settings = hub_settings(tmp_path, mosquitto.port)
    first = start_ingest(settings)
    first.stop()  # away (a restart, a redeploy)
    publisher = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="station")
    publisher.connect("127.0.0.1", mosquitto.port)
    publisher.loop_start()
    try:
        publisher.publish(TELEMETRY, batch_payload(10), qos=1).wait_for_publish(5)
    finally:
        publisher.loop_stop()
        publisher.disconnect()
    assert not list(settings.landing_dir.rglob("*.parquet"))
    back = start_ingest(settings)  # same client id: the broker hands over what it queued
    try:
        deadline = time.monotonic() + 10
        while not list(settings.landing_dir.rglob("*.parquet")) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        back.stop()
    (landed,) = settings.landing_dir.rglob("*.parquet")
    assert pq.read_table(landed).num_rows == 10
