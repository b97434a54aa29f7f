"""CPU and memory of the edge agent at 50 compressors x 1 Hz, measured.

50 Modbus TCP panels (a separate process, one port each, values drifting) are
polled once a second by the agent, which stores, scores every reading (shared
features + a signed ONNX model + threshold rules) and forwards batches over
loopback mosquitto to hub ingest. After a warm-up, the agent process's CPU time
and resident memory are sampled with psutil.

The agent runs as on a gateway: from a virtualenv with only `.[edge]` installed
(var/bench/gateway-venv, created on first use), not from the development
environment, whose extra packages (pandas, imported by pyarrow when it is present)
would add ~40 MB of RSS a gateway never has. `--dev-env` measures it there instead.

    .venv/bin/python bench/edge_cpu.py [--source modbus] [--panels 50] [--warmup 20] [--seconds 60]

`--source simulated` runs the simulator's in-process source instead of Modbus panels (the
same 50 compressors at 1 Hz, no network polling). The last line is the result:
`RESULT edge_cpu source=<source> compressors=<n> cpu_pct=<x> rss_mb=<y>`; the line above
it compares with the goal (< 5 % of a core, < 200 MB) and names the load and the commit.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil
from common import commit
from edge_common import (
    REPO,
    gateway_python,
    spawn_agent,
    start_mosquitto,
    wait_for,
    workdir,
    write_agent_config,
)

from edge_agent.models import ModelStore
from hub.ingest.worker import IngestWorker
from shared.bundle import generate_signing_key, load_public_key, public_key_pem
from tests.edge_agent.bundles import zscore_bundle
from tests.support.stack import hub_settings

#: The issue's goal for a gateway at 50 compressors x 1 Hz.
GOAL_CPU_PCT = 5.0
GOAL_RSS_MB = 200.0


def _rss_anon_bytes(pid: int) -> int:
    """Private memory (RssAnon): RSS minus shared library code and mapped files."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) * 1024
    return 0


def install_model(root: Path) -> Path:
    """A signed bundle, already promoted, and the pinned key the agent verifies it with."""
    key = generate_signing_key()
    key_file = root / "pinned.pem"
    key_file.write_bytes(public_key_pem(key))
    store = ModelStore(root / "models", load_public_key(key_file))
    _manifest, _signature, archive = zscore_bundle(key, version="1", window_s=60.0, min_samples=5)
    store.promote(store.keep(archive).label)
    return key_file


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", choices=["modbus", "simulated"], default="modbus")
    parser.add_argument("--panels", type=int, default=50, help="compressors (one panel each)")
    parser.add_argument("--warmup", type=float, default=20.0)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument(
        "--gateway-venv", type=Path, default=REPO / "var" / "bench" / "gateway-venv"
    )
    parser.add_argument(
        "--dev-env", action="store_true", help="run the agent with this interpreter instead"
    )
    args = parser.parse_args()
    python = None if args.dev_env else gateway_python(args.gateway_venv)

    root = workdir("edge-cpu")
    broker = start_mosquitto(root)
    ports_file = root / "ports.txt"
    panels = None
    if args.source == "modbus":
        panels = subprocess.Popen(
            [sys.executable, str(REPO / "bench" / "edge_panels.py"), "--count", str(args.panels),
             "--ports-file", str(ports_file)],
            cwd=REPO,
        )  # fmt: skip
        wait_for(
            lambda: ports_file.exists() and ports_file.read_text().endswith("\n"),
            timeout=60,
            what="panels",
        )
    ports = [int(p) for p in ports_file.read_text().split()] if panels else []
    hub = hub_settings(root, broker.port)
    ingest = IngestWorker(hub)
    ingest.start()
    key_file = install_model(root)
    config = write_agent_config(
        root,
        broker.port,
        source=_source(args.source, ports, args.panels),
        model={"dir": str(root / "models"), "public_key_file": str(key_file)},
        http={"enabled": True, "port": 0},
    )  # fmt: skip
    agent = spawn_agent(config, python)
    process = psutil.Process(agent.pid)
    try:
        time.sleep(args.warmup)
        cpu_start = sum(process.cpu_times()[:2])
        wall_start = time.monotonic()
        rss_peak = anon_peak = 0
        while time.monotonic() - wall_start < args.seconds:
            rss_peak = max(rss_peak, process.memory_info().rss)
            anon_peak = max(anon_peak, _rss_anon_bytes(agent.pid))
            time.sleep(0.5)
        cpu = sum(process.cpu_times()[:2]) - cpu_start
        wall = time.monotonic() - wall_start
        status = json.loads((root / "edge" / "buffer.status.json").read_text())
    finally:
        os.kill(agent.pid, signal.SIGTERM)
        agent.wait(60)
        if panels is not None:
            panels.terminate()
            panels.wait(10)
        ingest.stop()
        broker.stop()
    compressors = len(ports) if ports else args.panels
    result = {
        "bench": "edge_cpu",
        "source": args.source,
        "compressors": compressors,
        "seconds": round(wall, 1),
        "cpu_percent_of_one_core": round(100 * cpu / wall, 2),
        "rss_peak_mb": round(rss_peak / 1e6, 1),
        "rss_anon_peak_mb": round(anon_peak / 1e6, 1),
        "readings_stored": status["buffer"]["last_seq"],
        "readings_scored": status["readings_scored"],
        "model": status["model"]["version"],
        "link": status["link"],
        "python": str(python or sys.executable),
        "workdir": str(root),
    }
    print(json.dumps(result))
    print(
        f"{compressors} compressors x 1 Hz ({args.source}): agent CPU {result['cpu_percent_of_one_core']} % of one "
        f"core, peak RSS {result['rss_peak_mb']} MB, of which private (anonymous) "
        f"{result['rss_anon_peak_mb']} MB ({result['readings_scored']} readings scored)"
    )

    cpu_pct, rss_mb = result["cpu_percent_of_one_core"], result["rss_peak_mb"]
    load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print(
        f"goal cpu < {GOAL_CPU_PCT} % rss < {GOAL_RSS_MB} MB: cpu {cpu_pct / GOAL_CPU_PCT:.2f}x "
        f"of the goal, rss {rss_mb / GOAL_RSS_MB:.2f}x; commit {commit()}; {load}"
    )
    print(
        f"RESULT edge_cpu source={args.source} compressors={compressors} "
        f"cpu_pct={cpu_pct} rss_mb={rss_mb}"
    )


def _source(kind: str, ports: list[int], compressors: int) -> dict[str, Any]:
    if kind == "simulated":
        return {
            "kind": "simulated",
            "options": {"compressor_count": compressors, "speed": 1.0, "interval_s": 1.0,
                        "poll_interval_s": 1.0},
        }  # fmt: skip
    return {
        "kind": "modbus",
        "options": {
            "panels": [
                {"compressor_id": f"C{i + 1:02d}", "register_map": "standard-scaled",
                 "host": "127.0.0.1", "port": port, "poll_interval_s": 1.0}
                for i, port in enumerate(ports)
            ],
        },
    }  # fmt: skip


if __name__ == "__main__":
    main()
