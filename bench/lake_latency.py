"""End-to-end latency in continuous mode: batch published -> visible in the serving database.

    .venv/bin/python bench/lake_latency.py                          # 5 min, trigger 5 s
    .venv/bin/python bench/lake_latency.py --seconds 600 --trigger 10

A real mosquitto, hub ingest (`IngestWorker`, landing fsync'd files and acking),
the continuous pipeline (`ContinuousPipeline`, both streaming queries on the trigger
interval, serving sync after every silver/gold micro-batch) into a SQLite serving
database, all in this process on `local[2]`. A publisher stands in for the four
stations' edge agents: the simulator's readings of the default fleet (10
compressors, 1 Hz) are released in real time, and every `--batch-interval` seconds
each station publishes what it has as one telemetry batch (the edge's batch format,
QoS 1, its own topic). A poller reads `station_freshness.last_reading_at` from the
serving database every 0.2 s; a batch is visible when its station's newest reading
there has reached the batch's newest reading (the serving sync writes an org's rows
in one transaction, so its aggregates, minutes, status and episodes are visible too).

Two paths, reported apart (docs/lakehouse.md): the *gold path* above, and the *hot
path*: ingest's direct write of each compressor's newest values and the station's
freshness (`station_latest`, hub/ingest/hotpath.py), polled the same way.

Latency = visible - published, and visible - landed (the landing file's mtime).
Batches published in the first `--warmup` seconds are left out (JIT, query start). The
last line is `RESULT lake_latency hot_p95_s=<s> gold_p50_s=<s> gold_p95_s=<s> gold_max_s=<s>`.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import commit
from bench.edge_common import start_mosquitto, wait_for
from bench.lake_common import REPO, bench_settings, fresh, load_average
from bench.latency_paths import (
    HotPoller,
    Publisher,
    _stats,
    hot_latencies,
    live_readings,
    result_line,
)
from hub.ingest.hotpath import HotPath
from hub.ingest.worker import IngestWorker
from hub.lakehouse.pipeline import ContinuousPipeline
from hub.lakehouse.spark import build_spark
from hub.serving.models import StationFreshness
from hub.serving.sync import prepare_serving
from shared.mqtt import MqttSettings

FLEET = REPO / "config" / "fleet.yaml"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=300.0)
    parser.add_argument("--warmup", type=float, default=60.0)
    parser.add_argument("--trigger", type=float, default=5.0, help="pipeline trigger interval")
    parser.add_argument("--batch-interval", type=float, default=5.0, help="edge batch interval")
    parser.add_argument("--work", type=Path, default=REPO / "var" / "bench" / "lake_latency")
    args = parser.parse_args()
    work = fresh(args.work)
    broker = start_mosquitto(work)
    total_s = int(args.seconds + args.warmup + 120)
    org_of, readings = live_readings(work, seconds=total_s, lead_s=5.0)
    settings = bench_settings(
        work,
        mqtt=MqttSettings(port=broker.port),
        pipeline={"trigger_interval_s": args.trigger, "seed_fleet": str(FLEET)},
    )
    serving = prepare_serving(settings)
    ingest = IngestWorker(settings, hotpath=HotPath(serving.engine))
    ingest.start()
    wait_for(ingest.connected.is_set, timeout=10, what="ingest to subscribe")
    spark = build_spark(settings.spark, app_name="altaviz-bench-latency")
    pipeline = ContinuousPipeline(spark, settings, after_commit=serving)
    pipeline.start()
    poller = HotPoller(settings.database_url, every_s=0.2, table=StationFreshness)  # gold path
    poller.start()
    hot = HotPoller(settings.database_url)
    hot.start()
    publisher = Publisher(readings, org_of, broker.port, args.batch_interval)
    print(f"trigger {args.trigger:g} s, edge batches every {args.batch_interval:g} s, "
          f"{readings.num_rows // total_s} readings/s; load average {load_average()}")  # fmt: skip
    began = time.time()
    publisher.start()
    try:
        while time.time() - began < args.warmup + args.seconds:
            pipeline.poll()
            time.sleep(1.0)
        publisher.close()
        # Let the last batches through.
        deadline = time.time() + 120
        while time.time() < deadline and any(
            poller.visible_at(s, newest) is None for s, _, newest, _ in publisher.published
        ):
            pipeline.poll()
            time.sleep(1.0)
    finally:
        poller.stop.set()
        poller.join()
        hot.stop.set()
        hot.join()
        pipeline.stop()
        ingest.stop()
        broker.stop()
    landed = {p.stem: p.stat().st_mtime for p in settings.landing_dir.rglob("*.parquet")}
    from_publish, from_landing, missing = [], [], 0
    for station, batch_id, newest, at in publisher.published:
        if at - began < args.warmup:
            continue
        visible = poller.visible_at(station, newest)
        if visible is None:
            missing += 1
            continue
        from_publish.append(visible - at)
        if batch_id in landed:
            from_landing.append(visible - landed[batch_id])
    batches = [r for r in pipeline.lakehouse.micro_batch.results if r.readings]
    durations = [r.seconds for r in batches]
    names = dict.fromkeys(name for r in batches for name in r.steps)
    steps = {name: [r.steps.get(name, 0.0) for r in batches] for name in names}
    spark.stop()
    print(f"published {len(publisher.published)} batches ({len(from_publish)} after warm-up); "
          f"{missing} not visible within 120 s of the end")  # fmt: skip
    print(f"published -> visible in serving: {_stats(from_publish)}")
    print(f"landed    -> visible in serving: {_stats(from_landing)}")
    print(f"silver/gold micro-batches: {len(durations)}, duration {_stats(durations)}")
    if steps:
        print("  median seconds per step: " + ", ".join(
            f"{name} {np.median(values):.1f}" for name, values in steps.items()))  # fmt: skip
    hot_paths, hot_missing = hot_latencies(hot, publisher.published, after=began + args.warmup)
    print(f"published -> hot path (station_latest): {_stats(hot_paths)}; {hot_missing} never")
    print(f"load average after: {load_average()}")
    uptime = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print(f"commit {commit()}; uptime: {uptime}")
    print(result_line(hot_paths, from_publish))
    return 0 if from_publish and not missing else 1


if __name__ == "__main__":
    sys.exit(main())
