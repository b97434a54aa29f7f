"""The demo's control panels: `altaviz-sim serve-modbus`, one Modbus server per station.

The panels run in their own process on the demo's simulated clock (the clock file),
serve each station's register map (config/register_maps) and hold each instant until
every unit has been polled (lockstep), so the agents read every simulated interval
however fast the demo runs. One station answers in RTU framing over TCP, so both
framings are exercised. The agents stamp readings with the panel's clock register.
"""

from __future__ import annotations

import random
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hub.demo.stations import REPO, Timeline
from shared.fleet import DEFAULT_FLEET_PATH, load_fleet

#: The station whose panel speaks RTU framing over TCP (a serial device server's framing).
RTU_STATION = "PB-MIDLAND"
#: A panel moves on after this many wall seconds even if a unit was not polled (a stalled
#: agent); long enough for an agent starved of CPU on a busy machine.
LOCKSTEP_WAIT_S = 5.0


class PanelsError(RuntimeError):
    """The panels process could not start."""


def _ports_free(ports: list[int]) -> bool:
    for port in ports:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                return False
    return True


@dataclass
class DemoPanels:
    data_dir: Path
    timeline: Timeline
    clock_file: Path
    fleet_path: Path = DEFAULT_FLEET_PATH
    port_offset: int = 0
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    stations: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.stations = {s.id: s for s in load_fleet(self.fleet_path).stations()}

    def _choose_offset(self) -> int:
        """Ports of the fleet file plus an offset where all of them are free here."""
        base = [s.panel.port for s in self.stations.values()]
        rng = random.Random()
        for _ in range(200):
            offset = rng.randrange(20_000, 40_000)
            if _ports_free([p + offset for p in base]):
                return offset
        raise PanelsError("no free ports for the panels")

    def start(self) -> None:
        self.port_offset = self._choose_offset()
        logs = self.data_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        self.log_path = logs / "panels.log"
        command = [
            sys.executable, "-m", "simulator", "--log-level", "WARNING", "serve-modbus",
            "--fleet", str(self.fleet_path), "--scenario", self.timeline.scenario,
            "--start", self.timeline.start, "--interval", str(self.timeline.interval_s),
            "--clock-file", str(self.clock_file.resolve()), "--host", "127.0.0.1",
            "--port-offset", str(self.port_offset), "--lockstep-wait", str(LOCKSTEP_WAIT_S),
            "--rtu", RTU_STATION,
        ]  # fmt: skip
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                command, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if "serving" in self.log_path.read_text(errors="replace"):
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        self.stop()
        raise PanelsError(f"the panels did not start; see {self.log_path}")

    def source_options(self, station_id: str, *, poll_interval_s: float) -> dict[str, Any]:
        """The agent's `modbus` source options for one station's panel."""
        station = self.stations[station_id]
        return {
            "poll_interval_s": 0.5,
            "panels": [
                {
                    "compressor_id": unit.id,
                    "register_map": station.panel.register_map,
                    "host": "127.0.0.1",
                    "port": station.panel.port + self.port_offset,
                    "device_id": unit.unit_id,
                    "framer": "rtu" if station_id == RTU_STATION else "socket",
                    "clock": "panel",
                    "poll_interval_s": poll_interval_s,
                    "timeout_s": 0.5,
                    "retries": 1,
                    "backoff_s": 0.05,
                    "reconnect_max_s": 2.0,
                }
                for unit in station.compressors
            ],
        }

    @property
    def exited(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
