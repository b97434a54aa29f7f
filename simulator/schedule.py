"""What happens when: a run's equipment faults, outages and sensor faults, per unit.

Built once per run from the scenario's scripted events plus random events drawn
from the seed (`simulator.random_events`), then turned into per-unit timelines of
operating states that physics looks up by instant.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator.errors import ScenarioError
from simulator.events import (
    LONG_AGO,
    NEVER,
    RUNNING,
    SHUTDOWN,
    STANDBY,
    STARTUP,
    STARTUP_S,
    STATE_CODE,
    STATE_NAMES,
    EventBook,
    FaultEpisode,
    Outage,
    SensorFault,
)
from simulator.random_events import SPIKE_MAGNITUDE, SPIKE_RATE, draw_random_events
from simulator.scenario import Scenario, SensorFaultSpec, resolve_instant
from simulator.units import UnitTable

__all__ = [
    "LONG_AGO",
    "NEVER",
    "RUNNING",
    "SHUTDOWN",
    "STANDBY",
    "STARTUP",
    "STARTUP_S",
    "STATE_NAMES",
    "FaultEpisode",
    "Outage",
    "Schedule",
    "SensorFault",
    "Timeline",
    "build_schedule",
]


@dataclass
class Timeline:
    """A unit's operating-state segments; segment i covers [starts[i], starts[i+1])."""

    starts: np.ndarray
    states: np.ndarray
    previous: np.ndarray
    #: Start of the latest startup at or before the segment (warm-up clock).
    run_start: np.ndarray
    #: Why the unit is in each segment ("in service", "low demand", "trip: valve_leak", ...).
    reasons: list[str]


@dataclass
class Schedule:
    faults: list[FaultEpisode]
    outages: list[Outage]
    sensor_faults: list[SensorFault]
    timelines: list[Timeline]
    faults_by_unit: list[list[FaultEpisode]]
    sensor_faults_by_unit: list[list[SensorFault]]
    clock_skews_by_station: dict[str, list[SensorFault]]


class _Scripted:
    """Books a scenario's scripted events, with errors that say which entry is wrong."""

    def __init__(
        self,
        scenario: Scenario,
        book: EventBook,
        fleet_compressors: set[str],
        fleet_stations: set[str],
    ) -> None:
        self.scenario = scenario
        self.book = book
        self.fleet_compressors = fleet_compressors
        self.fleet_stations = fleet_stations

    def at(self, value: object) -> int:
        return resolve_instant(value, self.scenario.start_s)  # type: ignore[arg-type]

    def simulated(self, compressor: str, where: str) -> bool:
        """True if simulated in this run; an id outside the fleet is an error."""
        if compressor not in self.fleet_compressors:
            raise ScenarioError(f"{where}: compressor {compressor!r} is not in the fleet")
        return compressor in self.book.station_of

    def window(self, start: object, end: object, where: str) -> tuple[int, int]:
        first, last = self.at(start), self.at(end)
        if not first < last:
            raise ScenarioError(f"{where}: needs start < end")
        return first, last

    def book_all(self) -> None:
        name = self.scenario.name
        for n, spec in enumerate(self.scenario.equipment_faults):
            where = f"scenario {name!r}: equipment_faults[{n}]"
            if not self.simulated(spec.compressor, where):
                continue
            onset, failure = self.at(spec.onset), self.at(spec.failure)
            repair = None if spec.repair is None else self.at(spec.repair)
            if not onset < failure or (repair is not None and repair <= failure):
                raise ScenarioError(f"{where}: needs onset < failure < repair")
            self.book.add_fault(
                spec.compressor, spec.mode, onset, failure, repair, source="scripted", where=where
            )
        for n, event in enumerate(self.scenario.operating_events):
            where = f"scenario {name!r}: operating_events[{n}]"
            if self.simulated(event.compressor, where):
                start, end = self.window(event.start, event.end, where)
                self.book.add_outage(
                    event.compressor, start, end, STATE_CODE[event.state], event.reason, where=where
                )
        for n, sensor_spec in enumerate(self.scenario.sensor_faults):
            self.sensor_fault(sensor_spec, f"scenario {name!r}: sensor_faults[{n}]")

    def sensor_fault(self, spec: SensorFaultSpec, where: str) -> None:
        window = self.window(spec.start, spec.end, where)
        if spec.kind == "clock_skew":
            assert spec.station is not None
            if spec.station not in self.fleet_stations:
                raise ScenarioError(f"{where}: station {spec.station!r} is not in the fleet")
            skew = spec.magnitude or 120.0
            if skew > 0.5 * (window[1] - window[0]):
                raise ScenarioError(
                    f"{where}: the clock must slew back: magnitude <= half the interval"
                )
            if spec.station in self.book.station_of.values():
                self.book.add_sensor_fault(
                    "clock_skew",
                    spec.station,
                    None,
                    None,
                    window,
                    magnitude=skew,
                    source="scripted",
                )
            return
        assert spec.compressor is not None
        if not self.simulated(spec.compressor, where):
            return
        magnitude, rate = spec.magnitude, spec.rate
        if spec.kind == "spike":
            magnitude = SPIKE_MAGNITUDE if magnitude is None else magnitude
            rate = SPIKE_RATE if rate is None else rate
        if spec.kind == "drift" and magnitude is None:
            raise ScenarioError(f"{where}: drift needs a magnitude (offset reached at the end)")
        station = self.book.station_of[spec.compressor]
        self.book.add_sensor_fault(
            spec.kind,
            station,
            spec.compressor,
            spec.sensor,
            window,
            magnitude=magnitude,
            rate=rate,
            source="scripted",
        )


