"""The hot path: newest values and station freshness in serving seconds after a batch lands."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from sqlalchemy import Engine, select

from hub.db.migrate import upgrade
from hub.db.models import Compressor, Organization, Station
from hub.db.session import make_engine, session_scope
from hub.ingest.hotpath import HotPath
from hub.ingest.models import CompressorLatest, StationLatest
from shared.messages import Ack, AckStatus, decode_message
from tests.support.factories import batch_payload
from tests.support.services import Mosquitto
from tests.support.stack import hub_settings, start_ingest

TELEMETRY = "altaviz/v1/org-a/STATION-1/telemetry"
START = datetime(2026, 3, 1, tzinfo=UTC)


def _engine(tmp_path: Path) -> Engine:
    url = f"sqlite:///{tmp_path / 'serving.db'}"
    upgrade(url)
    engine = make_engine(url)
    with session_scope(engine, org_id="org-a") as session:
        session.add(Organization(id="org-a", name="org-a"))
        session.flush()
        session.add(Station(org_id="org-a", id="STATION-1", name="Station 1"))
        session.flush()
        session.add_all(
            Compressor(org_id="org-a", id=c, station_id="STATION-1") for c in ("C01", "C02")
        )
    return engine


def _latest(engine: Engine) -> dict[str, tuple[int, datetime, float | None]]:
    with session_scope(engine, org_id="org-a") as session:
        rows = session.scalars(select(CompressorLatest)).all()
        return {
            r.compressor_id: (r.seq, r.reading_at.replace(tzinfo=UTC), r.discharge_temp_f)
            for r in rows
        }


class _Station:
    """A station's MQTT client that publishes batches and collects its acks."""

    def __init__(self, port: int) -> None:
        self.acks: list[Ack] = []
        self.got = threading.Condition()
        self.client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="station-hot")
        self.client.on_message = self._on_message
        subscribed = threading.Event()
        self.client.on_subscribe = lambda *_: subscribed.set()
        self.client.connect("127.0.0.1", port)
        self.client.subscribe("altaviz/v1/org-a/STATION-1/ack", qos=1)
        self.client.loop_start()
        # An ack sent before the broker has the subscription would be lost to this client.
        assert subscribed.wait(10), "the station's ack subscription was not confirmed"

    def _on_message(self, _c, _u, message) -> None:  # type: ignore[no-untyped-def]
        with self.got:
            self.acks.append(decode_message(message.payload, Ack))
            self.got.notify_all()

    def publish(self, payload: bytes) -> Ack:
        count = len(self.acks)
        self.client.publish(TELEMETRY, payload, qos=1).wait_for_publish(5)
        with self.got:
            assert self.got.wait_for(lambda: len(self.acks) > count, timeout=20), "no ack"
            return self.acks[-1]

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def _wait(predicate, timeout_s: float = 5.0) -> float:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    while not predicate():
        assert time.monotonic() - started < timeout_s, "the hot path did not update serving"
        time.sleep(0.02)
    return time.monotonic() - started


@pytest.mark.mosquitto
def test_landed_batches_reach_serving_newest_first_never_blocking_the_ack(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    engine = _engine(tmp_path)
    hotpath = HotPath(engine)
    worker = start_ingest(hub_settings(tmp_path, mosquitto.port), hotpath=hotpath)
    station = _Station(mosquitto.port)
    try:
        second = batch_payload(10, first_seq=11, start=START + timedelta(seconds=5))
        ack = station.publish(second)
        assert ack.status == AckStatus.DURABLE
        _wait(lambda: _latest(engine).get("C02", (0,))[0] == 20)
        latest = _latest(engine)
        assert latest["C01"][:2] == (19, START + timedelta(seconds=9))
        assert latest["C02"][:2] == (20, START + timedelta(seconds=9))
        assert latest["C01"][2] == pytest.approx(215.3)  # the reading's own value

        # An older batch landing later (a backlog) acks, and never overwrites newer values.
        assert station.publish(batch_payload(10)).status == AckStatus.DURABLE
        # A compressor the fleet does not know: acked and landed; skipped here, counted.
        unknown = batch_payload(9, first_seq=21, compressors=3, start=START + timedelta(seconds=20))
        assert station.publish(unknown).status == AckStatus.DURABLE
        _wait(lambda: hotpath.counts.batches == 3)
        assert (_latest(engine)["C01"][0], _latest(engine)["C02"][0]) == (27, 28)
        assert hotpath.counts.unknown_compressors == 1
        with session_scope(engine, org_id="org-a") as session:
            freshness = session.scalars(select(StationLatest)).one()
            assert freshness.last_seq == 29
            assert freshness.last_reading_at.replace(tzinfo=UTC) == START + timedelta(seconds=22)
    finally:
        station.close()
        worker.stop()


@pytest.mark.mosquitto
def test_a_failing_hot_path_is_counted_and_the_batch_still_acked(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    broken = make_engine(f"sqlite:///{tmp_path / 'no-tables.db'}")  # never migrated
    hotpath = HotPath(broken)
    settings = hub_settings(tmp_path, mosquitto.port)
    worker = start_ingest(settings, hotpath=hotpath)
    station = _Station(mosquitto.port)
    try:
        assert station.publish(batch_payload(10)).status == AckStatus.DURABLE
        _wait(lambda: hotpath.counts.failed == 1)
        assert len(list(settings.landing_dir.rglob("*.parquet"))) == 1
    finally:
        station.close()
        worker.stop()
