"""The soak bench's hub side: ingest processes, lag samples, broker drops, the final count.

Everything here reads the lake with delta-rs (the `deltalake` package) and the
serving database with SQLAlchemy: independent of the Spark session under test.
"""

from __future__ import annotations

import logging
import multiprocessing
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from deltalake import DeltaTable
from sqlalchemy import select

from bench.edge_common import landed_ranges
from bench.soak_load import LoadPlan, Progress, SoakStation
from hub.db.session import make_engine, session_scope
from hub.ingest.worker import IngestWorker
from hub.lakehouse.tables import BRONZE_READINGS, SILVER_READINGS, STATION_FRESHNESS, LakePaths
from hub.serving.models import StationFreshness
from hub.settings import HubSettings
from shared.mqtt import MqttSettings, connect_async, make_client

# -- ingest --------------------------------------------------------------------------


def _run_ingest(settings: HubSettings, client_id: str, ready: Any, stop: Any) -> None:
    logging.basicConfig(level=logging.WARNING)
    worker = IngestWorker(settings, client_id=client_id)
    worker.start()
    if worker.connected.wait(30):
        ready.set()
    stop.wait()
    worker.stop()


def ingest_processes(
    settings: HubSettings, workers: int
) -> tuple[list[multiprocessing.process.BaseProcess], Any]:
    """`workers` ingest processes on the shared subscription, each subscribed on return."""
    context = multiprocessing.get_context("spawn")
    stop = context.Event()
    processes: list[multiprocessing.process.BaseProcess] = []
    ready = []
    for n in range(workers):
        event = context.Event()
        process = context.Process(
            target=_run_ingest,
            args=(settings, f"{settings.ingest.client_id}-{n}", event, stop),
            name=f"soak-ingest-{n}",
        )
        process.start()
        processes.append(process)
        ready.append(event)
    for event in ready:
        if not event.wait(60):
            raise SystemExit("an ingest worker did not subscribe within 60 s")
    return processes, stop


def stop_processes(processes: list[multiprocessing.process.BaseProcess], stop: Any) -> None:
    stop.set()
    for process in processes:
        process.join(timeout=30)
        if process.is_alive():
            process.terminate()
            process.join()


# -- the broker ----------------------------------------------------------------------


class BrokerStats:
    """mosquitto's own counters ($SYS, every `sys_interval`), kept current by a subscriber."""

    DROPPED = "$SYS/broker/publish/messages/dropped"

    def __init__(self, port: int) -> None:
        self.values: dict[str, str] = {}
        settings = MqttSettings(port=port)
        self.client = make_client(settings, client_id="soak-sys")
        self.client.on_connect = lambda c, *_a: c.subscribe("$SYS/broker/#")
        self.client.on_message = lambda _c, _u, message: self.values.__setitem__(
            message.topic, message.payload.decode(errors="replace")
        )
        connect_async(self.client, settings)
        self.client.loop_start()

    def dropped(self) -> str:
        """Messages mosquitto dropped (it publishes the counter once it is non-zero)."""
        time.sleep(2.5)  # one more $SYS interval (sys_interval 2)
        self.client.disconnect()
        self.client.loop_stop()
        if not self.values:
            return "unknown ($SYS not received)"
        return self.values.get(self.DROPPED, "0")


# -- lag -----------------------------------------------------------------------------


def _epoch_seconds(column: pa.ChunkedArray) -> np.ndarray:
    micros = pc.cast(pc.cast(column, pa.timestamp("us", tz="UTC")), pa.int64())
    return micros.to_numpy(zero_copy_only=False) / 1e6


