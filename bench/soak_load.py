"""The soak bench's load: a generated fleet, the edge-batch publisher, the hub's resources.

The publisher runs in its own process (so its CPU is not the hub's) and publishes
each station's telemetry the way an edge does: one batch per interval per station
(the edge's batch format, `shared.batch.encode_batch`), QoS 1, on the station's own
topic, the stations spread evenly over the interval. Readings are synthetic: per
compressor the factories' base values plus small autocorrelated noise, quantized to
the register resolution, precomputed once as numpy blocks; a batch only stamps its
sequence numbers and timestamps onto a block.
"""

from __future__ import annotations

import collections
import multiprocessing
import os
import time
from dataclasses import dataclass, field
from multiprocessing.sharedctypes import Synchronized, SynchronizedArray
from pathlib import Path
from typing import Any

import numpy as np
import psutil
import pyarrow as pa
import yaml

from shared.batch import BatchMeta, encode_batch
from shared.fleet import load_fleet
from shared.ids import make_batch_id
from shared.mqtt import MqttSettings, connect_async, make_client
from shared.reading_table import READING_SCHEMA
from shared.schema import QUALITY_FIELDS, SENSOR_FIELDS, OperatingState
from shared.topics import Kind, topic
from tests.support.factories import BASE_VALUES

#: Register resolution and noise (one standard deviation) per sensor.
RESOLUTION = {
    "vibration_mms": 0.01,
    "discharge_temp_f": 0.1,
    "suction_pressure_psi": 0.1,
    "discharge_pressure_psi": 0.1,
    "horsepower_consumption": 1.0,
    "gas_flow_mcf": 1.0,
}
NOISE = {
    "vibration_mms": 0.04,
    "discharge_temp_f": 0.4,
    "suction_pressure_psi": 0.4,
    "discharge_pressure_psi": 2.0,
    "horsepower_consumption": 4.0,
    "gas_flow_mcf": 25.0,
}
BLOCKS = 32
SOAK_ORG = "soak-org"


@dataclass(frozen=True)
class SoakStation:
    org_id: str
    station_id: str
    compressors: tuple[str, ...]


def write_fleet(path: Path, *, stations: int, compressors: int, base: Path) -> list[SoakStation]:
    """A fleet file: the default fleet plus `stations` generated ones (the hub's assets)."""
    document = {
        "extends": str(base.resolve()),
        "organisations": [{"id": SOAK_ORG, "name": "Soak test midstream"}],
        "generators": [
            {
                "org_id": SOAK_ORG,
                "stations": stations,
                "compressors_per_station": compressors,
                "templates": ["EF-KARNES", "PB-MIDLAND", "HV-CARTHAGE", "BN-FTWORTH"],
                "station_id_format": "SOAK-S{n:04d}",
                "compressor_id_format": "SOAK-C{n:06d}",
                "first_port": 20000,
            }
        ],
    }
    path.write_text(yaml.safe_dump(document))
    fleet = load_fleet(path)
    organisation = next(o for o in fleet.organisations if o.id == SOAK_ORG)
    return [
        SoakStation(SOAK_ORG, s.id, tuple(c.id for c in s.compressors))
        for s in organisation.stations
    ]


@dataclass(frozen=True)
class LoadPlan:
    port: int
    stations: list[SoakStation]
    interval_s: int
    #: Epoch second of the first reading; no reading at or after `end_s`.
    start_s: int
    end_s: int
    #: Where the published (broker-acknowledged) sequence ranges are written (.npz).
    ranges_file: Path

    @property
    def batches_per_station(self) -> int:
        return (self.end_s - self.start_s) // self.interval_s


