"""Shared pieces of the edge benches: a throwaway mosquitto, hub ingest, an agent process."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.services import Mosquitto, mosquitto_binary  # noqa: E402

_RANGE = re.compile(r"\.(\d{12})-(\d{12})\.parquet$")


#: MQTT v5 PUBLISH at QoS 1 around a payload on `altaviz/v1/<org>/<station>/telemetry`:
#: fixed header (1 + up to 4 length bytes), topic (2 + len), packet id (2), properties
#: length (1); plus the 4-byte PUBACK back.
def mqtt_overhead_bytes(topic: str, payload_len: int) -> int:
    remaining = 2 + len(topic) + 2 + 1 + payload_len
    length_bytes = (
        1 if remaining < 128 else 2 if remaining < 16_384 else 3 if remaining < 2_097_152 else 4
    )
    return 1 + length_bytes + (remaining - payload_len) + 4


def workdir(name: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=f"altaviz-{name}-"))


def start_mosquitto(root: Path) -> Mosquitto:
    if mosquitto_binary() is None:
        sys.exit("mosquitto is required (apt-get install -y mosquitto)")
    return Mosquitto(root / "mosquitto").start()


def landed_ranges(landing: Path) -> list[tuple[int, int, int]]:
    """(first_seq, last_seq, bytes) of every landed batch, from file names (cheap)."""
    found = []
    for path in landing.rglob("*.parquet"):
        match = _RANGE.search(path.name)
        if match:
            found.append((int(match.group(1)), int(match.group(2)), path.stat().st_size))
    return sorted(found)


def covered_through(ranges: list[tuple[int, int, int]]) -> int:
    """The highest seq n such that 1..n all landed."""
    through = 0
    for first, last, _ in ranges:
        if first > through + 1:
            break
        through = max(through, last)
    return through


def write_agent_config(root: Path, port: int, **sections: Any) -> Path:
    config: dict[str, Any] = {
        "org_id": "org-a",
        "station_id": "STATION-1",
        "mqtt": {"port": port},
        "buffer": {"path": str(root / "edge" / "buffer.duckdb")},
        "http": {"enabled": False},
        "scoring": {"thresholds_file": str(REPO / "config" / "thresholds.yaml")},
    }
    for key, value in sections.items():
        config[key] = {**config.get(key, {}), **value}
    path = root / "edge.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def gateway_python(venv: Path) -> Path:
    """A Python with only `.[edge]` installed, as on a station gateway.

    The agent run from the checkout (cwd) with this interpreter is the current code with a
    gateway's dependencies: no pandas, Arrow, pyspark or scikit-learn loaded behind its
    back. Made on first use and again whenever pyproject.toml (the `[edge]` list) changes.
    """
    python = venv / "bin" / "python"
    marker = venv / ".altaviz-edge-installed"
    wanted = hashlib.sha256((REPO / "pyproject.toml").read_bytes()).hexdigest()
    if not marker.exists() or marker.read_text() != wanted:
        print(f"creating the gateway virtualenv {venv} (pip install '.[edge]') ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
             f"{REPO}[edge]"],
            check=True,
        )  # fmt: skip
        shutil.rmtree(REPO / "build", ignore_errors=True)  # pip's leftover from the checkout
        marker.write_text(wanted)
    return python


def spawn_agent(config: Path, python: Path | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [str(python or sys.executable), "-m", "edge_agent", "run", "--config", str(config)],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=open(config.with_suffix(".log"), "ab"),
    )


def wait_for(condition: Any, *, timeout: float, what: str, every: float = 0.02) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(every)
    raise SystemExit(f"timed out after {timeout}s waiting for {what}")
