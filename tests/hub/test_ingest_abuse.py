"""Ingest that a publisher cannot abuse: a bounded quarantine, unknown stations refused,
a batch id re-used with other rows kept apart as a conflict."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from hub.db.migrate import upgrade
from hub.db.models import Organization, Station
from hub.db.session import make_engine, session_scope
from hub.ingest.landing import LandingZone
from hub.ingest.service import IngestService
from hub.ingest.stations import StationDirectory
from shared.batch import encode_batch
from shared.messages import AckStatus
from tests.support.factories import batch_meta, batch_payload, readings

TELEMETRY = "altaviz/v1/org-a/STATION-1/telemetry"
MB = 1 << 20


def _service(tmp_path: Path, **zone: int) -> IngestService:
    return IngestService(
        LandingZone(tmp_path / "landing", tmp_path / "quarantine", **zone),
        max_batch_bytes=16 * MB,
    )


def _quarantine_bytes(tmp_path: Path) -> int:
    return sum(p.stat().st_size for p in (tmp_path / "quarantine").iterdir())


def test_two_oversized_messages_keep_a_bounded_sample_each(tmp_path: Path) -> None:
    service = _service(tmp_path, quarantine_sample_bytes=MB)
    payloads = [bytes([i]) * (20 * MB) + b"FOOTER%d" % i for i in range(2)]
    for payload in payloads:
        outcome = service.handle(TELEMETRY, payload)
        assert outcome.ack.status == AckStatus.REJECTED
    assert _quarantine_bytes(tmp_path) < 2.1 * MB  # was 41 MB: every byte of both
    records = service.zone.quarantined()
    assert [r["reason"] for r in records] == ["too_large", "too_large"]
    for record in records:
        payload = next(p for p in payloads if hashlib.sha256(p).hexdigest() == record["sha256"])
        assert record["size_bytes"] == len(payload)
        assert str(record["payload_kept"]).startswith("sample")
        kept = (tmp_path / "quarantine" / str(record["payload_file"])).read_bytes()
        assert len(kept) == MB
        assert kept == payload[: MB // 2] + payload[-MB // 2 :]  # head and the footer


def test_a_full_quarantine_keeps_records_but_no_more_payload(tmp_path: Path) -> None:
    service = _service(tmp_path, quarantine_max_bytes=300_000, quarantine_sample_bytes=200_000)
    for i in range(5):
        service.handle(TELEMETRY, b"garbage-%d" % i + b"\x00" * 150_000)
    assert _quarantine_bytes(tmp_path) <= 300_000
    records = service.zone.quarantined()
    assert len(records) == 5  # every refusal is still on record, with its size and digest
    kept = [r for r in records if "payload_file" in r]
    full = [r for r in records if "payload_file" not in r]
    assert len(kept) == 1 and len(full) == 4
    assert all("quarantine full" in str(r["payload_kept"]) for r in full)
    # a restart counts what is already there
    again = LandingZone(tmp_path / "landing", tmp_path / "quarantine", quarantine_max_bytes=1)
    assert again.quarantine_bytes == _quarantine_bytes(tmp_path)


@pytest.fixture
def directory(tmp_path: Path) -> StationDirectory:
    url = f"sqlite:///{tmp_path / 'serving.db'}"
    upgrade(url)
    engine = make_engine(url)
    with session_scope(engine, org_id="org-a") as session:
        session.add(Organization(id="org-a", name="A"))
        session.flush()
        session.add(Station(org_id="org-a", id="STATION-1", name="One"))
    with session_scope(engine, org_id="org-b") as session:
        session.add(Organization(id="org-b", name="B"))
    return StationDirectory(engine, unknown_ttl_s=0)


@pytest.mark.parametrize(
    ("org", "station"),
    [("org-a", "STATION-9"), ("org-b", "STATION-1"), ("org-zz", "STATION-1")],
    ids=["unknown station", "station of another org", "unknown org"],
)
def test_a_batch_for_an_org_or_station_unknown_to_the_hub_is_refused(
    tmp_path: Path, directory: StationDirectory, org: str, station: str
) -> None:
    service = _service(tmp_path)
    service.directory = directory
    payload = batch_payload(10, org_id=org, station_id=station)
    outcome = service.handle(f"altaviz/v1/{org}/{station}/telemetry", payload)
    assert outcome.ack.status == AckStatus.REJECTED
    assert outcome.ack.reason is not None and outcome.ack.reason.startswith("unknown_station")
    assert outcome.ack.batch_id is not None  # the edge learns which batch was refused
    assert not list((tmp_path / "landing").rglob("*.parquet"))
    (record,) = service.zone.quarantined()
    assert record["reason"] == "unknown_station" and station in str(record["detail"])
    # the station the hub knows still lands
    assert service.handle(TELEMETRY, batch_payload(10)).ack.status == AckStatus.DURABLE


def test_a_station_provisioned_after_a_refusal_is_accepted(
    tmp_path: Path, directory: StationDirectory
) -> None:
    service = _service(tmp_path)
    service.directory = directory
    topic = "altaviz/v1/org-a/STATION-2/telemetry"
    payload = batch_payload(10, station_id="STATION-2")
    assert service.handle(topic, payload).ack.status == AckStatus.REJECTED
    with session_scope(directory.engine, org_id="org-a") as session:
        session.add(Station(org_id="org-a", id="STATION-2", name="Two"))
    assert service.handle(topic, payload).ack.status == AckStatus.DURABLE


def test_a_batch_id_landed_again_with_other_rows_is_quarantined_as_a_conflict(
    tmp_path: Path,
) -> None:
    service = _service(tmp_path)
    first = readings(10)
    assert service.handle(TELEMETRY, encode_batch(first, batch_meta(first))).ack.status == (
        AckStatus.DURABLE
    )
    (landed,) = (tmp_path / "landing").rglob("*.parquet")
    original = landed.read_bytes()

    # The same rows encoded differently: a re-delivery, acknowledged again.
    again = service.handle(TELEMETRY, encode_batch(first, batch_meta(first), compression_level=1))
    assert again.ack.status == AckStatus.DURABLE and again.ack.duplicate

    # The same batch id and sequence range with other values: a conflict, kept apart.
    altered = readings(10, vibration_mms=[9.9] * 10)
    outcome = service.handle(TELEMETRY, encode_batch(altered, batch_meta(altered)))
    assert outcome.ack.status == AckStatus.REJECTED
    assert outcome.ack.reason is not None and outcome.ack.reason.startswith("conflict")
    assert landed.read_bytes() == original  # the landed rows are untouched
    (record,) = service.zone.quarantined()
    assert record["reason"] == "conflict"
    kept = pq.read_table(tmp_path / "quarantine" / str(record["payload_file"]))
    assert kept.column("vibration_mms").to_pylist() == pytest.approx([9.9] * 10)

    # ... also when the other rows start on another day (another landing date folder).
    later = readings(10, start=first.column("timestamp")[0].as_py().replace(day=2))
    moved = service.handle(TELEMETRY, encode_batch(later, batch_meta(later)))
    assert moved.ack.status == AckStatus.REJECTED and moved.ack.reason.startswith("conflict")  # type: ignore[union-attr]
    assert len(list((tmp_path / "landing").rglob("*.parquet"))) == 1
    assert [
        json.loads(p.read_text())["reason"] for p in (tmp_path / "quarantine").glob("*.json")
    ] == [
        "conflict",
        "conflict",
    ]
