"""Sustained load: edge batches at fleet scale through broker, ingest and the continuous pipeline.

    .venv/bin/python bench/lake_soak.py                          # 3,000 x 10 x 1 Hz, 60 min
    .venv/bin/python bench/lake_soak.py --stations 20 --minutes 2   # a small check

A publisher process stands in for `--stations` edge agents with `--compressors`
units each at 1 Hz (bench/soak_load.py): every `--batch-interval` seconds each
station publishes its new readings as one telemetry batch (the edge's batch format,
QoS 1, its own topic), the stations spread evenly over the interval. A real
mosquitto carries them (max_queued_messages set to `--broker-queue-s` seconds of
the whole fleet's messages; what it drops is read from $SYS and printed); the real
hub ingest (`IngestWorker`, `--ingest-workers` processes on the shared subscription)
lands them; `ContinuousPipeline` (`hub.lakehouse.pipeline`, this process, local[2],
the trigger interval of config/hub.yaml unless `--trigger`) takes them through
bronze, silver and gold into the SQLite serving database (`--no-serving`: gold only).
The generated stations are in the hub's fleet file (work dir), as real ones are.

Pipeline lag, sampled every `--sample-s` seconds: per station, the newest reading
the broker has acknowledged minus the newest reading in gold (gold/station_freshness
read with delta-rs) or in the serving database (station_freshness); a sample is the
worst station's lag (bench/soak_checks.py `LagSampler`: how long the station's oldest
published batch not yet visible has waited, so the batch interval itself is not lag).
Samples of the first `--warmup` seconds of publishing (JVM warm-up, first micro-batch)
are reported apart. After publishing the bench keeps sampling until the pipeline has
caught up (the last batches' wait counts), stops it, and reads silver with delta-rs:
every published (station, seq) must be there exactly once (lost and duplicated, both
must be 0).

CPU (seconds, and cores on average) and peak resident memory (sampled) of the hub's
processes: ingest, the driver (this process: pipeline, serving sync, and the bench's own
sampling, a few delta-rs and SQLite reads every `--sample-s`), the JVM and Spark's
Python workers; the publisher and the broker are reported apart.

The default batch interval, 30 s (100 batches/s from 3,000 stations, 300 readings each),
is six times fewer messages than the edge's default batch age of 5 s (600 batches/s of
50 readings: every one decoded, validated and fsync'd by ingest and one landing file for
the pipeline's file source); `--batch-interval 5 --ingest-workers 2` measures that.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import commit
from bench.lake_common import REPO, bench_settings, fresh, load_average
from bench.soak_checks import (
    BrokerStats,
    LagSampler,
    drained,
    ingest_processes,
    silver_counts,
    stop_processes,
)
from bench.soak_load import LoadPlan, Resources, start_publisher, write_fleet
from hub.lakehouse.pipeline import ContinuousPipeline
from hub.lakehouse.spark import build_spark
from hub.serving.sync import prepare_serving
from shared.mqtt import MqttSettings
from tests.support.services import Mosquitto, mosquitto_binary

LAG_LIMIT_S = 60.0


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stations", type=int, default=3000)
    parser.add_argument("--compressors", type=int, default=10)
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--batch-interval", type=int, default=30, help="edge batch interval, s")
    parser.add_argument("--trigger", type=float, help="pipeline trigger interval, s")
    parser.add_argument("--ingest-workers", type=int, default=1)
    parser.add_argument("--broker-queue-s", type=float, default=600.0)
    parser.add_argument("--warmup", type=float, default=60.0)
    parser.add_argument("--sample-s", type=float, default=5.0)
    parser.add_argument("--report-s", type=float, default=60.0)
    parser.add_argument("--drain-s", type=float, default=300.0)
    parser.add_argument("--no-serving", action="store_true")
    parser.add_argument("--work", type=Path, default=REPO / "var" / "bench" / "lake_soak")
    return parser.parse_args()


def _stats(values: list[float]) -> str:
    if not values:
        return "no samples"
    p50, p95 = np.percentile(values, [50, 95])
    return f"p50 {p50:.1f} s, p95 {p95:.1f} s, max {max(values):.1f} s (n={len(values)})"


def _cpu_line(before: dict[str, float], after: dict[str, float], seconds: float) -> str:
    groups = ("ingest", "driver", "jvm", "spark python workers", "publisher", "broker")
    return ", ".join(
        f"{g} {100 * (after.get(g, 0) - before.get(g, 0)) / seconds:.0f}%" for g in groups
    )


def main() -> int:
    args = _arguments()
    if mosquitto_binary() is None:
        sys.exit("mosquitto is required (apt-get install -y mosquitto)")
    work = fresh(args.work)
    import hub.lakehouse

    print(f"commit {commit()}; hub.lakehouse from {Path(hub.lakehouse.__file__).parent}")
    print(
        "uptime before:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    )
    fleet_file = work / "fleet.yaml"
    stations = write_fleet(
        fleet_file, stations=args.stations, compressors=args.compressors,
        base=REPO / "config" / "fleet.yaml",
    )  # fmt: skip
    batches_per_s = args.stations / args.batch_interval
    # Deliberate: room for `broker_queue_s` of the whole fleet's batches while ingest is
    # behind; past that mosquitto drops QoS 1 messages for it (counted below, not silent).
    queue = max(1000, int(batches_per_s * args.broker_queue_s))
    broker = Mosquitto(
        work / "mosquitto", extra_config=f"max_queued_messages {queue}\nsys_interval 2\n"
    ).start()
    pipeline_overrides: dict[str, Any] = {"seed_fleet": str(fleet_file)}
    if args.trigger is not None:
        pipeline_overrides["trigger_interval_s"] = args.trigger
    settings = bench_settings(
        work, mqtt=MqttSettings(port=broker.port), pipeline=pipeline_overrides
    )
    serving = None if args.no_serving else prepare_serving(settings)
    ingest, ingest_stop = ingest_processes(settings, args.ingest_workers)
    spark = build_spark(settings.spark, app_name="altaviz-bench-soak")
    pipeline = ContinuousPipeline(spark, settings, after_commit=serving)
    pipeline.start()
    broker_stats = BrokerStats(broker.port)

    start_s = int(time.time()) + 2
    end_s = start_s + int(args.minutes * 60) // args.batch_interval * args.batch_interval
    plan = LoadPlan(
        port=broker.port, stations=stations, interval_s=args.batch_interval,
        start_s=start_s, end_s=end_s, ranges_file=work / "published.npz",
    )  # fmt: skip
    rate = args.stations * args.compressors
    print(f"{args.stations} stations x {args.compressors} compressors x 1 Hz = {rate:,} readings/s"
          f" for {args.minutes:g} min; a batch per station every {args.batch_interval} s "
          f"({batches_per_s:.3g} batches/s, {args.batch_interval * args.compressors} readings "
          f"each); trigger {settings.pipeline.trigger_interval_s:g} s; {args.ingest_workers} "
          f"ingest worker(s); broker max_queued_messages {queue}; serving "
          f"{'off' if serving is None else 'SQLite'}")  # fmt: skip
    publisher, progress = start_publisher(plan)
    roles = {p.pid or 0: "ingest" for p in ingest}
    roles[publisher.pid or 0] = "publisher"
    resources = Resources(roles)
    sampler = LagSampler(settings, plan, progress, with_serving=serving is not None)
    publish_began = float(start_s + args.batch_interval)
    report_at = publish_began + args.report_s
    cpu_before, last_report = resources.cpu_seconds(), time.time()
    readings_before = 0
    failure: str | None = None
    try:
        while not progress.done.is_set() or not drained(sampler):
            pipeline.poll()
            sampler.sample(in_warmup=time.time() < publish_began + args.warmup)
            resources.sample()
            now = time.time()
            if now >= report_at:
                cpu_now, published = resources.cpu_seconds(), progress.readings.value
                window = sampler.window(last_report)
                rate_now = (published - readings_before) / (now - last_report)
                doing = "draining" if progress.done.is_set() else f"{rate_now:,.0f} readings/s"
                cpu_line = _cpu_line(cpu_before, cpu_now, now - last_report)
                print(f"{(now - publish_began) / 60:5.1f} min: {doing}; lag {_stats(window)}; "
                      f"cpu {cpu_line}; load {load_average()}", flush=True)  # fmt: skip
                cpu_before, last_report, readings_before = cpu_now, now, published
                report_at += args.report_s
            if progress.done.is_set() and now > end_s + args.drain_s:
                failure = f"the pipeline did not catch up within {args.drain_s:g} s of the end"
                break
            if not publisher.is_alive() and not progress.done.is_set():
                failure = "the publisher died"
                break
            time.sleep(args.sample_s)
    except Exception as exc:  # report what we have: the query failed mid-run
        failure = f"{type(exc).__name__}: {exc}"
    finally:
        dropped = broker_stats.dropped()
        pipeline.stop()
        stop_processes(ingest, ingest_stop)
        publisher.join(timeout=180)
        broker.stop()
        spark.stop()
    caught_up = time.time()
    print(
        f"publishing ended {datetime.fromtimestamp(end_s, UTC):%H:%M:%S} UTC; pipeline caught "
        f"up {caught_up - end_s:.0f} s later"
        if failure is None
        else f"FAILED: {failure}"
    )
    published_readings = int(progress.readings.value)
    publish_seconds = end_s - publish_began + args.batch_interval
    achieved = published_readings / publish_seconds
    print(
        f"published {published_readings:,} readings in {progress.batches.value:,} batches "
        f"(broker-acknowledged), {achieved:,.0f} readings/s; publisher at worst "
        f"{progress.behind_s.value:.1f} s behind schedule; broker dropped {dropped}"
    )
    counts = silver_counts(settings, stations, plan.ranges_file)
    print(
        f"landed {counts.landed:,} readings in {counts.landing_files:,} files "
        f"({counts.quarantined} quarantined); bronze {counts.bronze_rows:,} rows"
    )
    print(
        f"silver (delta-rs) against the published ranges: {counts.rows:,} rows; lost "
        f"{counts.lost:,}, duplicated {counts.duplicated:,}, never published {counts.unexpected:,}"
    )
    if failure is not None:
        print("  (the pipeline had not caught up: what was still on its way counts as lost)")
    print(f"lag to gold (worst station), warm-up excluded: {_stats(sampler.gold)}")
    if serving is not None:
        print(f"lag to serving (worst station), warm-up excluded: {_stats(sampler.serving)}")
    lags = sampler.serving if serving is not None else sampler.gold
    print(f"during the {args.warmup:g} s warm-up: lag {_stats(sampler.warmup)}")
    within = bool(lags) and max(lags) < LAG_LIMIT_S
    print(f"lag < {LAG_LIMIT_S:g} s throughout (after warm-up): {'yes' if within else 'NO'}")
    cpu, wall = resources.cpu_seconds(), time.monotonic() - resources.started
    for group in ("ingest", "driver", "jvm", "spark python workers", "hub total", "publisher",
                  "broker"):  # fmt: skip
        print(f"  {group:22s} cpu {cpu.get(group, 0):8.0f} s = {cpu.get(group, 0) / wall:4.2f} "
              f"cores; peak rss {resources.peak_rss.get(group, 0) / 2**20:7.0f} MiB")  # fmt: skip
    micro = [r for r in getattr(pipeline.lakehouse.micro_batch, "results", []) if r.readings]
    if micro:
        print(f"micro-batches: {len(micro)}, median {statistics.median(r.seconds for r in micro):.1f}"
              f" s, max {max(r.seconds for r in micro):.1f} s")  # fmt: skip
    print(
        "uptime after:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    )
    p95 = float(np.percentile(lags, 95)) if lags else float("nan")
    lag_max = max(lags) if lags else float("nan")
    print(
        f"RESULT lake_soak minutes={args.minutes:g} rate={achieved:.0f} lag_p95_s={p95:.1f} "
        f"lag_max_s={lag_max:.1f} lost={counts.lost} duplicated={counts.duplicated}"
    )
    ok = failure is None and within and counts.lost == 0 and counts.duplicated == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
