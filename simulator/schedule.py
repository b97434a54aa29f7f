"""What happens when: equipment-fault episodes, outages (operating states), sensor faults.

Built once per run from the scenario's scripted events plus random events drawn
from the seed. Random events are renewal processes per compressor and event type,
each with its own generator keyed by (seed, type, compressor id), so a unit's
events do not change when the fleet grows or the horizon is extended.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from shared.schema import SENSOR_FIELDS
from simulator.errors import ScenarioError
from simulator.noise import stream_key
from simulator.scenario import FAULT_MODES, RandomEvents, Scenario, SensorFaultSpec, resolve_instant
from simulator.units import UnitTable

#: Operating-state codes used in arrays (same order as the status register codes).
STATE_NAMES: tuple[str, ...] = (
    "shutdown_depressurized",
    "standby_pressurized",
    "startup",
    "running",
)
SHUTDOWN, STANDBY, STARTUP, RUNNING = range(4)
STATE_CODE = {name: code for code, name in enumerate(STATE_NAMES)}

STARTUP_S = 900
NEVER = 2**62
LONG_AGO = -(2**62)

DAY = 86400
HOUR = 3600

#: Onset -> failure, in days (random faults).
PROGRESSION_DAYS: dict[str, tuple[float, float]] = {
    "valve_leak": (2.0, 10.0),
    "bearing_wear": (5.0, 30.0),
    "cooler_fouling": (10.0, 40.0),
    "rod_packing_leak": (5.0, 30.0),
    "driver_problem": (1.0, 5.0),
}
REPAIR_HOURS = (8.0, 48.0)
MAINTENANCE_HOURS = (4.0, 16.0)
STANDBY_HOURS = (1.0, 18.0)
SENSOR_FAULT_MINUTES: dict[str, tuple[float, float]] = {
    "stuck": (30.0, 720.0),
    "dropout": (1.0, 60.0),
    "spike": (60.0, 360.0),
    "drift": (2 * 1440.0, 10 * 1440.0),
    "clock_skew": (10.0, 360.0),
}
#: Drift reached at the end of a random drift interval, per sensor (absolute units or
#: a fraction of the nominal value where marked relative).
DRIFT_MAGNITUDE: dict[str, tuple[float, float, bool]] = {
    "vibration_mms": (0.5, 1.5, False),
    "discharge_temp_f": (8.0, 20.0, False),
    "suction_pressure_psi": (0.03, 0.08, True),
    "discharge_pressure_psi": (0.03, 0.08, True),
    "horsepower_consumption": (0.03, 0.08, True),
    "gas_flow_mcf": (0.03, 0.08, True),
}
SPIKE_RATE = 0.02
SPIKE_MAGNITUDE = 0.6


def _stamp(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y%m%dT%H%M%S")


@dataclass(frozen=True)
class FaultEpisode:
    fault_id: str
    station_id: str
    compressor_id: str
    mode: str
    onset: int
    failure: int
    repair: int | None
    source: str


@dataclass(frozen=True)
class Outage:
    station_id: str
    compressor_id: str
    start: int
    end: int | None
    state: int
    reason: str
    fault_id: str | None


@dataclass(frozen=True)
class SensorFault:
    fault_id: str
    kind: str
    station_id: str
    compressor_id: str | None
    sensor: str | None
    start: int
    end: int
    magnitude: float | None
    rate: float | None
    source: str


@dataclass
class Timeline:
    """A unit's operating-state segments; segment i covers [starts[i], starts[i+1])."""

    starts: np.ndarray
    states: np.ndarray
    previous: np.ndarray
    #: Start of the latest startup at or before the segment (warm-up clock).
    run_start: np.ndarray
    #: Why the unit is in each segment ("running", "low demand", "trip: valve_leak", ...).
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


def _window(outage: Outage) -> tuple[int, int]:
    return outage.start, NEVER if outage.end is None else outage.end + STARTUP_S


def _fault_window(fault: FaultEpisode) -> tuple[int, int]:
    return fault.onset, NEVER if fault.repair is None else fault.repair + STARTUP_S


