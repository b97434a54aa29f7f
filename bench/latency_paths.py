"""Hot-path latency: a published edge batch -> its newest reading in serving (`station_latest`).

    .venv/bin/python bench/latency_paths.py                  # 60 s after a 10 s warm-up
    .venv/bin/python bench/latency_paths.py --seconds 600

A real mosquitto and hub ingest with its hot path (`IngestWorker(..., hotpath=HotPath)`)
into a SQLite serving database, no Spark. A publisher stands in for the default fleet's
four stations (10 compressors, 1 Hz, the simulator's readings released in real time, one
batch per station every `--batch-interval` s). A batch is on the hot path when its
station's `station_latest.last_reading_at` has reached the batch's newest reading.

For bench/lake_latency.py: `HotPoller` (a thread like its gold-path poller) and
`wait_hot` (one batch), `hot_latencies`, and `result_line`, which prints
`RESULT lake_latency hot_p95_s=<s> gold_p50_s=<s> gold_p95_s=<s> gold_max_s=<s>`.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import Engine, select
from sqlalchemy.exc import OperationalError

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import commit
from bench.edge_common import start_mosquitto, wait_for
from bench.lake_common import REPO, bench_settings, fresh, load_average
from hub.db.session import make_engine, session_scope
from hub.ingest.hotpath import HotPath
from hub.ingest.models import StationLatest
from hub.ingest.worker import IngestWorker
from hub.serving.sync import prepare_serving
from shared.batch import BatchMeta, encode_batch
from shared.fleet import load_fleet
from shared.ids import make_batch_id
from shared.mqtt import MqttSettings, connect_async, make_client
from shared.topics import Kind, topic
from simulator.engine import Simulation
from simulator.history import write_history
from simulator.scenario import load_scenario

FLEET = REPO / "config" / "fleet.yaml"
#: (station, batch id, newest reading time in the batch, time.time() when published)
Published = tuple[str, str, datetime, float]


def newest_per_station(engine: Engine, table: Any = StationLatest) -> list[tuple[str, datetime]]:
    """(station, newest reading time) from `table` (the hot path's, or gold's freshness)."""
    with session_scope(engine) as session:
        rows = session.execute(select(table.station_id, table.last_reading_at))
        return [(s, t if t.tzinfo else t.replace(tzinfo=UTC)) for s, t in rows.all()]


def wait_hot(
    url: str, *, station_id: str, newest: datetime, published_at: float, timeout_s: float = 30.0
) -> float | None:
    """Seconds from `published_at` until the batch's newest reading shows on the hot path."""
    engine = make_engine(url)
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        try:
            shown = dict(newest_per_station(engine)).get(station_id)
        except OperationalError:  # a writer holds the SQLite file for a moment
            shown = None
        if shown is not None and shown >= newest:
            return time.time() - published_at
        time.sleep(0.02)
    return None


class HotPoller(threading.Thread):
    """Records, per station, when each newest-reading time first showed in `table`
    (`station_latest`, the hot path's, unless told)."""

    def __init__(self, url: str, *, every_s: float = 0.05, table: Any = StationLatest) -> None:
        super().__init__(daemon=True)
        self.engine = make_engine(url)
        self.every_s = every_s
        self.table = table
        self.seen: dict[str, list[tuple[datetime, float]]] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(self.every_s):
            try:
                rows = newest_per_station(self.engine, self.table)
            except OperationalError:
                continue
            at = time.time()
            for station, newest in rows:
                history = self.seen.setdefault(station, [])
                if not history or newest > history[-1][0]:
                    history.append((newest, at))

    def visible_at(self, station: str, newest: datetime) -> float | None:
        for shown, at in self.seen.get(station, []):
            if shown >= newest:
                return at
        return None


def hot_latencies(
    poller: HotPoller, published: list[Published], *, after: float
) -> tuple[list[float], int]:
    """(publish -> hot-path latencies of batches published after `after`, how many never showed)."""
    latencies, missing = [], 0
    for station, _, newest, at in published:
        if at < after:
            continue
        visible = poller.visible_at(station, newest)
        if visible is None:
            missing += 1
        else:
            latencies.append(max(0.0, visible - at))
    return latencies, missing


def _p(values: list[float], q: float) -> str:
    return f"{np.percentile(values, q):.2f}" if values else "nan"


def result_line(hot: list[float], gold: list[float]) -> str:
    return (
        f"RESULT lake_latency hot_p95_s={_p(hot, 95)} gold_p50_s={_p(gold, 50)} "
        f"gold_p95_s={_p(gold, 95)} gold_max_s={f'{max(gold):.2f}' if gold else 'nan'}"
    )


