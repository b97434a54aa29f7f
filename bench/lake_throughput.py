"""Lakehouse throughput: landing -> bronze -> silver -> gold, in readings per second.

    .venv/bin/python bench/lake_throughput.py                      # 10,000,000 readings
    .venv/bin/python bench/lake_throughput.py --readings 1000000   # a smaller run

The simulator generates the readings of the 1,000-compressor fleet
(config/fleet-1000.yaml, scenario `random`) at 1 Hz, ending a few minutes ago, so
the pipeline sees them as recent data (no late-arrival flags). They are landed as
telemetry batches of 10,000 readings (as the edge sends them, `altaviz-hub lake
backfill`), then `run_once` takes them through bronze, silver (dedup, every quality
rule) and gold (features, aggregates, baselines, episodes, health, freshness, data
quality) on `local[2]`. The serving database is left out: this measures the lake.

Throughput = readings / wall time of the streaming query (Spark start-up, simulation
and landing excluded, and printed separately). In the same run the bench times a plain
reference: the gold minute and hourly aggregates (count, exact sums, min, max per
sensor) computed from the same landing files by one DuckDB query with deduplication
on (station, compressor, timestamp), on the same two threads; the last line is
`RESULT lake_throughput readings=<n> spark_rps=<r> duckdb_rps=<r> ratio=<duckdb/spark>`.
"""

from __future__ import annotations

import argparse
import math
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import commit
from bench.lake_common import REPO, bench_settings, fresh, load_average, timed
from hub.ingest.landing import LandingZone
from hub.lakehouse.backfill import land_history
from hub.lakehouse.io import Lake
from hub.lakehouse.pipeline import run_once
from hub.lakehouse.spark import build_spark
from hub.lakehouse.tables import ALERT_EPISODES, BRONZE_READINGS, FEATURES_1M, SILVER_READINGS
from shared.fleet import load_fleet
from shared.schema import SENSOR_FIELDS
from simulator.engine import Simulation
from simulator.history import write_history
from simulator.scenario import load_scenario

FLEET = REPO / "config" / "fleet-1000.yaml"


