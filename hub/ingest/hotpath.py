"""The hot path: a landed batch's newest values and its station's freshness, straight to serving.

Ingest lands a batch durably, acks it, and only then hands it here (`submit`, which never
blocks: a full queue drops the update, logged and counted). A worker thread reduces the
batch to one row per compressor (its newest reading) and one per station and upserts them
into `compressor_latest` / `station_latest`; an update older than what is stored (a late
re-delivery, a backlog drained after live data) never overwrites newer data. A failure
(database down, a compressor the fleet does not know) is logged and counted and never
reaches the ack: the gold path carries the same data a little later in any case.
Edge alarms take their own direct path (hub/ingest/events.py).
"""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Engine, select

from hub.db.models import Compressor
from hub.db.session import session_scope
from hub.ingest.models import CompressorLatest, StationLatest
from hub.serving.upsert import upsert
from shared.batch import DecodedBatch
from shared.schema import QUALITY_FIELDS, SENSOR_FIELDS, Quality

log = logging.getLogger(__name__)


@dataclass
class HotPathCounts:
    batches: int = 0
    failed: int = 0
    dropped: int = 0
    unknown_compressors: int = 0


def latest_rows(batch: DecodedBatch, *, received_at: datetime) -> list[dict[str, Any]]:
    """One row per compressor: its newest reading in the batch (latest seq on a tie)."""
    table = batch.table
    if table.num_rows == 0:
        return []
    micros = pc.cast(table.column("timestamp"), pa.timestamp("us", tz="UTC")).cast(pa.int64())
    times = micros.to_numpy(zero_copy_only=False)
    seqs = table.column("seq").to_numpy(zero_copy_only=False)
    compressors = table.column("compressor_id").to_numpy(zero_copy_only=False).astype(str)
    order = np.lexsort((seqs, times, compressors))
    last = order[np.r_[compressors[order][1:] != compressors[order][:-1], True]]
    picked = table.take(pa.array(last)).to_pylist()
    meta = batch.meta
    rows = []
    for reading in picked:
        row = {
            "org_id": meta.org_id,
            "compressor_id": reading["compressor_id"],
            "station_id": meta.station_id,
            "reading_at": reading["timestamp"].replace(tzinfo=UTC)
            if reading["timestamp"].tzinfo is None
            else reading["timestamp"],
            "seq": int(reading["seq"]),
            "operating_state": reading["operating_state"],
            "batch_id": meta.batch_id,
            "received_at": received_at,
        }
        for sensor, quality in zip(SENSOR_FIELDS, QUALITY_FIELDS, strict=True):
            ok = reading.get(quality) == int(Quality.OK)
            row[sensor] = float(reading[sensor]) if ok and reading[sensor] is not None else None
        rows.append(row)
    return rows


class HotPath:
    """Applies landed batches to the serving database on its own thread, off the ack path."""

    def __init__(self, engine: Engine, *, queue_size: int = 10_000) -> None:
        self.engine = engine
        self.counts = HotPathCounts()
        self._queue: queue.Queue[tuple[DecodedBatch, datetime] | None] = queue.Queue(queue_size)
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="hot-path", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Apply what is queued, then stop."""
        if self._thread is None:
            return
        self._queue.put(None)
        self._thread.join(timeout_s)
        self._thread = None

    def submit(self, batch: DecodedBatch, *, received_at: datetime | None = None) -> None:
        """Queue a landed batch; never blocks (a full queue drops it, logged and counted)."""
        try:
            self._queue.put_nowait((batch, received_at or datetime.now(UTC)))
        except queue.Full:
            self.counts.dropped += 1
            log.warning(
                "hot path queue full: %s not applied (gold will carry it)", batch.meta.batch_id
            )

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            batch, received_at = item
            try:
                self.apply(batch, received_at=received_at)
            except Exception:  # a hot-path failure must never stop ingest
                self.counts.failed += 1
                log.exception("hot path could not apply %s", batch.meta.batch_id)

    def apply(self, batch: DecodedBatch, *, received_at: datetime) -> None:
        """Upsert the batch's newest values and its station's freshness (newer data wins)."""
        rows = latest_rows(batch, received_at=received_at)
        if not rows:
            return
        meta = batch.meta
        with session_scope(self.engine, org_id=meta.org_id) as session:
            known = set(
                session.scalars(
                    select(Compressor.id).where(
                        Compressor.org_id == meta.org_id, Compressor.station_id == meta.station_id
                    )
                )
            )
            unknown = [r["compressor_id"] for r in rows if r["compressor_id"] not in known]
            if unknown:
                self.counts.unknown_compressors += len(unknown)
                log.warning(
                    "hot path: %s not in the fleet of %s; skipped", unknown, meta.station_id
                )
            upsert(
                session,
                CompressorLatest.__table__,  # type: ignore[arg-type]
                [r for r in rows if r["compressor_id"] in known],
                where=lambda table, new: table.c.reading_at <= new.reading_at,
            )
            newest = max(rows, key=lambda r: (r["reading_at"], r["seq"]))
            station = {
                "org_id": meta.org_id, "station_id": meta.station_id,
                "last_reading_at": newest["reading_at"], "last_seq": meta.last_seq,
                "last_batch_id": meta.batch_id, "compressors_in_batch": len(rows),
                "received_at": received_at, "written_at": datetime.now(UTC),
            }  # fmt: skip
            upsert(
                session,
                StationLatest.__table__,  # type: ignore[arg-type]
                [station],
                where=lambda table, new: table.c.last_reading_at <= new.last_reading_at,
            )
        self.counts.batches += 1
