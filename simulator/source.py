"""The simulator as an edge reading source (entry point `altaviz.sources: simulated`).

The source runs the physics fleet for the agent's station. Time may run
accelerated: each poll advances the simulated clock by `speed` times the wall-clock
time since the previous poll and returns one reading per compressor per
`interval_s` of simulated time, exactly as `altaviz-sim generate` would write them
for the same fleet, scenario, seed and start.

Options (`source.options` in the edge config):

| option | default | meaning |
|---|---|---|
| `fleet` | config/fleet.yaml | fleet file; the agent's station id picks the station |
| `scenario` | healthy | built-in scenario name or YAML file |
| `seed` | the scenario's | overrides the scenario's seed |
| `start` | now | ISO time that anchors the scenario (keep it fixed across restarts) |
| `speed` | 1.0 | simulated seconds per wall-clock second |
| `interval_s` | 1 | simulated seconds between readings of one compressor |
| `poll_interval_s` | 1.0 | wall-clock seconds between polls |
| `clock_file` | none | follow simulated time paced by another process (`simulator.live.ClockSegment`; `speed` is then ignored) |
| `compressor_count` / `compressors` | 3 | a station that is not in the fleet gets these units (ids `<station>-C01`...), modelled on `template_station` |
| `template_station` | the fleet's first | the station an unknown station copies |
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from shared.errors import ConfigError
from shared.fleet import Fleet, load_fleet
from shared.schema import SENSOR_FIELDS, Quality, ReadingFlag
from shared.sources import RawReading
from simulator.engine import Simulation
from simulator.errors import SimulatorError
from simulator.live import LiveClock, LiveFeed, SharedClock, rows
from simulator.scenario import load_scenario, parse_time


def fleet_with_station(
    fleet: Fleet, station_id: str, compressor_ids: Sequence[str], template: str | None
) -> Fleet:
    """`fleet` plus an ad-hoc station (for an agent whose station is not in the fleet file)."""
    stations = list(fleet.stations())
    base = fleet.station(template) if template else stations[0]
    units = [
        base.compressors[n % len(base.compressors)].model_copy(update={"id": cid, "unit_id": n + 1})
        for n, cid in enumerate(compressor_ids)
    ]
    port = max(s.panel.port for s in stations) + 1
    station = base.model_copy(
        update={
            "id": station_id,
            "name": f"{station_id} (simulated)",
            "compressors": tuple(units),
            "panel": base.panel.model_copy(update={"port": port}),
        }
    )
    first = fleet.organisations[0]
    organisations = (
        first.model_copy(update={"stations": (*first.stations, station)}),
        *fleet.organisations[1:],
    )
    document = fleet.model_copy(update={"organisations": organisations}).to_document()
    from shared.fleet import parse_fleet

    return parse_fleet(document, source=f"fleet with simulated station {station_id}")


class SimulatedSource:
    def __init__(
        self,
        *,
        sim: Simulation,
        station_id: str,
        speed: float = 1.0,
        interval_s: int = 1,
        poll_interval_s: float = 1.0,
        first_s: int,
        clock: Any = time.monotonic,
        clock_file: Path | None = None,
    ) -> None:
        if speed <= 0 or interval_s <= 0 or poll_interval_s <= 0:
            raise ConfigError("source.options: speed, interval_s and poll_interval_s must be > 0")
        self.sim = sim
        self.station_id = station_id
        self.poll_interval_s = poll_interval_s
        self.compressor_ids = [sim.units.compressor_ids[u] for u in sim.units.units_of(station_id)]
        live_clock: LiveClock | SharedClock = (
            SharedClock(clock_file)
            if clock_file is not None
            else LiveClock(first_s - interval_s, speed=speed, clock=clock)
        )
        self._feed = LiveFeed(
            sim,
            sim.units.units_of(station_id),
            clock=live_clock,
            interval_s=interval_s,
            first_s=first_s,
        )

    @classmethod
    def from_options(
        cls,
        *,
        station_id: str,
        options: Mapping[str, Any],
        resume_after: datetime | None = None,
        clock: Any = time.monotonic,
    ) -> SimulatedSource:
        try:
            interval_s = int(options.get("interval_s", 1))
            speed = float(options.get("speed", 1.0))
            poll_interval_s = float(options.get("poll_interval_s", 1.0))
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"source.options: {exc}") from None
        if interval_s <= 0 or interval_s != float(options.get("interval_s", 1)):
            raise ConfigError("source.options.interval_s must be a whole number of seconds > 0")
        fleet = load_fleet(options.get("fleet"))
        if station_id not in {s.id for s in fleet.stations()}:
            compressors = options.get("compressors")
            if compressors is None:
                count = int(options.get("compressor_count", 3))
                compressors = [f"{station_id}-C{n:02d}" for n in range(1, count + 1)]
            if not compressors:
                raise ConfigError("source.options.compressors: at least one compressor is needed")
            fleet = fleet_with_station(
                fleet, station_id, list(compressors), options.get("template_station")
            )
        try:
            start = parse_time(options["start"]) if options.get("start") else datetime.now(UTC)
        except ValueError as exc:
            raise ConfigError(f"source.options.start: {exc}") from None
        start_s = int(start.timestamp()) // interval_s * interval_s
        scenario = load_scenario(str(options.get("scenario", "healthy"))).with_overrides(
            start=datetime.fromtimestamp(start_s, UTC),
            resolution_s=interval_s,
            seed=int(options["seed"]) if options.get("seed") is not None else None,
        )
        first_s = start_s
        if resume_after is not None and resume_after.timestamp() >= start_s:
            # Accelerated time ran ahead of the wall clock last run: continue after it.
            first_s = (int(resume_after.timestamp()) // interval_s + 1) * interval_s
        try:
            sim = Simulation(fleet, scenario, stations=[station_id])
        except SimulatorError as exc:
            raise ConfigError(f"source.options: {exc}") from None
        return cls(
            sim=sim,
            station_id=station_id,
            speed=speed,
            interval_s=interval_s,
            poll_interval_s=poll_interval_s,
            first_s=first_s,
            clock=clock,
            clock_file=_clock_file(options),
        )

    def poll(self) -> list[RawReading]:
        chunk = self._feed.poll()
        if chunk is None:
            return []
        readings = []
        for row in rows(self.sim, chunk):
            readings.append(
                RawReading(
                    compressor_id=row.compressor_id,
                    timestamp=datetime(1970, 1, 1, tzinfo=UTC)
                    + timedelta(microseconds=row.timestamp_us),
                    values=row.values,
                    quality={s: Quality(row.quality[f"{s}_quality"]) for s in SENSOR_FIELDS},
                    operating_state=row.operating_state,
                    flags=ReadingFlag(row.flags),
                )
            )
        return readings

    def close(self) -> None:
        pass


def _clock_file(options: Mapping[str, Any]) -> Path | None:
    if not options.get("clock_file"):
        return None
    path = Path(options["clock_file"])
    if not path.is_file():
        raise ConfigError(f"source.options.clock_file: {path} does not exist")
    return path


def SimulatedSourceFactory(
    *, station_id: str, options: Mapping[str, Any], resume_after: datetime | None = None
) -> SimulatedSource:
    return SimulatedSource.from_options(
        station_id=station_id, options=options, resume_after=resume_after
    )
