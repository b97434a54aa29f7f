"""The landing zone and the quarantine, on local disk.

A batch lands at landing/org=<org>/station=<station>/date=<first reading's UTC date>/<batch id>.parquet,
written to a temporary file, fsync'd and renamed into place, so a reader never
sees half a file and the same batch always maps to the same name: a second
delivery finds the file and is acknowledged without writing again; a second delivery
with *other* rows under the same batch id is a conflict, never landed nor dropped.

The quarantine is bounded: a payload above `sample_bytes` keeps only its head and its
tail (the Parquet footer, where the batch identity lives) with the full size and
sha256 in its record, and once `max_bytes` are kept new refusals keep their record only.
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

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from shared.batch import BatchMeta, DecodedBatch
from shared.batch_meta import BATCH_ROW_ORDER
from shared.reading_table import conform_readings


@dataclass(frozen=True)
class Landed:
    path: Path
    duplicate: bool
    #: The batch id was already landed with different rows (nothing was written).
    conflict: bool = False


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


#: Defaults of the quarantine's bounds (IngestSettings overrides them).
QUARANTINE_MAX_BYTES = 1 << 30
QUARANTINE_SAMPLE_BYTES = 1 << 20


class LandingZone:
    def __init__(
        self,
        root: Path,
        quarantine: Path,
        *,
        quarantine_max_bytes: int = QUARANTINE_MAX_BYTES,
        quarantine_sample_bytes: int = QUARANTINE_SAMPLE_BYTES,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        """`clock`: the receipt time landed files carry (default the file system's own);
        simulated or replayed time passes its clock so lags stay in the data's time."""
        self.root = root
        self.clock = clock
        self.quarantine_root = quarantine
        self.quarantine_max_bytes = quarantine_max_bytes
        self.quarantine_sample_bytes = quarantine_sample_bytes
        # Temporary files live beside the landing tree (same filesystem, so rename is
        # atomic) but outside it, so no reader ever lists them.
        self._tmp = root.parent / f".{root.name}-tmp"
        root.mkdir(parents=True, exist_ok=True)
        quarantine.mkdir(parents=True, exist_ok=True)
        self.quarantine_bytes = sum(p.stat().st_size for p in quarantine.iterdir() if p.is_file())

    def land(self, batch: DecodedBatch, payload: bytes) -> Landed:
        path = landing_path(self.root, batch.meta, first_reading_date(batch))
        existing = path if path.exists() else self._landed_elsewhere(batch.meta)
        if existing is not None:
            same = _same_rows(existing, payload, batch)
            return Landed(path=existing, duplicate=same, conflict=not same)
        received = None if self.clock is None else self.clock()
        durable_write(path, payload, tmp_dir=self._tmp, modified_at=received)
        return Landed(path=path, duplicate=False)

    def _landed_elsewhere(self, meta: BatchMeta) -> Path | None:
        """The same batch id under another date (its rows' first date differs)."""
        station = self.root / f"org={meta.org_id}" / f"station={meta.station_id}"
        if not station.is_dir():
            return None
        return next(iter(station.glob(f"date=*/{meta.batch_id}.parquet")), None)

    def quarantine(self, payload: bytes, *, topic: str, reason: str, detail: str) -> Path:
        """Keep a refused payload with the reason beside it, within the quarantine's bounds."""
        received = datetime.now(UTC)
        digest = hashlib.sha256(payload).hexdigest()
        stem = f"{received:%Y%m%dT%H%M%S%fZ}-{digest[:16]}"
        record: dict[str, object] = {
            "received_at": received.isoformat(),
            "topic": topic,
            "reason": reason,
            "detail": detail,
            "size_bytes": len(payload),
            "sha256": digest,
        }
        kept, how = _sample(payload, self.quarantine_sample_bytes)
        if self.quarantine_bytes + len(kept) > self.quarantine_max_bytes:
            kept, how = b"", "not kept: quarantine full (quarantine_max_bytes)"
        if kept:
            data_path = self.quarantine_root / f"{stem}.bin"
            durable_write(data_path, kept, tmp_dir=self._tmp)
            record["payload_file"] = data_path.name
            self.quarantine_bytes += len(kept)
        record["payload_kept"] = how
        reason_path = self.quarantine_root / f"{stem}.json"
        encoded = json.dumps(record, indent=2).encode()
        durable_write(reason_path, encoded, tmp_dir=self._tmp)
        self.quarantine_bytes += len(encoded)
        return reason_path

    def landed_files(self) -> list[Path]:
        return sorted(self.root.rglob("*.parquet"))

    def quarantined(self) -> list[dict[str, object]]:
        return [json.loads(p.read_text()) for p in sorted(self.quarantine_root.glob("*.json"))]


def _sample(payload: bytes, limit: int) -> tuple[bytes, str]:
    """The whole payload, or its first and last limit/2 bytes (the Parquet footer)."""
    if len(payload) <= limit:
        return payload, "whole"
    half = limit // 2
    return payload[:half] + payload[-half:], f"sample: first and last {half} bytes"


def _same_rows(path: Path, payload: bytes, batch: DecodedBatch) -> bool:
    """A re-delivery (same bytes, or the same rows re-encoded) rather than a conflict."""
    if path.stat().st_size == len(payload) and path.read_bytes() == payload:
        return True
    try:
        landed = conform_readings(pq.read_table(path))
    except (KeyError, pa.ArrowInvalid, OSError):
        return False
    order = [(name, "ascending") for name in BATCH_ROW_ORDER]
    new = conform_readings(batch.table)
    return bool(landed.sort_by(order).equals(new.sort_by(order)))