def _overlaps(window: tuple[int, int], taken: list[tuple[int, int]]) -> bool:
    return any(window[0] < end and start < window[1] for start, end in taken)


class _Builder:
    def __init__(
        self,
        scenario: Scenario,
        units: UnitTable,
        fleet_compressors: set[str],
        fleet_stations: set[str],
    ) -> None:
        self.scenario = scenario
        self.units = units
        self.start = scenario.start_s
        self.end = scenario.end_s
        self.fleet_compressors = fleet_compressors
        self.fleet_stations = fleet_stations
        self.simulated = set(units.compressor_ids)
        self.faults: list[FaultEpisode] = []
        self.outages: list[Outage] = []
        self.sensor_faults: list[SensorFault] = []

    def at(self, value: object) -> int:
        return resolve_instant(value, self.start)  # type: ignore[arg-type]

    def _known(self, compressor: str, where: str) -> bool:
        if compressor not in self.fleet_compressors:
            raise ScenarioError(f"{where}: compressor {compressor!r} is not in the fleet")
        return compressor in self.simulated

    def station_of(self, compressor: str) -> str:
        return self.units.station_ids[self.units.index_of(compressor)]

    # -- scripted ---------------------------------------------------------------------

    def scripted(self) -> None:
        for n, spec in enumerate(self.scenario.equipment_faults):
            where = f"scenario {self.scenario.name!r}: equipment_faults[{n}]"
            if not self._known(spec.compressor, where):
                continue
            onset, failure = self.at(spec.onset), self.at(spec.failure)
            repair = None if spec.repair is None else self.at(spec.repair)
            if not onset < failure or (repair is not None and repair <= failure):
                raise ScenarioError(f"{where}: needs onset < failure < repair")
            self._add_fault(spec.compressor, spec.mode, onset, failure, repair, "scripted", where)
        for n, event in enumerate(self.scenario.operating_events):
            where = f"scenario {self.scenario.name!r}: operating_events[{n}]"
            if not self._known(event.compressor, where):
                continue
            start, end = self.at(event.start), self.at(event.end)
            if not start < end:
                raise ScenarioError(f"{where}: needs start < end")
            outage = Outage(
                self.station_of(event.compressor),
                event.compressor,
                start,
                end,
                STATE_CODE[event.state],
                event.reason,
                None,
            )
            if _overlaps(_window(outage), self._outage_windows(event.compressor)):
                raise ScenarioError(f"{where}: overlaps another outage of {event.compressor}")
            self.outages.append(outage)
        for n, sensor_spec in enumerate(self.scenario.sensor_faults):
            where = f"scenario {self.scenario.name!r}: sensor_faults[{n}]"
            self._scripted_sensor_fault(sensor_spec, where)

    def _scripted_sensor_fault(self, spec: SensorFaultSpec, where: str) -> None:
        start, end = self.at(spec.start), self.at(spec.end)
        if not start < end:
            raise ScenarioError(f"{where}: needs start < end")
        if spec.kind == "clock_skew":
            assert spec.station is not None
            if spec.station not in self.fleet_stations:
                raise ScenarioError(f"{where}: station {spec.station!r} is not in the fleet")
            if spec.station not in self.units.station_ids:
                return
            skew = spec.magnitude or 120.0
            if skew > 0.5 * (end - start):
                raise ScenarioError(
                    f"{where}: the clock must slew back: magnitude <= half the interval"
                )
            self._add_sensor_fault(
                "clock_skew", spec.station, None, None, start, end, skew, None, "scripted"
            )
            return
        assert spec.compressor is not None
        if not self._known(spec.compressor, where):
            return
        magnitude = spec.magnitude
        if spec.kind == "spike" and magnitude is None:
            magnitude = SPIKE_MAGNITUDE
        if spec.kind == "drift" and magnitude is None:
            raise ScenarioError(f"{where}: drift needs a magnitude (offset reached at the end)")
        rate = spec.rate
        if spec.kind == "spike" and rate is None:
            rate = SPIKE_RATE
        station = self.station_of(spec.compressor)
        self._add_sensor_fault(
            spec.kind,
            station,
            spec.compressor,
            spec.sensor,
            start,
            end,
            magnitude,
            rate,
            "scripted",
        )

    def _add_fault(
        self,
        compressor: str,
        mode: str,
        onset: int,
        failure: int,
        repair: int | None,
        source: str,
        where: str | None,
    ) -> bool:
        station = self.station_of(compressor)
        fault = FaultEpisode(
            f"{compressor}.{mode}.{_stamp(onset)}",
            station,
            compressor,
            mode,
            onset,
            failure,
            repair,
            source,
        )
        outage = Outage(
            station, compressor, failure, repair, SHUTDOWN, f"trip: {mode}", fault.fault_id
        )
        taken = self._fault_windows(compressor) + self._outage_windows(compressor)
        if _overlaps(_fault_window(fault), taken):
            if where is not None:
                raise ScenarioError(f"{where}: overlaps another fault or outage of {compressor}")
            return False
        self.faults.append(fault)
        self.outages.append(outage)
        return True

    def _add_sensor_fault(
        self,
        kind: str,
        station: str,
        compressor: str | None,
        sensor: str | None,
        start: int,
        end: int,
        magnitude: float | None,
        rate: float | None,
        source: str,
    ) -> bool:
        target = compressor or station
        fault_id = f"{target}.{kind}.{sensor or 'all'}.{_stamp(start)}"
        for other in self.sensor_faults:
            same_target = other.compressor_id == compressor and other.station_id == station
            same_sensor = other.sensor is None or sensor is None or other.sensor == sensor
            if (
                same_target
                and same_sensor
                and (other.kind == "clock_skew") == (kind == "clock_skew")
                and start < other.end
                and other.start < end
            ):
                if source == "scripted":
                    raise ScenarioError(f"sensor fault {fault_id} overlaps {other.fault_id}")
                return False
        self.sensor_faults.append(
            SensorFault(
                fault_id, kind, station, compressor, sensor, start, end, magnitude, rate, source
            )
        )
        return True

    def _fault_windows(self, compressor: str) -> list[tuple[int, int]]:
        return [_fault_window(f) for f in self.faults if f.compressor_id == compressor]

    def _outage_windows(self, compressor: str) -> list[tuple[int, int]]:
        return [_window(o) for o in self.outages if o.compressor_id == compressor]

    # -- random -------------------------------------------------------------------------

    def random(self, rates: RandomEvents) -> None:
        seed = self.scenario.seed
        for u, compressor in enumerate(self.units.compressor_ids):
            stages = int(self.units["stages"][u])
            self._random_faults(
                compressor,
                stages,
                rates,
                np.random.default_rng(stream_key(seed, "faults", compressor)),
            )
            self._random_outages(
                compressor,
                rates.maintenance_per_unit_year / 365.0,
                MAINTENANCE_HOURS,
                SHUTDOWN,
                "planned maintenance",
                np.random.default_rng(stream_key(seed, "maintenance", compressor)),
            )
            self._random_outages(
                compressor,
                rates.standby_per_unit_month / 30.0,
                STANDBY_HOURS,
                STANDBY,
                "low demand",
                np.random.default_rng(stream_key(seed, "standby", compressor)),
            )
            for kind, per_month in sorted(rates.sensor_faults_per_unit_month.items()):
                self._random_sensor_faults(
                    compressor,
                    kind,
                    per_month / 30.0,
                    np.random.default_rng(stream_key(seed, "sensor", kind, compressor)),
                )
        for station in self.units.stations:
            self._random_sensor_faults(
                station.id,
                "clock_skew",
                rates.clock_skew_per_station_month / 30.0,
                np.random.default_rng(stream_key(seed, "clock", station.id)),
            )

    def _random_faults(
        self, compressor: str, stages: int, rates: RandomEvents, rng: np.random.Generator
    ) -> None:
        per_day = rates.equipment_faults_per_unit_year / 365.0
        modes = [
            m
            for m in FAULT_MODES
            if rates.mode_weights.get(m, 0) > 0 and not (m == "cooler_fouling" and stages == 1)
        ]
        if per_day <= 0 or not modes:
            return
        weights = np.array([rates.mode_weights[m] for m in modes], dtype=np.float64)
        t = self.start
        while True:
            onset = t + int(rng.exponential(1.0 / per_day) * DAY)
            mode = modes[int(rng.choice(len(modes), p=weights / weights.sum()))]
            low, high = PROGRESSION_DAYS[mode]
            failure = onset + int(rng.uniform(low, high) * DAY)
            repair = failure + int(rng.uniform(*REPAIR_HOURS) * HOUR)
            if onset >= self.end:
                return
            if self._add_fault(compressor, mode, onset, failure, repair, "random", None):
                t = repair + STARTUP_S
            else:
                t = onset

    def _random_outages(
        self,
        compressor: str,
        per_day: float,
        hours: tuple[float, float],
        state: int,
        reason: str,
        rng: np.random.Generator,
    ) -> None:
        if per_day <= 0:
            return
        t = self.start
        station = self.station_of(compressor)
        while True:
            start = t + int(rng.exponential(1.0 / per_day) * DAY)
            end = start + int(rng.uniform(*hours) * HOUR)
            if start >= self.end:
                return
            outage = Outage(station, compressor, start, end, state, reason, None)
            if not _overlaps(
                _window(outage), self._fault_windows(compressor) + self._outage_windows(compressor)
            ):
                self.outages.append(outage)
            t = end + STARTUP_S

    def _random_sensor_faults(
        self, target: str, kind: str, per_day: float, rng: np.random.Generator
    ) -> None:
        if per_day <= 0:
            return
        t = self.start
        while True:
            start = t + int(rng.exponential(1.0 / per_day) * DAY)
            low, high = SENSOR_FAULT_MINUTES[kind]
            end = start + max(60, int(rng.uniform(low, high) * 60))
            sensor_index = int(rng.integers(len(SENSOR_FIELDS)))
            draw = float(rng.uniform())
            sign = 1.0 if rng.uniform() < 0.5 else -1.0
            if start >= self.end:
                return
            t = end
            if kind == "clock_skew":
                skew = min(30.0 + 570.0 * draw, 0.5 * (end - start))
                self._add_sensor_fault(
                    kind, target, None, None, start, end, float(round(skew)), None, "random"
                )
                continue
            sensor: str | None = SENSOR_FIELDS[sensor_index]
            magnitude: float | None = None
            rate = None
            if kind == "dropout" and draw < 0.5:
                sensor = None  # the whole unit stops answering
            elif kind == "drift":
                assert sensor is not None
                low_m, high_m, relative = DRIFT_MAGNITUDE[sensor]
                size = low_m + (high_m - low_m) * draw
                if relative:
                    size *= self._nominal(target, sensor)
                magnitude = round(sign * size, 3)
            elif kind == "spike":
                magnitude, rate = SPIKE_MAGNITUDE, SPIKE_RATE
            self._add_sensor_fault(
                kind, self.station_of(target), target, sensor, start, end, magnitude, rate, "random"
            )

    def _nominal(self, compressor: str, sensor: str) -> float:
        u = self.units.index_of(compressor)
        p = self.units.params
        nominal = {
            "suction_pressure_psi": p["ps_nom"][u],
            "discharge_pressure_psi": p["pd_nom"][u],
            "horsepower_consumption": p["design_load"][u] * p["rated_hp"][u],
            "gas_flow_mcf": p["flow_design_mmscfd"][u] * 1000.0,
        }
        return float(nominal[sensor])


def _timeline(outages: list[Outage]) -> Timeline:
    starts = [LONG_AGO]
    states = [RUNNING]
    previous = [RUNNING]
    run_start = [LONG_AGO]
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
    builder = _Builder(scenario, units, fleet_compressors, fleet_stations)
    builder.scripted()
    if scenario.random is not None:
        builder.random(scenario.random)
    faults = sorted(builder.faults, key=lambda f: (f.onset, f.compressor_id))
    outages = sorted(builder.outages, key=lambda o: (o.start, o.compressor_id))
    sensor_faults = sorted(builder.sensor_faults, key=lambda s: (s.start, s.fault_id))
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