class LagSampler:
    """Pipeline lag per station: how long its oldest published batch not yet in gold has waited.

    A station's batch is in gold (serving) once the newest reading time there has
    reached the batch's newest reading; the lag is now minus the time the broker
    acknowledged the first batch that is not (0 when all are). A sample is the worst
    station's lag.
    """

    def __init__(
        self, settings: HubSettings, plan: LoadPlan, progress: Progress, *, with_serving: bool
    ) -> None:
        self.plan = plan
        stations = len(plan.stations)
        self.index = {s.station_id: n for n, s in enumerate(plan.stations)}
        self.progress = progress
        self.gold_path = LakePaths(settings.lake_root).table(STATION_FRESHNESS)
        self.engine = make_engine(settings.database_url) if with_serving else None
        self.gold_newest = np.full(stations, float(plan.start_s - 1))
        self.serving_newest = np.full(stations, float(plan.start_s - 1))
        self.gold: list[float] = []
        self.serving: list[float] = []
        self.warmup: list[float] = []
        self.timeline: list[tuple[float, float]] = []  # (when, headline lag)

    def _read_gold(self) -> None:
        try:
            table = DeltaTable(self.gold_path).to_pyarrow_table(
                columns=["station_id", "last_reading_at"]
            )
        except Exception:  # a log entry being written: the next sample reads it
            return
        self._update(self.gold_newest, table["station_id"].to_pylist(),
                     _epoch_seconds(table["last_reading_at"]))  # fmt: skip

    def _read_serving(self) -> None:
        assert self.engine is not None
        try:
            with session_scope(self.engine) as session:
                rows = session.execute(
                    select(StationFreshness.station_id, StationFreshness.last_reading_at)
                ).all()
        except Exception:  # the writer holds the SQLite file for a moment
            return
        self._update(self.serving_newest, [r[0] for r in rows],
                     np.array([_naive_utc(r[1]) for r in rows]))  # fmt: skip

    def _update(self, newest: np.ndarray, stations: list[str], seconds: np.ndarray) -> None:
        for station, value in zip(stations, seconds, strict=True):
            n = self.index.get(station)
            if n is not None:
                newest[n] = max(newest[n], value)

    def _waiting_since(self, newest: np.ndarray) -> np.ndarray:
        """Per station: when its oldest batch not yet visible was acknowledged (0: none)."""
        plan = self.plan
        batches = plan.batches_per_station
        acked = np.ctypeslib.as_array(self.progress.acked_at.get_obj()).reshape(-1, batches)
        visible = np.floor((newest - plan.start_s + 1) / plan.interval_s).astype(np.int64)
        since = np.zeros(len(newest))
        waiting = visible < batches
        rows = np.arange(len(newest))[waiting]
        since[waiting] = acked[rows, visible[waiting]]
        return since

    def _lag(self, newest: np.ndarray, now: float) -> float:
        since = self._waiting_since(newest)
        return float(max(0.0, np.max(now - since[since > 0]))) if (since > 0).any() else 0.0

    def sample(self, *, in_warmup: bool) -> None:
        self._read_gold()
        if self.engine is not None:
            self._read_serving()
        if self.progress.batches.value == 0:
            return  # nothing published yet
        now = time.time()
        gold = self._lag(self.gold_newest, now)
        serving = self._lag(self.serving_newest, now) if self.engine is not None else gold
        if in_warmup:
            self.warmup.append(serving)
            return
        self.gold.append(gold)
        self.serving.append(serving)
        self.timeline.append((now, serving))

    def window(self, since: float) -> list[float]:
        return [lag for at, lag in self.timeline if at >= since]

    def caught_up(self) -> bool:
        newest = [self.gold_newest] + ([self.serving_newest] if self.engine is not None else [])
        return all(not (self._waiting_since(n) > 0).any() for n in newest)


def _naive_utc(value: Any) -> float:
    from datetime import UTC

    return float((value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp())


def drained(sampler: LagSampler) -> bool:
    return sampler.progress.done.is_set() and sampler.caught_up()


# -- the final count -----------------------------------------------------------------


@dataclass(frozen=True)
class SilverCounts:
    rows: int
    lost: int
    duplicated: int
    #: Rows for a (station, seq) that was never published (should not exist).
    unexpected: int
    landing_files: int
    #: Readings in the landed files (from their names: the batch's sequence range).
    landed: int
    #: Rows appended to bronze (every delivery; delta-rs reads the file footers).
    bronze_rows: int
    quarantined: int


def silver_counts(
    settings: HubSettings, stations: list[SoakStation], ranges_file: Path
) -> SilverCounts:
    """Silver (read with delta-rs) against the (station, seq) ranges the broker acknowledged."""
    ranges = np.load(ranges_file)
    station_of, first, last = ranges["station"], ranges["first"], ranges["last"]
    stride = int(last.max()) + 1 if len(last) else 1
    expected = np.zeros(len(stations) * stride, dtype=bool)
    for station, low, high in zip(station_of, first, last, strict=True):
        expected[station * stride + low : station * stride + high + 1] = True
    counts = np.zeros(len(stations) * stride, dtype=np.uint16)
    names = pa.array([s.station_id for s in stations])
    rows = unexpected = 0
    dataset = DeltaTable(LakePaths(settings.lake_root).table(SILVER_READINGS)).to_pyarrow_dataset()
    for batch in dataset.to_batches(columns=["station_id", "seq"]):
        rows += batch.num_rows
        index = pc.fill_null(pc.index_in(batch.column("station_id"), value_set=names), -1)
        station = index.to_numpy(zero_copy_only=False).astype(np.int64)
        seq = batch.column("seq").to_numpy(zero_copy_only=False)
        known = (station >= 0) & (seq >= 0) & (seq < stride)
        unexpected += int((~known).sum())
        np.add.at(counts, station[known] * stride + seq[known], 1)
    landed = landed_ranges(settings.landing_dir)
    return SilverCounts(
        rows=rows,
        lost=int((expected & (counts == 0)).sum()),
        duplicated=int((counts[counts > 1].astype(np.int64) - 1).sum()),
        unexpected=unexpected + int((~expected & (counts > 0)).sum()),
        landing_files=len(landed),
        landed=sum(high - low + 1 for low, high, _ in landed),
        bronze_rows=DeltaTable(LakePaths(settings.lake_root).table(BRONZE_READINGS))
        .to_pyarrow_dataset()
        .count_rows(),
        quarantined=sum(1 for _ in settings.quarantine_dir.glob("*.json")),
    )
