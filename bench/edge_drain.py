"""Backlog drain rate and bytes on the wire of the edge agent.

A day of a 10-compressor station at 1 Hz (864,000 readings, quantized to register
resolution as panels deliver them) sits unsent in the agent's DuckDB buffer, as after
a day-long partition. The agent (its own process, live readings still flowing) drains
it over loopback mosquitto to hub ingest, which lands every batch as a durable
(fsync'd) file. Measured: readings/s from the agent's first publish to the last
backlog reading durable in the landing zone, and bytes per reading on the wire
(Parquet payload + MQTT framing + PUBACK) against one JSON message per reading.
The agent runs as on a gateway (a virtualenv with only `.[edge]`, see edge_cpu.py);
`--dev-env` runs it with this interpreter instead.

    .venv/bin/python bench/edge_drain.py [--compressors 10] [--seconds 86400]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import time
from datetime import UTC, datetime
from pathlib import Path

from edge_common import (
    REPO,
    covered_through,
    gateway_python,
    landed_ranges,
    mqtt_overhead_bytes,
    spawn_agent,
    start_mosquitto,
    wait_for,
    workdir,
    write_agent_config,
)

from edge_agent.buffer import Buffer
from hub.ingest.worker import IngestWorker
from tests.edge_agent.readings import station_day
from tests.support.stack import hub_settings

TOPIC = "altaviz/v1/org-a/STATION-1/telemetry"
#: One JSON message per reading, QoS 1, as measured on this machine (toolchain notes).
REFERENCE_JSON_BYTES = 297


def json_bytes_per_reading(table: object) -> float:
    """One JSON message per reading (all fields), with its MQTT framing and PUBACK."""
    row = table.slice(0, 1).to_pylist()[0]  # type: ignore[attr-defined]
    row["timestamp"] = row["timestamp"].isoformat()
    payload = json.dumps(row).encode()
    return len(payload) + mqtt_overhead_bytes(TOPIC, len(payload))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compressors", type=int, default=10)
    parser.add_argument("--seconds", type=int, default=86_400)
    parser.add_argument(
        "--gateway-venv", type=Path, default=REPO / "var" / "bench" / "gateway-venv"
    )
    parser.add_argument(
        "--dev-env", action="store_true", help="run the agent with this interpreter instead"
    )
    args = parser.parse_args()
    python = None if args.dev_env else gateway_python(args.gateway_venv)

    root = workdir("edge-drain")
    broker = start_mosquitto(root)
    backlog = station_day(compressors=args.compressors, seconds=args.seconds)
    buffer = Buffer(root / "edge" / "buffer.duckdb", station_id="STATION-1")
    buffer.append_table(backlog)
    buffer.close()
    n = backlog.num_rows

    hub = hub_settings(root, broker.port)
    ingest = IngestWorker(hub)
    ingest.start()
    assert ingest.connected.wait(10)
    config = write_agent_config(
        root,
        broker.port,
        source={
            "kind": "simulated",
            "options": {
                "compressor_count": args.compressors,
                "start": datetime.now(UTC).isoformat(),
            },
        },
    )
    spawned = time.monotonic()
    agent = spawn_agent(config, python)
    try:
        wait_for(lambda: landed_ranges(hub.landing_dir), timeout=60, what="the first landed batch")
        first_landed = time.monotonic()
        first_file = min(hub.landing_dir.rglob("*.parquet"), key=lambda p: p.stat().st_mtime)
        first_publish_lag = time.time() - first_file.stat().st_mtime
        wait_for(
            lambda: covered_through(landed_ranges(hub.landing_dir)) >= n, timeout=600, what="drain"
        )
        done = time.monotonic()
    finally:
        os.kill(agent.pid, signal.SIGTERM)
        agent.wait(60)
        ingest.stop()
        broker.stop()
    ranges = [r for r in landed_ranges(hub.landing_dir) if r[1] <= n]
    elapsed = done - first_landed + first_publish_lag
    payload = sum(size for _, _, size in ranges)
    wire = payload + sum(mqtt_overhead_bytes(TOPIC, size) for _, _, size in ranges)
    json_per_reading = json_bytes_per_reading(backlog)
    result = {
        "bench": "edge_drain",
        "readings": n,
        "batches": len(ranges),
        "drain_seconds": round(elapsed, 2),
        "readings_per_s": round(n / elapsed),
        "payload_bytes_per_reading": round(payload / n, 2),
        "wire_bytes_per_reading": round(wire / n, 2),
        "drain_seconds_from_agent_start": round(done - spawned, 2),
        "json_reference_bytes_per_reading": REFERENCE_JSON_BYTES,
        "smaller_than_json_reference": round(REFERENCE_JSON_BYTES / (wire / n), 1),
        "json_all_fields_bytes_per_reading": json_per_reading,
        "workdir": str(root),
    }
    print(json.dumps(result))
    print(
        f"drained {n:,} readings in {elapsed:.2f} s = {n / elapsed:,.0f} readings/s; "
        f"({done - spawned:.2f} s from agent process start); "
        f"{wire / n:.2f} bytes/reading on the wire vs {REFERENCE_JSON_BYTES} for one JSON "
        f"message per reading ({REFERENCE_JSON_BYTES / (wire / n):.1f}x smaller; "
        f"{json_per_reading} bytes for JSON carrying every field of this schema)"
    )


if __name__ == "__main__":
    main()