@dataclass
class Progress:
    """What the publisher shares with the bench while it runs."""

    #: Per station: epoch second of the newest reading the broker has acknowledged.
    newest: SynchronizedArray
    #: Per (station, batch number), row-major: when the broker acknowledged it (0: not yet).
    acked_at: SynchronizedArray
    readings: Synchronized
    batches: Synchronized
    #: How far behind its schedule the publisher fell at worst (seconds).
    behind_s: Synchronized
    done: Any = field(default=None)

    @classmethod
    def create(cls, context: Any, stations: int, batches: int) -> Progress:
        return cls(
            newest=context.Array("d", stations),
            acked_at=context.Array("d", stations * batches),
            readings=context.Value("q", 0),
            batches=context.Value("q", 0),
            behind_s=context.Value("d", 0.0),
            done=context.Event(),
        )


class BatchFactory:
    """Readings tables for (station, batch number), from precomputed value blocks."""

    def __init__(self, plan: LoadPlan, seed: int = 7) -> None:
        self.plan = plan
        compressors = len(plan.stations[0].compressors)
        self.compressors = compressors
        self.rows = plan.interval_s * compressors
        rng = np.random.default_rng(seed)
        spread = rng.normal(1.0, 0.03, size=compressors)  # each unit runs a little differently
        self.blocks = [self._block(rng, spread) for _ in range(BLOCKS)]
        self.station_ids = [pa.array([s.station_id] * self.rows) for s in plan.stations]
        self.compressor_ids = [
            pa.array(np.tile(np.array(s.compressors, dtype=object), plan.interval_s))
            for s in plan.stations
        ]
        self.state = pa.array([OperatingState.RUNNING] * self.rows)
        self.quality = pa.array(np.zeros(self.rows, dtype=np.int8))
        self.flags = pa.array(np.zeros(self.rows, dtype=np.int32))
        self.second_of_row = np.arange(self.rows, dtype=np.int64) // compressors

    def _block(self, rng: np.random.Generator, spread: np.ndarray) -> list[pa.Array]:
        seconds = self.plan.interval_s
        columns = []
        for sensor in SENSOR_FIELDS:
            # A slow AR(1) wander around each unit's level, rows ordered (second, unit).
            steps = rng.normal(0.0, NOISE[sensor], size=(seconds, self.compressors))
            wander = np.zeros_like(steps)
            for t in range(seconds):
                wander[t] = (wander[t - 1] * 0.9 if t else 0.0) + steps[t] * 0.45
            values = BASE_VALUES[sensor] * spread + wander
            step = RESOLUTION[sensor]
            columns.append(pa.array((np.round(values / step) * step).astype(np.float32).ravel()))
        return columns

    def table(self, station: int, batch: int) -> pa.Table:
        first = batch * self.rows + 1
        seq = np.arange(first, first + self.rows, dtype=np.int64)
        seconds = self.plan.start_s + batch * self.plan.interval_s + self.second_of_row
        arrays = [
            self.station_ids[station],
            self.compressor_ids[station],
            pa.array(seq),
            pa.array(seconds * 1_000_000, pa.timestamp("us", tz="UTC")),
            self.state,
            *self.blocks[(batch + station) % BLOCKS],
            *([self.quality] * len(QUALITY_FIELDS)),
            self.flags,
        ]
        return pa.Table.from_arrays(arrays, schema=READING_SCHEMA)


