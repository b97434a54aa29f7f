"""A small micro-batch's cost: the 7-day scenario landed in steps, one `run_once` per step.

    .venv/bin/python bench/lake_steps.py                            # 4 steps of 12 h
    .venv/bin/python bench/lake_steps.py --small-batch-readings 0   # always shuffle_partitions

What the demo and a continuous run pay per lake cycle: the default fleet (10
compressors, one reading a minute, the prototype-7day scenario) landed as the stations
would send it, `--step-h` simulated hours at a time, each step then worked through
bronze, silver, gold and a SQLite serving database by one `run_once` (cold JVM on the
first step: the figure that counts is the median of the later ones). Each step's
micro-batch logs its steps' seconds. The reference, timed in the same run: the same
gold minute and hourly aggregates of that step's readings by one DuckDB query
(bench/lake_throughput.py `duckdb_reference`). The last line is
`RESULT lake_steps steps=<n> readings_per_step=<n> spark_s=<median after the first>
duckdb_s=<median> ratio=<spark/duckdb> small_batch_readings=<n>`.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import commit
from bench.lake_common import REPO, bench_settings, fresh, load_average
from bench.lake_throughput import duckdb_reference
from hub.ingest.landing import LandingZone
from hub.lakehouse.backfill import land_history
from hub.lakehouse.pipeline import run_once
from hub.lakehouse.spark import build_spark
from hub.serving.sync import prepare_serving
from shared.fleet import load_fleet
from simulator.engine import Simulation
from simulator.history import write_history
from simulator.scenario import load_scenario

FLEET = REPO / "config" / "fleet.yaml"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--step-h", type=float, default=12.0, help="simulated hours per step")
    parser.add_argument(
        "--small-batch-readings", type=int, default=None,
        help="spark.small_batch_readings (default: config/hub.yaml's)",
    )  # fmt: skip
    parser.add_argument("--work", type=Path, default=REPO / "var" / "bench" / "lake_steps")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("hub.lakehouse.batch").setLevel(logging.INFO)  # each step's seconds
    work = fresh(args.work)
    fleet = load_fleet(FLEET)
    scenario = load_scenario("prototype-7day")
    write_history(Simulation(fleet, scenario), work / "sim")
    table = pq.read_table(work / "sim" / "readings.parquet")
    spark_conf = {}
    if args.small_batch_readings is not None:
        spark_conf["small_batch_readings"] = args.small_batch_readings
    settings = bench_settings(
        work,
        pipeline={"late_horizon_h": 1e6, "seed_fleet": str(FLEET)},
        quality={"expected_interval_s": float(scenario.resolution_s)},
        spark=spark_conf,
    )
    zone = LandingZone(settings.landing_dir, settings.quarantine_dir)
    spark = build_spark(settings.spark, app_name="altaviz-bench-steps")
    serving = prepare_serving(settings)
    first = pc.min(table["timestamp"]).as_py()
    stamps = table["timestamp"]
    spark_s: list[float] = []
    duckdb_s: list[float] = []
    sizes: list[int] = []
    for step in range(args.steps):
        low = pa.scalar(first + timedelta(hours=args.step_h * step), stamps.type)
        high = pa.scalar(first + timedelta(hours=args.step_h * (step + 1)), stamps.type)
        rows = table.filter(pc.and_(pc.greater_equal(stamps, low), pc.less(stamps, high)))
        step_dir = work / "steps" / f"{step:03d}"
        step_dir.mkdir(parents=True)
        pq.write_table(rows, step_dir / "readings.parquet")
        land_history(step_dir, zone, fleet=fleet)
        started = time.perf_counter()
        run_once(spark, settings, after_commit=serving)
        spark_s.append(time.perf_counter() - started)
        duckdb_s.append(duckdb_reference(step_dir)[0])
        sizes.append(rows.num_rows)
        print(f"step {step}: {rows.num_rows:,} readings; run_once {spark_s[-1]:.1f} s, "
              f"DuckDB reference {duckdb_s[-1] * 1000:.0f} ms", flush=True)  # fmt: skip
    later = spark_s[1:] or spark_s
    spark_median, duckdb_median = statistics.median(later), statistics.median(duckdb_s)
    print(f"load average {load_average()}; commit {commit()}")
    print(f"RESULT lake_steps steps={args.steps} readings_per_step={int(statistics.median(sizes))} "
          f"spark_s={spark_median:.1f} duckdb_s={duckdb_median:.3f} "
          f"ratio={spark_median / duckdb_median:.0f} "
          f"small_batch_readings={settings.spark.small_batch_readings}")  # fmt: skip
    spark.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