class Publisher(threading.Thread):
    """Releases each station's readings in real time, one batch per station per interval."""

    def __init__(self, readings: pa.Table, org_of: dict[str, str], port: int, interval: float):
        super().__init__(daemon=True)
        self.stations = {
            s: readings.filter(pc.equal(readings["station_id"], s)).sort_by("seq") for s in org_of
        }
        self.org_of, self.interval = org_of, interval
        self.sent = dict.fromkeys(org_of, 0)
        self.published: list[Published] = []
        self.stop = threading.Event()
        self.client = make_client(MqttSettings(port=port), client_id="bench-hot-edge")
        connect_async(self.client, MqttSettings(port=port))
        self.client.loop_start()

    def run(self) -> None:
        while not self.stop.wait(self.interval):
            now = datetime.now(UTC)
            for station, table in self.stations.items():
                due = int(pc.sum(pc.less_equal(table["timestamp"], now)).as_py() or 0)
                if due <= self.sent[station]:
                    continue
                batch = table.slice(self.sent[station], due - self.sent[station])
                self.sent[station] = due
                first, last = batch["seq"][0].as_py(), batch["seq"][-1].as_py()
                meta = BatchMeta(
                    org_id=self.org_of[station], station_id=station,
                    batch_id=make_batch_id(station, first, last), first_seq=first,
                    last_seq=last, row_count=batch.num_rows, producer="bench-hot-edge",
                )  # fmt: skip
                payload = encode_batch(batch, meta)
                at = time.time()
                self.client.publish(
                    topic(meta.org_id, station, Kind.TELEMETRY), payload, qos=1
                ).wait_for_publish(30)
                newest = pc.max(batch["timestamp"]).as_py()
                self.published.append((station, meta.batch_id, newest, at))

    def close(self) -> None:
        self.stop.set()
        self.join()
        self.client.disconnect()
        self.client.loop_stop()


def _stats(values: list[float]) -> str:
    if not values:
        return "no samples"
    p50, p95 = np.percentile(values, [50, 95])
    return f"p50 {p50:.2f} s, p95 {p95:.2f} s, max {max(values):.2f} s (n={len(values)})"


def live_readings(
    work: Path, *, seconds: float, lead_s: float = 3.0
) -> tuple[dict[str, str], pa.Table]:
    """Each station's org in the default fleet, and `seconds` of the fleet's readings at 1 Hz starting
    `lead_s` from now (the simulator's `random` scenario, written under `work/sim`)."""
    fleet = load_fleet(FLEET)
    org_of = {station.id: fleet.org_of(station.id).id for station in fleet.stations()}
    start = datetime.fromtimestamp(int(time.time() + lead_s), UTC)
    scenario = load_scenario("random").with_overrides(
        name="latency", start=start.isoformat(), duration=int(seconds), resolution_s=1
    )
    write_history(Simulation(fleet, scenario), work / "sim")
    return org_of, pq.read_table(work / "sim" / "readings.parquet")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--warmup", type=float, default=10.0)
    parser.add_argument("--batch-interval", type=float, default=2.0, help="edge batch interval")
    parser.add_argument("--work", type=Path, default=REPO / "var" / "bench" / "latency_paths")
    args = parser.parse_args()
    work = fresh(args.work)
    broker = start_mosquitto(work)
    org_of, readings = live_readings(work, seconds=args.seconds + args.warmup + 30)
    settings = bench_settings(
        work, mqtt=MqttSettings(port=broker.port), pipeline={"seed_fleet": str(FLEET)}
    )
    serving = prepare_serving(settings)
    hotpath = HotPath(serving.engine)
    ingest = IngestWorker(settings, hotpath=hotpath)
    ingest.start()
    wait_for(ingest.connected.is_set, timeout=10, what="ingest to subscribe")
    poller = HotPoller(settings.database_url)
    poller.start()
    publisher = Publisher(readings, org_of, broker.port, args.batch_interval)
    print(f"edge batches every {args.batch_interval:g} s from {len(org_of)} stations; "
          f"load average {load_average()}")  # fmt: skip
    began = time.time()
    publisher.start()
    try:
        time.sleep(args.warmup + args.seconds)
        publisher.close()
        time.sleep(5.0)  # the last batches through
    finally:
        poller.stop.set()
        poller.join()
        ingest.stop()
        broker.stop()
    hot, missing = hot_latencies(poller, publisher.published, after=began + args.warmup)
    print(f"published {len(publisher.published)} batches; {missing} not on the hot path in time; "
          f"hot path failures {hotpath.counts.failed}, dropped {hotpath.counts.dropped}")  # fmt: skip
    print(f"published -> hot path in serving: {_stats(hot)}")
    print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    print(f"commit {commit()}")
    print(f"RESULT latency_paths hot_p50_s={_p(hot, 50)} hot_p95_s={_p(hot, 95)} "
          f"hot_max_s={f'{max(hot):.2f}' if hot else 'nan'} missing={missing}")  # fmt: skip
    return 0 if hot and not missing else 1


if __name__ == "__main__":
    sys.exit(main())