def run_publisher(plan: LoadPlan, progress: Progress) -> None:
    """The publisher process: every station's batches on schedule, then the ranges file."""
    factory = BatchFactory(plan)
    client = make_client(MqttSettings(port=plan.port), client_id="soak-edge-fleet")
    acked_mids: collections.deque[int] = collections.deque()
    client.on_publish = lambda _c, _u, mid, *_rest: acked_mids.append(mid)
    connect_async(client, MqttSettings(port=plan.port))
    client.loop_start()
    pending: dict[int, tuple[int, int, int, int]] = {}  # mid -> station, batch, first, last
    published: list[tuple[int, int, int]] = []

    def settle() -> None:
        while acked_mids:
            mid = acked_mids.popleft()
            entry = pending.pop(mid, None)
            if entry is None:  # acknowledged before publish() returned its mid
                acked_mids.append(mid)
                break
            station, batch, first, last = entry
            published.append((station, first, last))
            progress.acked_at[station * plan.batches_per_station + batch] = time.time()
            progress.newest[station] = float(plan.start_s + (batch + 1) * plan.interval_s - 1)
            with progress.readings.get_lock():
                progress.readings.value += last - first + 1
            with progress.batches.get_lock():
                progress.batches.value += 1

    count = len(plan.stations)
    for batch in range(plan.batches_per_station):
        batch_end = plan.start_s + (batch + 1) * plan.interval_s
        for station in range(count):
            due = batch_end + station * plan.interval_s / count
            while (wait := due - time.time()) > 0:
                settle()
                time.sleep(min(wait, 0.05))
            behind = time.time() - due
            if behind > progress.behind_s.value:
                progress.behind_s.value = behind
            readings = factory.table(station, batch)
            first = batch * factory.rows + 1
            last = first + factory.rows - 1
            info = _publish(client, plan.stations[station], readings, first, last)
            pending[info.mid] = (station, batch, first, last)
            settle()
    deadline = time.time() + 120
    while pending and time.time() < deadline:
        settle()
        time.sleep(0.05)
    client.disconnect()
    client.loop_stop()
    stations, firsts, lasts = zip(*published, strict=True) if published else ((), (), ())
    np.savez(plan.ranges_file, station=stations, first=firsts, last=lasts)
    progress.done.set()


def _publish(client: Any, station: SoakStation, table: pa.Table, first: int, last: int) -> Any:
    meta = BatchMeta(
        org_id=station.org_id,
        station_id=station.station_id,
        batch_id=make_batch_id(station.station_id, first, last),
        first_seq=first,
        last_seq=last,
        row_count=table.num_rows,
        producer="soak-edge",
    )
    payload = encode_batch(table, meta)
    return client.publish(topic(station.org_id, station.station_id, Kind.TELEMETRY), payload, qos=1)


def start_publisher(plan: LoadPlan) -> tuple[multiprocessing.process.BaseProcess, Progress]:
    context = multiprocessing.get_context("spawn")
    progress = Progress.create(context, len(plan.stations), plan.batches_per_station)
    process = context.Process(target=run_publisher, args=(plan, progress), name="soak-publisher")
    process.start()
    return process, progress


# -- the hub's resources --------------------------------------------------------------


def _group(process: psutil.Process, roles: dict[int, str]) -> str:
    if process.pid in roles:
        return roles[process.pid]
    name = process.name()
    if name == "java":
        return "jvm"
    if name == "mosquitto":
        return "broker"
    if any(parent.name() == "java" for parent in process.parents()):
        return "spark python workers"
    return "other"


class Resources:
    """CPU seconds and resident memory per group of processes, from periodic samples."""

    HUB = ("ingest", "driver", "jvm", "spark python workers")

    def __init__(self, roles: dict[int, str]) -> None:
        self.roles = {os.getpid(): "driver", **roles}
        self.cpu_by_pid: dict[int, tuple[str, float]] = {}
        self.peak_rss: dict[str, int] = collections.defaultdict(int)
        self.started = time.monotonic()

    def sample(self) -> None:
        rss: dict[str, int] = collections.defaultdict(int)
        me = psutil.Process()
        for process in [me, *me.children(recursive=True)]:
            try:
                with process.oneshot():
                    group = _group(process, self.roles)
                    times = process.cpu_times()
                    rss[group] += process.memory_info().rss
            except psutil.Error:  # exited meanwhile
                continue
            self.cpu_by_pid[process.pid] = (group, times.user + times.system)
        for group, value in rss.items():
            self.peak_rss[group] = max(self.peak_rss[group], value)
        self.peak_rss["hub total"] = max(self.peak_rss["hub total"], sum(rss[g] for g in self.HUB))

    def cpu_seconds(self) -> dict[str, float]:
        totals: dict[str, float] = collections.defaultdict(float)
        for group, seconds in self.cpu_by_pid.values():
            totals[group] += seconds
        totals["hub total"] = sum(totals[g] for g in self.HUB)
        return totals
