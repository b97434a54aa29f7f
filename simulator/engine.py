"""A simulation run: fleet + scenario -> chunks of truth and reported readings."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from shared.fleet import Fleet
from simulator.faults import FaultLoad
from simulator.physics import SETTLE_OUT_FRACTION, NoiseKeys, Physics, line_pressures_at, simulate
from simulator.scenario import Scenario
from simulator.schedule import SHUTDOWN, Schedule, build_schedule
from simulator.sensors import Reported, measure, report
from simulator.units import ATMOSPHERE_PSI, RANKINE, UnitTable, build_units

#: Cells ([units x instants]) computed at once: bounds memory at any fleet size.
DEFAULT_CHUNK_CELLS = 400_000


@dataclass
class Chunk:
    idx: np.ndarray
    t: np.ndarray
    physics: Physics
    load: FaultLoad
    reported: Reported


@dataclass(frozen=True)
class Blowdown:
    event_id: str
    station_id: str
    compressor_id: str
    time_s: int
    reason: str
    fault_id: str | None
    pressure_psig: float
    volume_ft3: float
    vented_scf: float
    methane_scf: float


class Simulation:
    def __init__(
        self,
        fleet: Fleet,
        scenario: Scenario,
        *,
        stations: list[str] | None = None,
        maps_dir: str | Path | None = None,
    ) -> None:
        self.fleet = fleet
        self.scenario = scenario
        self.units: UnitTable = build_units(
            fleet, station_ids=stations, maps_dir=None if maps_dir is None else str(maps_dir)
        )
        self.schedule: Schedule = build_schedule(
            scenario,
            self.units,
            fleet_compressors={c.id for _, c in fleet.compressors()},
            fleet_stations={s.id for s in fleet.stations()},
        )
        self.keys = NoiseKeys(scenario.seed, self.units)
        self.org_ids = [fleet.org_of(s).id for s in self.units.station_ids]

    # -- computing ------------------------------------------------------------------

    def chunk(
        self, t: np.ndarray, idx: np.ndarray | None = None, *, step_s: int | None = None
    ) -> Chunk:
        """Truth and reported values of units `idx` (default all) at instants `t` (Unix s)."""
        idx = np.arange(len(self.units)) if idx is None else np.asarray(idx, dtype=np.int64)
        t = np.asarray(t, dtype=np.int64)
        physics = simulate(self.units, idx, t, self.schedule, self.keys)
        load = physics.load
        measured = measure(idx, t, physics, self.keys)
        reported = report(
            self.units,
            idx,
            t,
            measured,
            self.schedule,
            self.keys,
            step_s=step_s or self.scenario.resolution_s,
            reference=self._measured_at,
        )
        return Chunk(idx, t, physics, load, reported)

    def _measured_at(self, u: int, sensor: str, at: int) -> float:
        idx = np.array([u])
        t = np.array([at], dtype=np.int64)
        physics = simulate(self.units, idx, t, self.schedule, self.keys)
        return float(measure(idx, t, physics, self.keys)[sensor][0, 0])

    def instants(self, start_s: int, end_s: int, step_s: int) -> np.ndarray:
        return np.arange(start_s, end_s, step_s, dtype=np.int64)

    def chunks(
        self,
        *,
        start_s: int | None = None,
        end_s: int | None = None,
        step_s: int | None = None,
        chunk_cells: int = DEFAULT_CHUNK_CELLS,
    ) -> Iterator[Chunk]:
        """The run in time order, every unit per chunk, each chunk about `chunk_cells` cells."""
        start = self.scenario.start_s if start_s is None else start_s
        end = self.scenario.end_s if end_s is None else end_s
        step = step_s or self.scenario.resolution_s
        per_chunk = max(1, chunk_cells // max(1, len(self.units)))
        for first in range(start, end, per_chunk * step):
            t = np.arange(first, min(end, first + per_chunk * step), step, dtype=np.int64)
            yield self.chunk(t, step_s=step)

    # -- events -----------------------------------------------------------------------

    def blowdowns(self) -> list[Blowdown]:
        """Every depressurizing shutdown: vented gas = blowdown volume at settle-out pressure."""
        events = []
        for outage in self.schedule.outages:
            if outage.state != SHUTDOWN:
                continue
            u = self.units.index_of(outage.compressor_id)
            suction, discharge, ambient = line_pressures_at(self.units, u, outage.start, self.keys)
            # The unit is isolated first: the trapped gas settles out, then vents.
            pressure = suction + SETTLE_OUT_FRACTION * (discharge - suction)
            volume = float(self.units["blowdown_ft3"][u])
            z = float(self.units["gas_z"][u])
            # Ideal-gas expansion to standard conditions (60 °F, 14.7 psia).
            gas_temp_r = ambient + 30.0 + RANKINE
            vented = (
                volume
                * (pressure + ATMOSPHERE_PSI)
                / ATMOSPHERE_PSI
                * (60.0 + RANKINE)
                / gas_temp_r
                / z
            )
            methane = vented * float(self.units["methane_fraction"][u])
            events.append(
                Blowdown(
                    event_id=f"{outage.compressor_id}.blowdown.{outage.start}",
                    station_id=outage.station_id,
                    compressor_id=outage.compressor_id,
                    time_s=outage.start,
                    reason=outage.reason,
                    fault_id=outage.fault_id,
                    pressure_psig=round(pressure, 1),
                    volume_ft3=volume,
                    vented_scf=round(vented, 1),
                    methane_scf=round(methane, 1),
                )
            )
        return events
