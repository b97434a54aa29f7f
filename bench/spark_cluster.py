"""The pipeline on a Spark standalone cluster (a master and two workers started from the
pyspark distribution) against local mode: same landed batches, same silver and gold.

    .venv/bin/python bench/spark_cluster.py [--seconds 3600]

The simulator writes `--seconds` of the demo fleet (config/fleet.yaml, 10 compressors,
1 Hz); the readings are landed once as telemetry batches and copied into two work trees.
`run_once` takes each through bronze, silver and gold: first on local[2], then on
spark://127.0.0.1:<port> with two one-core workers. Printed: wall time of each pipeline,
and the content hash of every silver and gold table (`altaviz-hub lake hash`), which must
be identical. The cluster's processes are stopped at the end.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import commit
from bench.lake_common import REPO, bench_settings, fresh, load_average
from hub.ingest.landing import LandingZone
from hub.lakehouse.audit import table_hashes
from hub.lakehouse.backfill import land_history
from hub.lakehouse.io import Lake
from hub.lakehouse.pipeline import run_once
from hub.lakehouse.spark import build_spark
from shared.fleet import load_fleet
from simulator.engine import Simulation
from simulator.history import write_history
from simulator.scenario import load_scenario
from tests.support.services import free_port, wait_for_port

FLEET = REPO / "config" / "fleet.yaml"


def spark_class(*args: str, log: Path) -> subprocess.Popen[bytes]:
    import pyspark

    home = Path(pyspark.__file__).parent
    env = {
        **os.environ,
        "SPARK_HOME": str(home),
        "PYTHONPATH": str(REPO),  # executors import the pipeline's Python functions
        "SPARK_NO_DAEMONIZE": "1",
    }
    handle = open(log, "ab")  # noqa: SIM115 (the child writes it until we stop it)
    return subprocess.Popen(
        [str(home / "bin" / "spark-class"), *args],
        env=env,
        stdout=handle,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def pipeline(settings, label: str) -> tuple[float, dict[str, str]]:  # type: ignore[no-untyped-def]
    spark = build_spark(settings.spark, app_name=f"altaviz-bench-{label}")
    try:
        began = time.perf_counter()
        run = run_once(spark, settings)
        elapsed = time.perf_counter() - began
        hashes = table_hashes(Lake(spark, settings.lake_root))
        print(
            f"{label}: {run.readings_processed:,} readings through silver/gold, "
            f"bronze +{run.bronze_rows_added:,}, {elapsed:.1f} s",
            flush=True,
        )
        return elapsed, hashes
    finally:
        spark.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=3600)
    parser.add_argument("--work", type=Path, default=REPO / "var" / "bench" / "spark_cluster")
    args = parser.parse_args()
    work = fresh(args.work)
    fleet = load_fleet(FLEET)
    now = int(datetime.now(UTC).timestamp())
    start = datetime.fromtimestamp(now - args.seconds - 300, UTC).replace(microsecond=0)
    scenario = load_scenario("random").with_overrides(
        name="cluster", start=start.isoformat(), duration=args.seconds, resolution_s=1
    )
    write_history(Simulation(fleet, scenario), work / "sim")
    landed = bench_settings(work / "landed", pipeline={"seed_fleet": str(FLEET)})
    zone = LandingZone(landed.landing_dir, landed.quarantine_dir)
    batches, readings = land_history(work / "sim", zone, fleet=fleet, rows_per_batch=5_000)
    print(f"commit {commit()}; {readings:,} readings in {batches} batches; load {load_average()}")

    def tree(name: str, **spark: str):  # type: ignore[no-untyped-def]
        settings = bench_settings(work / name, pipeline={"seed_fleet": str(FLEET)}, spark={**spark})
        shutil.copytree(landed.landing_dir, settings.landing_dir)
        return settings

    local_s, local_hashes = pipeline(tree("local", master="local[2]"), "local[2]")

    port, master_ui, ui = free_port(), free_port(), [free_port(), free_port()]
    logs = work / "cluster-logs"
    logs.mkdir()
    processes = [
        spark_class(
            "org.apache.spark.deploy.master.Master",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--webui-port",
            str(master_ui),
            log=logs / "master.log",
        )
    ]
    try:
        wait_for_port(port, timeout=60)
        for n in range(2):
            processes.append(
                spark_class(
                    "org.apache.spark.deploy.worker.Worker",
                    "--host",
                    "127.0.0.1",
                    "--cores",
                    "1",
                    "--memory",
                    "1g",
                    "--webui-port",
                    str(ui[n]),
                    f"spark://127.0.0.1:{port}",
                    log=logs / f"worker-{n}.log",
                )
            )
        time.sleep(5)
        cluster = tree(
            "cluster",
            master=f"spark://127.0.0.1:{port}",
            conf={
                "spark.executor.memory": "768m",
                "spark.cores.max": "2",
                "spark.executor.cores": "1",
            },
        )
        cluster_s, cluster_hashes = pipeline(cluster, "standalone (2 workers x 1 core)")
    finally:
        for process in reversed(processes):
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)
    print(
        f"\nlocal[2]: {local_s:.1f} s; standalone cluster: {cluster_s:.1f} s "
        f"(ratio {local_s / cluster_s:.2f}); load {load_average()}"
    )
    same = True
    for table in sorted(local_hashes):
        match = local_hashes[table] == cluster_hashes.get(table)
        same &= match
        print(f"  {table:<28} {'same' if match else 'DIFFERENT'}  {local_hashes[table][:16]}")
    print("results identical" if same else "RESULTS DIFFER")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
