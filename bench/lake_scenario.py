"""The prototype's 7-day scenario through the lakehouse, judged against the simulator's truth.

    .venv/bin/python bench/lake_scenario.py                     # prototype-7day
    .venv/bin/python bench/lake_scenario.py --scenario my.yaml

Generates the run with the simulator, lands it as telemetry batches (`altaviz-hub lake
backfill`), runs the pipeline once into Delta and a SQLite serving database, then
prints every alert episode with what the ground truth says it is: an equipment fault
on a failing unit, a labelled sensor fault, or unexplained (a false alarm). Then
what silver flagged inside each labelled sensor fault, and whether every reading of
the failing units arrived in silver unchanged.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
from pyspark.sql import functions as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.lake_common import REPO, bench_settings, fresh, load_average, timed
from hub.ingest.landing import LandingZone
from hub.lakehouse.backfill import land_history
from hub.lakehouse.flags import ReadingRule, SensorRule
from hub.lakehouse.io import Lake
from hub.lakehouse.pipeline import run_once
from hub.lakehouse.report import print_alert_report
from hub.lakehouse.spark import build_spark
from hub.lakehouse.tables import ALERT_EPISODES, SILVER_READINGS
from hub.serving.sync import prepare_serving
from shared.fleet import load_fleet
from simulator.engine import Simulation
from simulator.history import write_history
from simulator.scenario import load_scenario

#: An episode counts as "on" a labelled sensor fault if it starts this close to it.
SENSOR_MARGIN = timedelta(minutes=30)
#: Silver bit that should catch each sensor-fault kind (sensor-level or reading-level).
CATCHES = {
    "stuck": ("sensor", SensorRule.STUCK),
    "dropout": ("reading", ReadingRule.COMM_LOSS),
    "clock_skew": ("reading", ReadingRule.CLOCK_SKEW),
    "spike": ("sensor", SensorRule.INSTRUMENT | SensorRule.RATE | SensorRule.RANGE),
    "drift": ("sensor", SensorRule.RANGE),
}


def _naive(moment: datetime) -> datetime:
    return moment.replace(tzinfo=None) if moment.tzinfo else moment


def classify(episode, faults: list[dict], sensor_faults: list[dict]) -> str:  # type: ignore[no-untyped-def,type-arg]
    start = episode.first_seen_at
    for fault in faults:
        end = fault["repair"] or datetime.max.replace(tzinfo=fault["onset"].tzinfo)
        if fault["compressor_id"] == episode.compressor_id and _naive(
            fault["onset"]
        ) <= start < _naive(end):
            return f"equipment fault ({fault['fault_mode']})"
    for fault in sensor_faults:
        target = fault["compressor_id"] == episode.compressor_id or (
            fault["compressor_id"] is None and fault["station_id"] == episode.station_id
        )
        window_start = _naive(fault["start"]) - SENSOR_MARGIN
        if target and window_start <= start < _naive(fault["end"]) + SENSOR_MARGIN:
            return f"sensor fault ({fault['kind']})"
    return "UNEXPLAINED"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="prototype-7day")
    parser.add_argument("--work", type=Path, default=REPO / "var" / "bench" / "lake_scenario")
    args = parser.parse_args()
    work = fresh(args.work)
    times: dict[str, float] = {}
    fleet = load_fleet(REPO / "config" / "fleet.yaml")
    scenario = load_scenario(args.scenario)
    with timed(times, "simulate"):
        write_history(Simulation(fleet, scenario), work / "sim")
    settings = bench_settings(
        work,
        # History is old on arrival by definition: a horizon that covers it.
        pipeline={"late_horizon_h": 1e6, "seed_fleet": str(REPO / "config" / "fleet.yaml")},
        quality={"expected_interval_s": float(scenario.resolution_s)},
    )
    with timed(times, "land"):
        zone = LandingZone(settings.landing_dir, settings.quarantine_dir)
        batches, readings = land_history(work / "sim", zone, fleet=fleet)
    spark = build_spark(settings.spark, app_name="altaviz-bench-scenario")
    with timed(times, "pipeline"):
        run = run_once(spark, settings, after_commit=prepare_serving(settings))
    lake = Lake(spark, settings.lake_root)

    print(f"scenario {scenario.name}: {readings} readings in {batches} batches, "
          f"{run.silver_batches} silver/gold micro-batch(es)")  # fmt: skip
    faults = pq.read_table(work / "sim" / "equipment_faults.parquet").to_pylist()
    sensor_faults = pq.read_table(work / "sim" / "sensor_faults.parquet").to_pylist()
    failing = sorted({f["compressor_id"] for f in faults})
    episodes = lake.read(ALERT_EPISODES).orderBy("compressor_id", "first_seen_at").collect()
    labels = [classify(e, faults, sensor_faults) for e in episodes]
    print(f"\nalert episodes: {len(episodes)}")
    for episode, label in zip(episodes, labels, strict=True):
        closed = episode.closed_at.strftime("%m-%d %H:%M") if episode.closed_at else "open"
        print(f"  {episode.compressor_id:<9} {episode.condition:<32} {episode.severity:<8} "
              f"{episode.first_seen_at:%m-%d %H:%M} -> {closed:<11}  peak {episode.peak_value:8.2f}  {label}")  # fmt: skip
    on_failing = sum(label.startswith("equipment") for label in labels)
    on_sensor = sum(label.startswith("sensor") for label in labels)
    unexplained = sum(label == "UNEXPLAINED" for label in labels)
    noisy = sorted(
        {e.compressor_id for e, lab in zip(episodes, labels, strict=True) if lab == "UNEXPLAINED"}
    )
    print(f"  on failing units ({', '.join(failing)}): {on_failing}; on labelled sensor faults: "
          f"{on_sensor}; unexplained: {unexplained} {noisy or ''}")  # fmt: skip
    for fault in faults:
        first = [e for e, lab in zip(episodes, labels, strict=True)
                 if e.compressor_id == fault["compressor_id"] and lab.startswith("equipment")]  # fmt: skip
        if first and fault["failure_in_run"]:
            lead = _naive(fault["failure"]) - min(e.opened_at for e in first)
            print(f"  {fault['compressor_id']} {fault['fault_mode']}: first alert "
                  f"{lead.total_seconds() / 3600:.1f} h before the trip")  # fmt: skip
        elif first:
            print(
                f"  {fault['compressor_id']} {fault['fault_mode']}: alerted, failure after the run"
            )
        else:
            print(f"  {fault['compressor_id']} {fault['fault_mode']}: NO ALERT")

    silver = lake.read(SILVER_READINGS)
    print("\nsilver flags inside labelled sensor faults:")
    for fault in sensor_faults:
        level, bit = CATCHES[fault["kind"]]
        rows = silver.filter(
            (F.col("timestamp") >= _naive(fault["start"]))
            & (F.col("timestamp") < _naive(fault["end"]))
        )
        if fault["compressor_id"] is not None:
            rows = rows.filter(F.col("compressor_id") == fault["compressor_id"])
        else:
            rows = rows.filter(F.col("station_id") == fault["station_id"])
        column = (
            "rule_flags" if level == "reading" else f"{fault['sensor'] or 'vibration_mms'}_flags"
        )
        flagged = rows.filter(F.col(column).bitwiseAND(int(bit)) != 0).count()
        where = fault["compressor_id"] or fault["station_id"]
        print(f"  {fault['kind']:<10} {where:<11} {fault['sensor'] or '':<22} "
              f"{flagged:>5} of {rows.count():>5} readings flagged")  # fmt: skip
    sent = pq.read_table(work / "sim" / "readings.parquet")
    for compressor in failing:
        mine = sent.filter(pc.equal(sent["compressor_id"], compressor))
        kept = silver.filter(F.col("compressor_id") == compressor)
        same = kept.select("seq", *[c for c in ("discharge_temp_f", "vibration_mms")]).collect()
        expected = sorted(zip(mine["seq"].to_pylist(), mine["discharge_temp_f"].to_pylist(),
                              mine["vibration_mms"].to_pylist(), strict=True))  # fmt: skip
        unchanged = sorted((r.seq, r.discharge_temp_f, r.vibration_mms) for r in same) == expected
        print(f"  {compressor}: {kept.count()} of {mine.num_rows} readings in silver, values "
              f"{'unchanged' if unchanged else 'CHANGED'}")  # fmt: skip

    print("\n`altaviz-hub lake report`:")
    print_alert_report(lake, sys.stdout)
    print(f"\ntimes: simulate {times['simulate']:.1f}s, land {times['land']:.1f}s, "
          f"pipeline {times['pipeline']:.1f}s; load average {load_average()}")  # fmt: skip
    spark.stop()
    return 1 if unexplained else 0


if __name__ == "__main__":
    started = time.perf_counter()
    code = main()
    print(f"total {time.perf_counter() - started:.0f}s")
    sys.exit(code)
