"""Random events drawn from the seed: renewal processes per compressor and event type.

Each (seed, event type, compressor id) has its own generator and draws a fixed
number of numbers per event, so a unit's events do not change when the fleet grows
or the horizon is extended. Rates: `simulator.scenario.RandomEvents`.
"""

from __future__ import annotations

import numpy as np

from shared.schema import SENSOR_FIELDS
from simulator.events import DAY, HOUR, SHUTDOWN, STANDBY, STARTUP_S, EventBook
from simulator.noise import stream_key
from simulator.scenario import FAULT_MODES, RandomEvents
from simulator.units import UnitTable

#: Onset -> failure, in days.
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
#: Offset a random drift reaches at its end: (low, high, relative to the nominal value?).
DRIFT_MAGNITUDE: dict[str, tuple[float, float, bool]] = {
    "vibration_mms": (0.5, 1.5, False),
    "discharge_temp_f": (8.0, 20.0, False),
    "suction_pressure_psi": (0.03, 0.08, True),
    "discharge_pressure_psi": (0.03, 0.08, True),
    "horsepower_consumption": (0.03, 0.08, True),
    "gas_flow_mcf": (0.03, 0.08, True),
}
SPIKE_RATE = 0.02  # share of readings in a spike interval that spike
SPIKE_MAGNITUDE = 0.6  # relative size (a spike is 0.5-1x this)


def draw_random_events(
    book: EventBook, units: UnitTable, rates: RandomEvents, *, seed: int, start: int, end: int
) -> None:
    """Book random events with onsets in [start, end) for every unit and station."""

    def rng(*parts: str) -> np.random.Generator:
        return np.random.default_rng(stream_key(seed, *parts))

    for u, compressor in enumerate(units.compressor_ids):
        stages = int(units["stages"][u])
        _faults(book, compressor, stages, rates, rng("faults", compressor), start, end)
        maintenance = rates.maintenance_per_unit_year / 365.0
        _outages(
            book,
            compressor,
            maintenance,
            MAINTENANCE_HOURS,
            SHUTDOWN,
            "planned maintenance",
            rng("maintenance", compressor),
            start,
            end,
        )
        standby = rates.standby_per_unit_month / 30.0
        _outages(
            book,
            compressor,
            standby,
            STANDBY_HOURS,
            STANDBY,
            "low demand",
            rng("standby", compressor),
            start,
            end,
        )
        for kind, per_month in sorted(rates.sensor_faults_per_unit_month.items()):
            _sensor_faults(
                book,
                units,
                compressor,
                kind,
                per_month / 30.0,
                rng("sensor", kind, compressor),
                start,
                end,
            )
    for station in units.stations:
        _sensor_faults(
            book,
            units,
            station.id,
            "clock_skew",
            rates.clock_skew_per_station_month / 30.0,
            rng("clock", station.id),
            start,
            end,
        )


def _faults(
    book: EventBook,
    compressor: str,
    stages: int,
    rates: RandomEvents,
    rng: np.random.Generator,
    start: int,
    end: int,
) -> None:
    per_day = rates.equipment_faults_per_unit_year / 365.0
    # An intercooler only exists between stages: no cooler fouling on a single-stage unit.
    modes = [
        m
        for m in FAULT_MODES
        if rates.mode_weights.get(m, 0) > 0 and not (m == "cooler_fouling" and stages == 1)
    ]
    if per_day <= 0 or not modes:
        return
    weights = np.array([rates.mode_weights[m] for m in modes], dtype=np.float64)
    t = start
    while True:
        onset = t + int(rng.exponential(1.0 / per_day) * DAY)
        mode = modes[int(rng.choice(len(modes), p=weights / weights.sum()))]
        failure = onset + int(rng.uniform(*PROGRESSION_DAYS[mode]) * DAY)
        repair = failure + int(rng.uniform(*REPAIR_HOURS) * HOUR)
        if onset >= end:
            return
        if book.add_fault(compressor, mode, onset, failure, repair, source="random"):
            t = repair + STARTUP_S
        else:
            t = onset


def _outages(
    book: EventBook,
    compressor: str,
    per_day: float,
    hours: tuple[float, float],
    state: int,
    reason: str,
    rng: np.random.Generator,
    start: int,
    end: int,
) -> None:
    if per_day <= 0:
        return
    t = start
    while True:
        stop = t + int(rng.exponential(1.0 / per_day) * DAY)
        back = stop + int(rng.uniform(*hours) * HOUR)
        if stop >= end:
            return
        book.add_outage(compressor, stop, back, state, reason)
        t = back + STARTUP_S


def _sensor_faults(
    book: EventBook,
    units: UnitTable,
    target: str,
    kind: str,
    per_day: float,
    rng: np.random.Generator,
    start: int,
    end: int,
) -> None:
    if per_day <= 0:
        return
    t = start
    while True:
        first = t + int(rng.exponential(1.0 / per_day) * DAY)
        low, high = SENSOR_FAULT_MINUTES[kind]
        last = first + max(60, int(rng.uniform(low, high) * 60))
        sensor_index = int(rng.integers(len(SENSOR_FIELDS)))
        draw = float(rng.uniform())
        sign = 1.0 if rng.uniform() < 0.5 else -1.0
        if first >= end:
            return
        t = last
        if kind == "clock_skew":
            skew = float(round(min(30.0 + 570.0 * draw, 0.5 * (last - first))))
            book.add_sensor_fault(
                kind, target, None, None, (first, last), magnitude=skew, source="random"
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
                size *= _nominal(units, target, sensor)
            magnitude = round(sign * size, 3)
        elif kind == "spike":
            magnitude, rate = SPIKE_MAGNITUDE, SPIKE_RATE
        station = book.station_of[target]
        book.add_sensor_fault(
            kind,
            station,
            target,
            sensor,
            (first, last),
            magnitude=magnitude,
            rate=rate,
            source="random",
        )


def _nominal(units: UnitTable, compressor: str, sensor: str) -> float:
    u = units.index_of(compressor)
    p = units.params
    nominal = {
        "suction_pressure_psi": p["ps_nom"][u],
        "discharge_pressure_psi": p["pd_nom"][u],
        "horsepower_consumption": p["design_load"][u] * p["rated_hp"][u],
        "gas_flow_mcf": p["flow_design_mmscfd"][u] * 1000.0,
    }
    return float(nominal[sensor])