def _timeline(outages: list[Outage]) -> Timeline:
    starts, states, previous, run_start = [LONG_AGO], [RUNNING], [RUNNING], [LONG_AGO]
    reasons = ["in service"]
    last_start = LONG_AGO
    for outage in sorted(outages, key=lambda o: o.start):
        starts.append(outage.start)
        states.append(outage.state)
        previous.append(states[-2])
        run_start.append(last_start)
        reasons.append(outage.reason)
        if outage.end is None:
            break
        last_start = outage.end
        starts += [outage.end, outage.end + STARTUP_S]
        states += [STARTUP, RUNNING]
        previous += [outage.state, STARTUP]
        run_start += [last_start, last_start]
        reasons += [f"return from {outage.reason}", "in service"]
    return Timeline(
        starts=np.array(starts, dtype=np.int64),
        states=np.array(states, dtype=np.int8),
        previous=np.array(previous, dtype=np.int8),
        run_start=np.array(run_start, dtype=np.int64),
        reasons=reasons,
    )


def build_schedule(
    scenario: Scenario, units: UnitTable, *, fleet_compressors: set[str], fleet_stations: set[str]
) -> Schedule:
    book = EventBook(station_of=dict(zip(units.compressor_ids, units.station_ids, strict=True)))
    _Scripted(scenario, book, fleet_compressors, fleet_stations).book_all()
    if scenario.random is not None:
        draw_random_events(
            book,
            units,
            scenario.random,
            seed=scenario.seed,
            start=scenario.start_s,
            end=scenario.end_s,
        )
    faults = sorted(book.faults, key=lambda f: (f.onset, f.compressor_id))
    outages = sorted(book.outages, key=lambda o: (o.start, o.compressor_id))
    sensor_faults = sorted(book.sensor_faults, key=lambda s: (s.start, s.fault_id))
    n = len(units)
    faults_by_unit: list[list[FaultEpisode]] = [[] for _ in range(n)]
    outages_by_unit: list[list[Outage]] = [[] for _ in range(n)]
    sensors_by_unit: list[list[SensorFault]] = [[] for _ in range(n)]
    skews: dict[str, list[SensorFault]] = {}
    for fault in faults:
        faults_by_unit[units.index_of(fault.compressor_id)].append(fault)
    for outage in outages:
        outages_by_unit[units.index_of(outage.compressor_id)].append(outage)
    for sensor_fault in sensor_faults:
        if sensor_fault.compressor_id is None:
            skews.setdefault(sensor_fault.station_id, []).append(sensor_fault)
        else:
            sensors_by_unit[units.index_of(sensor_fault.compressor_id)].append(sensor_fault)
    return Schedule(
        faults=faults,
        outages=outages,
        sensor_faults=sensor_faults,
        timelines=[_timeline(o) for o in outages_by_unit],
        faults_by_unit=faults_by_unit,
        sensor_faults_by_unit=sensors_by_unit,
        clock_skews_by_station=skews,
    )
