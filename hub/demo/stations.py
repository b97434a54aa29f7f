"""The demo's edge side: one edge agent process per station, as on four gateways."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from shared.fleet import DEFAULT_FLEET_PATH, load_fleet

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Timeline:
    """What the demo's simulated time is: the scenario, where it starts and how fast it runs."""

    scenario: str
    start: str  # ISO; fixed on the first run so later runs continue the same story
    speed: float
    interval_s: int

    @classmethod
    def load_or_create(cls, path: Path, **chosen: Any) -> Timeline:
        """The timeline of earlier runs (their start wins), else a new one starting now."""
        if path.exists():
            saved = json.loads(path.read_text())
            timeline = cls(**{**chosen, "scenario": saved["scenario"], "start": saved["start"]})
        else:
            timeline = cls(**chosen)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps({"scenario": timeline.scenario, "start": timeline.start}))
        return timeline


@dataclass
class EdgeStation:
    station_id: str
    buffer_path: Path
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None

    @property
    def status_path(self) -> Path:
        return self.buffer_path.with_suffix(".status.json")

    def status(self) -> dict[str, Any]:
        """The agent's status document (what `altaviz-edge status` prints), or {}."""
        try:
            return dict(json.loads(self.status_path.read_text()))
        except (OSError, ValueError):
            return {}

    @property
    def exited(self) -> int | None:
        return None if self.process is None else self.process.poll()


@dataclass
class EdgeFleet:
    """Starts and stops the station agents; each reads the simulated source of its station."""

    data_dir: Path
    org_id: str
    broker_port: int
    timeline: Timeline
    fleet_path: Path = DEFAULT_FLEET_PATH
    stations: list[EdgeStation] = field(default_factory=list)

    def __post_init__(self) -> None:
        fleet = load_fleet(self.fleet_path)
        edge_dir = self.data_dir / "edge"
        organisation = next(o for o in fleet.organisations if o.id == self.org_id)
        self.stations = [
            EdgeStation(s.id, edge_dir / f"{s.id}.duckdb") for s in organisation.stations
        ]
        self.thresholds_file = self._thresholds(edge_dir / "thresholds.yaml")

    def _thresholds(self, path: Path) -> Path:
        """config/thresholds.yaml with its rolling window stretched to hold enough readings.

        The rules' `_mean`/`_trend` metrics are over a trailing window of simulated time;
        at one reading per `interval_s` a 60 s window would hold one reading.
        """
        document = yaml.safe_load((REPO / "config" / "thresholds.yaml").read_text())
        min_samples = int(document.get("min_samples", 5))
        window = max(
            float(document.get("window_s", 60)), 2 * min_samples * self.timeline.interval_s
        )
        document["window_s"] = window
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(document, sort_keys=False))
        return path

    def _env(self, station: EdgeStation) -> dict[str, str]:
        options = {
            "scenario": self.timeline.scenario,
            "start": self.timeline.start,
            "speed": self.timeline.speed,
            "interval_s": self.timeline.interval_s,
            "poll_interval_s": 1.0,
        }
        return {
            **os.environ,
            "ALTAVIZ_EDGE_ORG_ID": self.org_id,
            "ALTAVIZ_EDGE_STATION_ID": station.station_id,
            "ALTAVIZ_EDGE_MQTT__PORT": str(self.broker_port),
            "ALTAVIZ_EDGE_MQTT__PROTOCOL": "3.1.1",  # the embedded broker speaks 3.1.1
            "ALTAVIZ_EDGE_BUFFER__PATH": str(station.buffer_path),
            "ALTAVIZ_EDGE_MODEL__DIR": str(
                station.buffer_path.parent / "models" / station.station_id
            ),
            "ALTAVIZ_EDGE_SOURCE__KIND": "simulated",
            "ALTAVIZ_EDGE_SOURCE__OPTIONS": json.dumps(options),
            "ALTAVIZ_EDGE_SCORING__THRESHOLDS_FILE": str(self.thresholds_file),
            "ALTAVIZ_EDGE_UPLINK__STATUS_INTERVAL_S": "2",
            "ALTAVIZ_EDGE_HTTP__PORT": "0",  # four agents on one machine: any free port
        }

    def start(self) -> None:
        logs = self.data_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        for station in self.stations:
            station.log_path = logs / f"edge-{station.station_id}.log"
            with open(station.log_path, "ab") as log:
                station.process = subprocess.Popen(
                    [sys.executable, "-m", "edge_agent", "run"],
                    env=self._env(station),
                    cwd=REPO,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # Ctrl-C reaches the demo; it stops them in order
                )

    def failed(self) -> EdgeStation | None:
        return next((s for s in self.stations if s.exited is not None), None)

    def stop(self, timeout_s: float = 30.0) -> None:
        """SIGTERM: each agent sends what it buffered (drain_on_stop_s), then exits."""
        running = [s.process for s in self.stations if s.process and s.process.poll() is None]
        for process in running:
            process.send_signal(signal.SIGTERM)
        for process in running:
            try:
                process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