def duckdb_reference(landing: Path, threads: int = 2) -> tuple[float, int, int]:
    """(seconds, minute rows, hour rows): the same aggregates as gold, by one DuckDB query."""
    import duckdb

    per_sensor = ", ".join(
        f"count({s}) AS {s}_n, sum(round({s} * 1000)::BIGINT) AS {s}_sum_milli, "
        f"min({s}) AS {s}_min, max({s}) AS {s}_max"
        for s in SENSOR_FIELDS
    )
    per_hour = ", ".join(
        f"sum({s}_n) AS {s}_n, sum({s}_sum_milli) AS {s}_sum_milli, "
        f"min({s}_min) AS {s}_min, max({s}_max) AS {s}_max"
        for s in SENSOR_FIELDS
    )
    files = str(landing / "**" / "*.parquet")
    query = f"""
        CREATE TEMP TABLE minutes AS
        WITH readings AS (
            SELECT * FROM read_parquet('{files}', hive_partitioning = false)
            QUALIFY row_number() OVER (
                PARTITION BY station_id, compressor_id, timestamp ORDER BY seq) = 1
        )
        SELECT station_id, compressor_id, date_trunc('minute', timestamp) AS minute_start,
               count(*) AS n_readings, {per_sensor}
        FROM readings GROUP BY ALL;
        CREATE TEMP TABLE hours AS
        SELECT station_id, compressor_id, date_trunc('hour', minute_start) AS hour_start,
               sum(n_readings) AS n_readings, {per_hour}
        FROM minutes GROUP BY ALL;
    """
    connection = duckdb.connect()
    connection.execute(f"SET threads = {threads}")
    connection.execute("SET enable_progress_bar = false")
    started = time.perf_counter()
    connection.execute(query)
    seconds = time.perf_counter() - started
    minutes = connection.execute("SELECT count(*) FROM minutes").fetchone()[0]  # type: ignore[index]
    hours = connection.execute("SELECT count(*) FROM hours").fetchone()[0]  # type: ignore[index]
    return seconds, int(minutes), int(hours)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readings", type=int, default=10_000_000)
    parser.add_argument("--fleet", type=Path, default=FLEET)
    parser.add_argument("--rows-per-batch", type=int, default=10_000)
    parser.add_argument("--work", type=Path, default=REPO / "var" / "bench" / "lake_throughput")
    args = parser.parse_args()
    work = fresh(args.work)
    times: dict[str, float] = {}
    fleet = load_fleet(args.fleet)
    units = sum(1 for _ in fleet.compressors())
    seconds = math.ceil(args.readings / units)
    now = int(datetime.now(UTC).timestamp())
    start = datetime.fromtimestamp(now - seconds - 300, UTC).replace(microsecond=0)
    scenario = load_scenario("random").with_overrides(
        name="throughput", start=start.isoformat(), duration=seconds, resolution_s=1
    )
    print(f"{units} compressors x {seconds} s at 1 Hz from {start:%Y-%m-%d %H:%M} UTC")
    with timed(times, "simulate"):
        write_history(Simulation(fleet, scenario), work / "sim")
    settings = bench_settings(work, pipeline={"seed_fleet": str(args.fleet)})
    with timed(times, "land"):
        zone = LandingZone(settings.landing_dir, settings.quarantine_dir)
        batches, readings = land_history(
            work / "sim", zone, fleet=fleet, rows_per_batch=args.rows_per_batch
        )
    print(f"landed {readings:,} readings in {batches:,} batches "
          f"(simulate {times['simulate']:.0f} s, land {times['land']:.0f} s)")  # fmt: skip
    print(f"load average before: {load_average()}")
    with timed(times, "spark"):
        spark = build_spark(settings.spark, app_name="altaviz-bench-throughput")
    began = time.perf_counter()

    def progress(_spark, output) -> None:  # type: ignore[no-untyped-def]
        steps = ", ".join(f"{k} {v:.0f}" for k, v in output.steps.items())
        print(f"  silver/gold micro-batch {output.batch_id}: {output.readings:,} readings, "
              f"{time.perf_counter() - began:.0f} s since start ({steps})", flush=True)  # fmt: skip

    with timed(times, "pipeline"):
        run = run_once(spark, settings, after_commit=progress)
    lake = Lake(spark, settings.lake_root)
    bronze, silver = lake.count(BRONZE_READINGS), lake.count(SILVER_READINGS)
    minutes, episodes = lake.count(FEATURES_1M), lake.count(ALERT_EPISODES)
    spark.stop()
    total = times["pipeline"]
    print(f"\nSpark {settings.spark.master} ready in {times['spark']:.1f} s")
    print(f"{run.batches} micro-batch(es): bronze {run.bronze_seconds:.1f} s (landing read once, "
          f"append), silver+gold {run.silver_gold_seconds:.1f} s")  # fmt: skip
    print(f"landing -> bronze -> silver -> gold: {readings:,} readings in {total:.1f} s = "
          f"{readings / total:,.0f} readings/s")  # fmt: skip
    print(f"tables: bronze {bronze:,}, silver {silver:,}, gold features_1m {minutes:,} "
          f"compressor-minutes, {episodes} alert episode(s)")  # fmt: skip
    print(f"load average after: {load_average()}")
    reference_s, ref_minutes, ref_hours = duckdb_reference(settings.landing_dir)
    spark_rps, duckdb_rps = readings / total, readings / reference_s
    print(f"reference: one DuckDB query (dedup + minute and hourly aggregates, 2 threads) "
          f"{reference_s:.1f} s = {duckdb_rps:,.0f} readings/s; {ref_minutes:,} minutes "
          f"(gold has {minutes:,}), {ref_hours:,} hours")  # fmt: skip
    print(f"commit {commit()}; uptime:",
          subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())  # fmt: skip
    ok = bronze == readings and silver == readings and ref_minutes == minutes
    if not ok:
        print("MISMATCH: bronze and silver should each hold every landed reading once, "
              "and gold as many minutes as the reference")  # fmt: skip
    print(f"RESULT lake_throughput readings={readings} spark_rps={spark_rps:.0f} "
          f"duckdb_rps={duckdb_rps:.0f} ratio={duckdb_rps / spark_rps:.1f}")  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    started = time.perf_counter()
    code = main()
    print(f"total {timedelta(seconds=round(time.perf_counter() - started))}")
    sys.exit(code)
