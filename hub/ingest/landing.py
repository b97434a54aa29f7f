"""The landing zone and the quarantine, on local disk.

A batch lands at landing/org=<org>/station=<station>/date=<first reading's UTC date>/<batch id>.parquet,
written to a temporary file, fsync'd and renamed into place, so a reader never
sees half a file and the same batch always maps to the same name: a second
delivery finds the file and is acknowledged without writing again.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.compute as pc

from shared.batch import BatchMeta, DecodedBatch


@dataclass(frozen=True)
class Landed:
    path: Path
    duplicate: bool


def landing_path(root: Path, meta: BatchMeta, first_reading_date: str) -> Path:
    return (
        root
        / f"org={meta.org_id}"
        / f"station={meta.station_id}"
        / f"date={first_reading_date}"
        / f"{meta.batch_id}.parquet"
    )


def first_reading_date(batch: DecodedBatch) -> str:
    earliest = pc.min(batch.table.column("timestamp")).as_py()
    return earliest.astimezone(UTC).date().isoformat()


def durable_write(
    path: Path, payload: bytes, *, tmp_dir: Path, modified_at: datetime | None = None
) -> None:
    """Write `payload` to `path` atomically and durably (tmp file, fsync, rename, fsync dir).

    `modified_at` stamps the file's modification time (the lake's `received_at`) before
    it becomes visible."""
    tmp_dir.mkdir(parents=True, exist_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = tmp_dir / f"{path.name}.{uuid.uuid4().hex}.tmp"
    with open(tmp, "wb") as handle:
        handle.write(payload)
        handle.flush()
        os.fsync(handle.fileno())
    if modified_at is not None:
        stamp = modified_at.timestamp()
        os.utime(tmp, (stamp, stamp))
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class LandingZone:
    def __init__(
        self, root: Path, quarantine: Path, *, clock: Callable[[], datetime] | None = None
    ) -> None:
        """`clock`: the receipt time landed files carry (default the file system's own);
        simulated or replayed time passes its clock so lags stay in the data's time."""
        self.root = root
        self.clock = clock
        self.quarantine_root = quarantine
        # Temporary files live beside the landing tree (same filesystem, so rename is
        # atomic) but outside it, so no reader ever lists them.
        self._tmp = root.parent / f".{root.name}-tmp"
        root.mkdir(parents=True, exist_ok=True)
        quarantine.mkdir(parents=True, exist_ok=True)

    def land(self, batch: DecodedBatch, payload: bytes) -> Landed:
        path = landing_path(self.root, batch.meta, first_reading_date(batch))
        if path.exists():
            return Landed(path=path, duplicate=True)
        received = None if self.clock is None else self.clock()
        durable_write(path, payload, tmp_dir=self._tmp, modified_at=received)
        return Landed(path=path, duplicate=False)

    def quarantine(self, payload: bytes, *, topic: str, reason: str, detail: str) -> Path:
        """Keep a refused payload with the reason beside it; never drop it."""
        received = datetime.now(UTC)
        digest = hashlib.sha256(payload).hexdigest()
        stem = f"{received:%Y%m%dT%H%M%S%fZ}-{digest[:16]}"
        data_path = self.quarantine_root / f"{stem}.bin"
        durable_write(data_path, payload, tmp_dir=self._tmp)
        record = {
            "received_at": received.isoformat(),
            "topic": topic,
            "reason": reason,
            "detail": detail,
            "size_bytes": len(payload),
            "sha256": digest,
            "payload_file": data_path.name,
        }
        reason_path = self.quarantine_root / f"{stem}.json"
        durable_write(reason_path, json.dumps(record, indent=2).encode(), tmp_dir=self._tmp)
        return reason_path

    def landed_files(self) -> list[Path]:
        return sorted(self.root.rglob("*.parquet"))

    def quarantined(self) -> list[dict[str, object]]:
        return [json.loads(p.read_text()) for p in sorted(self.quarantine_root.glob("*.json"))]
