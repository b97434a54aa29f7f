"""The demo's edge side: one edge agent process per station, as on four gateways."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from shared.fleet import DEFAULT_FLEET_PATH, load_fleet
from simulator.scenario import load_scenario, resolve_instant

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Timeline:
    """The demo's simulated time: the scenario, where its story starts and ends, where the
    last run stopped, and the grid of readings."""

    scenario: str
    start: str  # ISO; fixed on the first run so later runs continue the same story
    interval_s: int
    #: Simulated time (Unix s) the stations had reached when the last run stopped.
    stopped_s: float | None = None

    @classmethod
    def load_or_create(cls, path: Path, **chosen: Any) -> Timeline:
        """The timeline of earlier runs (their start wins), else a new one starting now."""
        if path.exists():
            saved = json.loads(path.read_text())
            return cls(
                **{**chosen, "scenario": saved["scenario"], "start": saved["start"]},
                stopped_s=saved.get("stopped_s"),
            )
        timeline = cls(**chosen)
        timeline.save(path)
        return timeline

    def save(self, path: Path, *, stopped_s: float | None = None) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        document: dict[str, Any] = {"scenario": self.scenario, "start": self.start}
        if stopped_s is not None or self.stopped_s is not None:
            document["stopped_s"] = stopped_s if stopped_s is not None else self.stopped_s
        path.write_text(json.dumps(document))

    @property
    def start_s(self) -> float:
        return datetime.fromisoformat(self.start).timestamp()

    @property
    def story_end_s(self) -> float:
        """Where the scenario's story ends (its `duration` after the start)."""
        return self.start_s + load_scenario(self.scenario).duration

    @property
    def trips_s(self) -> tuple[float, ...]:
        """Where the story's units trip (simulated Unix s), those before its end."""
        story = load_scenario(self.scenario).with_overrides(start=self.start)
        trips = (resolve_instant(f.failure, story.start_s) for f in story.equipment_faults)
        return tuple(sorted(t for t in trips if t < self.story_end_s))

    @property
    def resume_s(self) -> float:
        """Where this run's simulated time starts: the start, or where the last run stopped."""
        return max(self.start_s, self.stopped_s or 0.0)


@dataclass
class EdgeStation:
    station_id: str
    buffer_path: Path
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    #: Stopped on purpose (the outage drill): its exit is not a failure.
    paused: bool = False

    @property
    def status_path(self) -> Path:
        return self.buffer_path.with_suffix(".status.json")

    def status(self) -> dict[str, Any]:
        """The agent's status document (what `altaviz-edge status` prints), or {}."""
        try:
            return dict(json.loads(self.status_path.read_text()))
        except (OSError, ValueError):
            return {}

    def newest_reading_s(self) -> float | None:
        """Simulated time of the newest reading its agent took from a panel (Unix s), if any."""
        stamps = [p.get("last_ok_at") for p in (self.status().get("panels") or {}).values()]
        seen = [datetime.fromisoformat(s).timestamp() for s in stamps if s]
        return max(seen) if seen else None

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
    clock_file: Path
    #: Where the agents read: `modbus` (the simulator's panels, polled over Modbus TCP) or
    #: `simulated` (the simulator in the agent's process).
    acquisition: str = "modbus"
    #: Wall seconds between an agent's polls of one unit (modbus).
    poll_interval_s: float = 1.0
    #: Builds a station's `modbus` source options (hub.demo.panels.DemoPanels).
    modbus_options: Callable[[str, float], dict[str, Any]] | None = None
    fleet_path: Path = DEFAULT_FLEET_PATH
    stations: list[EdgeStation] = field(default_factory=list)
    #: Added to every agent's environment (demo hooks may fill it before `start`).
    extra_env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        fleet = load_fleet(self.fleet_path)
        edge_dir = self.data_dir / "edge"
        organisation = next(o for o in fleet.organisations if o.id == self.org_id)
        self.stations = [
            EdgeStation(s.id, edge_dir / f"{s.id}.duckdb") for s in organisation.stations
        ]
        self.thresholds_file = self._thresholds(edge_dir / "thresholds.yaml")
        self.config_file = self._config(edge_dir / "edge.yaml")

    def _config(self, path: Path) -> Path:
        """config/edge.yaml without its example source: the demo sets each agent's source."""
        document = yaml.safe_load((REPO / "config" / "edge.yaml").read_text())
        document.pop("source", None)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(document, sort_keys=False))
        return path

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

    def _source(self, station: EdgeStation) -> tuple[str, dict[str, Any]]:
        if self.acquisition == "modbus":
            assert self.modbus_options is not None
            return "modbus", self.modbus_options(station.station_id, self.poll_interval_s)
        return "simulated", {
            "scenario": self.timeline.scenario,
            "start": self.timeline.start,
            "interval_s": self.timeline.interval_s,
            "clock_file": str(self.clock_file.resolve()),
            "poll_interval_s": 1.0,
        }

    def _env(self, station: EdgeStation) -> dict[str, str]:
        kind, options = self._source(station)
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
            "ALTAVIZ_EDGE_SOURCE__KIND": kind,
            "ALTAVIZ_EDGE_SOURCE__OPTIONS": json.dumps(options),
            "ALTAVIZ_EDGE_SCORING__THRESHOLDS_FILE": str(self.thresholds_file),
            "ALTAVIZ_EDGE_UPLINK__STATUS_INTERVAL_S": "2",
            "ALTAVIZ_EDGE_HTTP__PORT": "0",  # four agents on one machine: any free port
            **self.extra_env,
        }

    def start(self) -> None:
        for station in self.stations:
            self.start_station(station)

    def start_station(self, station: EdgeStation) -> None:
        """Start (or start again) one station's agent; it resumes from its buffer."""
        logs = self.data_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        station.log_path = logs / f"edge-{station.station_id}.log"
        with open(station.log_path, "ab") as log:
            station.process = subprocess.Popen(
                [sys.executable, "-m", "edge_agent", "run", "--config", str(self.config_file)],
                env=self._env(station),
                cwd=REPO,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches the demo; it stops them in order
            )
        station.paused = False

    def pause_station(self, station: EdgeStation) -> None:
        """SIGTERM to one agent, without waiting: it drains, reports offline and exits."""
        station.paused = True
        if station.process is not None and station.process.poll() is None:
            station.process.send_signal(signal.SIGTERM)

    def station(self, station_id: str) -> EdgeStation | None:
        return next((s for s in self.stations if s.station_id == station_id), None)

    def failed(self) -> EdgeStation | None:
        return next((s for s in self.stations if s.exited is not None and not s.paused), None)

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
