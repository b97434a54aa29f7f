"""Compressor physics, vectorized over [units, instants].

Every quantity is a pure function of the unit's parameters, the schedule and the
instant (plus counter-based noise), so any chunk of any run can be computed on its
own. Formulas and their sources: docs/simulator.md#physics.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator import noise
from simulator.faults import FaultLoad
from simulator.schedule import RUNNING, STANDBY, STARTUP, STARTUP_S, Schedule
from simulator.units import (
    ATMOSPHERE_PSI,
    HP_CONSTANT,
    RANKINE,
    UnitTable,
    suction_temp_f,
    volumetric_efficiency,
)

EPOCH_MONDAY_OFFSET_DAYS = 3.0  # 1970-01-01 was a Thursday
SETTLE_OUT_FRACTION = 0.3  # settle-out pressure: Ps + 0.3 (Pd - Ps)
PRESSURE_TAU_S = 120.0  # pressures settling after a stop or start
BLOWDOWN_TAU_S = 90.0  # venting to atmosphere
COOL_TAU_S = 2400.0  # discharge piping cooling after a stop
WARM_TAU_S = 600.0  # warming up after a start
FUEL_HHV_BTU_PER_SCF = 1020.0


class NoiseKeys:
    """Per-unit keys of every random stream of a run (station streams share a key)."""

    def __init__(self, seed: int, units: UnitTable) -> None:
        self.seed = seed
        self._ids = units.compressor_ids
        self._stations = units.station_ids
        self._cache: dict[str, np.ndarray] = {}

    def unit(self, name: str) -> np.ndarray:
        if name not in self._cache:
            self._cache[name] = noise.keys(self.seed, self._ids, "unit", name)
        return self._cache[name]

    def station(self, name: str) -> np.ndarray:
        key = f"station:{name}"
        if key not in self._cache:
            self._cache[key] = noise.keys(self.seed, self._stations, "station", name)
        return self._cache[key]


@dataclass
class Environment:
    """Line and weather conditions, [units, instants]."""

    ambient_f: np.ndarray
    suction_temp_f: np.ndarray
    suction_psig: np.ndarray
    discharge_psig: np.ndarray
    speed_fraction: np.ndarray


def _col(units: UnitTable, name: str, idx: np.ndarray) -> np.ndarray:
    return units[name][idx][:, None]


def day_of_year(t: np.ndarray) -> np.ndarray:
    """Fractional day of year (1-based) of Unix seconds."""
    moments = t.astype("datetime64[s]")
    year_start = moments.astype("datetime64[Y]").astype("datetime64[s]")
    return (moments - year_start).astype(np.float64) / 86400.0 + 1.0


def _station_conditions(
    units: UnitTable, rep: np.ndarray, t: np.ndarray, keys: NoiseKeys
) -> tuple[np.ndarray, ...]:
    """Weather and line conditions per station ([stations, instants]; `rep`: one unit per station)."""
    tf = t.astype(np.float64)[None, :]
    solar_hour = np.mod(tf / 3600.0 + _col(units, "longitude", rep) / 15.0, 24.0)
    doy = day_of_year(t)[None, :]
    seasonal = _col(units, "climate_seasonal", rep) * np.cos(
        2 * np.pi * (doy - _col(units, "warm_doy", rep)) / 365.25
    )
    diurnal = _col(units, "climate_diurnal", rep) * np.cos(
        2 * np.pi * (solar_hour - _col(units, "warm_hour", rep)) / 24.0
    )
    weather = _col(units, "weather_sd", rep) * noise.smooth(
        keys.station("weather")[rep], t, 30 * 3600.0
    )
    gusts = 0.6 * noise.smooth(keys.station("gusts")[rep], t, 900.0)
    ambient = _col(units, "climate_mean", rep) + seasonal + diurnal + weather + gusts
    # Demand: an evening peak, busier mid-week, and slow swings of the gathering system.
    days_since_monday = np.mod(
        tf / 86400.0 + EPOCH_MONDAY_OFFSET_DAYS + _col(units, "longitude", rep) / 360.0, 7.0
    )
    demand = (
        0.05 * np.cos(2 * np.pi * (solar_hour - 18.0) / 24.0)
        + 0.025 * np.cos(2 * np.pi * (days_since_monday - 2.5) / 7.0)
        + 0.03 * noise.smooth(keys.station("demand")[rep], t, 8 * 3600.0)
    )
    suction_line = 1.0 - 0.5 * demand + 0.01 * noise.smooth(keys.station("ps")[rep], t, 1200.0)
    discharge_line = 1.0 + 0.4 * demand + 0.004 * noise.smooth(keys.station("pd")[rep], t, 1800.0)
    return ambient, demand, suction_line, discharge_line


def environment(units: UnitTable, idx: np.ndarray, t: np.ndarray, keys: NoiseKeys) -> Environment:
    stations, inverse = np.unique(units.station_index[idx], return_inverse=True)
    ambient_s, demand_s, suction_s, discharge_s = _station_conditions(
        units, units.first_unit[stations], t, keys
    )
    ambient = ambient_s[inverse]
    demand = demand_s[inverse]
    unit_offset = noise.uniform(keys.unit("header")[idx], np.zeros(1, dtype=np.int64))
    suction = _col(units, "ps_nom", idx) * suction_s[inverse] * (1.0 - 0.01 * unit_offset)
    discharge = _col(units, "pd_nom", idx) * discharge_s[inverse] * (1.0 + 0.005 * unit_offset)
    suction_gas = suction_temp_f(ambient, _col(units, "climate_mean", idx)) + 0.5 * noise.smooth(
        keys.unit("ts")[idx], t, 1200.0
    )
    speed = np.clip(
        _col(units, "speed_design", idx) * (1.0 + 0.8 * demand)
        + 0.008 * noise.smooth(keys.unit("speed")[idx], t, 600.0),
        _col(units, "speed_min", idx),
        1.0,
    )
    return Environment(ambient, suction_gas, suction, discharge, speed)


@dataclass
class Physics:
    """True values of one chunk, [units, instants] (before sensor noise and faults)."""

    state: np.ndarray  # int8 state codes
    ambient_f: np.ndarray
    suction_temp_f: np.ndarray
    stage_inlet_temp_f: np.ndarray
    speed_rpm: np.ndarray
    vibration_mms: np.ndarray
    discharge_temp_f: np.ndarray
    suction_pressure_psi: np.ndarray
    discharge_pressure_psi: np.ndarray
    horsepower_consumption: np.ndarray
    gas_flow_mcf: np.ndarray
    methane_vent_scfh: np.ndarray
    fuel_scfh: np.ndarray
    load: FaultLoad


def compression(
    units: UnitTable, idx: np.ndarray, env: Environment, load: FaultLoad
) -> dict[str, np.ndarray]:
    """The unit as if running now: temperatures, flow, horsepower, vibration."""
    k = _col(units, "gas_k", idx)
    exponent = (k - 1.0) / k
    stages = _col(units, "stages", idx)
    ps_abs = env.suction_psig + ATMOSPHERE_PSI
    pd_abs = env.discharge_psig + ATMOSPHERE_PSI
    ratio = (pd_abs / ps_abs) ** (1.0 / stages)
    x = ratio**exponent - 1.0
    suction_r = env.suction_temp_f + RANKINE
    approach = _col(units, "approach", idx) * (
        0.8 + 0.2 * env.speed_fraction / _col(units, "speed_design", idx)
    )
    inter_f = env.ambient_f + approach + load.cooler_extra_f(env.ambient_f)
    inlet_r = np.where(stages > 1, inter_f + RANKINE, suction_r)
    eta = _col(units, "eta", idx)
    discharge_r = inlet_r * (1.0 + x / (eta * load.temperature_efficiency))
    speed = env.speed_fraction * (1.0 + load.speed_oscillation)
    ve = volumetric_efficiency(ratio, k, _col(units, "clearance", idx))
    displaced_mmscfd = _col(units, "capacity", idx) * speed * ve * ps_abs / suction_r
    gas_hp = (
        HP_CONSTANT
        / exponent
        * _col(units, "gas_z", idx)
        * x
        * (suction_r + (stages - 1.0) * (inter_f + RANKINE))
        * displaced_mmscfd
        / eta
    )
    bhp = gas_hp / _col(units, "eta_mech", idx) * load.horsepower_factor
    flow_mmscfd = displaced_mmscfd * load.flow_factor
    base = _col(units, "vib_base", idx)
    healthy_vib = base * (0.55 + 0.45 * speed**2) * (1.0 + 0.05 * load.vibration_texture)
    vibration = (
        healthy_vib + (_col(units, "vib_trip", idx) * 1.02 - healthy_vib) * load.bearing
    ) * load.vibration_factor
    return {
        "discharge_temp_f": discharge_r - RANKINE,
        "stage_inlet_temp_f": inlet_r - RANKINE,
        "speed_fraction": speed,
        "horsepower": bhp,
        "flow_mcfd": flow_mmscfd * 1000.0,
        "vibration": vibration,
    }


def _segments(
    schedule: Schedule, idx: np.ndarray, t: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """State, seconds in state, previous state and warm-up start, [units, instants]."""
    shape = (len(idx), len(t))
    state = np.empty(shape, dtype=np.int8)
    since = np.empty(shape, dtype=np.float64)
    previous = np.empty(shape, dtype=np.int8)
    run_start = np.empty(shape, dtype=np.int64)
    for row, u in enumerate(idx):
        timeline = schedule.timelines[u]
        seg = np.searchsorted(timeline.starts, t, side="right") - 1
        state[row] = timeline.states[seg]
        since[row] = (t - timeline.starts[seg]).astype(np.float64)
        previous[row] = timeline.previous[seg]
        run_start[row] = timeline.run_start[seg]
    return state, since, previous, run_start


def simulate(
    units: UnitTable, idx: np.ndarray, t: np.ndarray, schedule: Schedule, keys: NoiseKeys
) -> Physics:
    env = environment(units, idx, t, keys)
    load = FaultLoad.at(units, idx, t, schedule, keys)
    run = compression(units, idx, env, load)
    state, since, previous, run_start = _segments(schedule, idx, t)
    running = state == RUNNING
    startup = state == STARTUP
    standby = state == STANDBY
    ramp = np.clip(since / STARTUP_S, 0.0, 1.0)
    load_share = np.where(running, 1.0, np.where(startup, 0.3 + 0.7 * ramp, 0.0))

    # Pressures: settle out on standby, blow down to atmosphere on shutdown.
    settle = env.suction_psig + SETTLE_OUT_FRACTION * (env.discharge_psig - env.suction_psig)
    from_running = (previous == RUNNING) | (previous == STARTUP)
    decay_p = np.exp(-since / PRESSURE_TAU_S)
    decay_b = np.exp(-since / BLOWDOWN_TAU_S)
    start_level = np.where(previous == STANDBY, settle, 0.0)
    suction = np.select(
        [running, startup, standby],
        [
            env.suction_psig,
            env.suction_psig + (start_level - env.suction_psig) * decay_p,
            settle + (env.suction_psig - settle) * decay_p,
        ],
        default=np.where(from_running, env.suction_psig, settle) * decay_b,
    )
    discharge = np.select(
        [running, startup, standby],
        [
            env.discharge_psig,
            env.discharge_psig + (start_level - env.discharge_psig) * decay_p,
            settle + (env.discharge_psig - settle) * decay_p,
        ],
        default=np.where(from_running, env.discharge_psig, settle) * decay_b,
    )

    # Temperatures: warm up after a start, cool down towards ambient after a stop.
    warm = 1.0 - np.exp(-(t[None, :] - run_start).astype(np.float64) / WARM_TAU_S)
    rise = run["discharge_temp_f"] - env.ambient_f
    cooling = np.exp(-since / COOL_TAU_S)
    discharge_temp = env.ambient_f + rise * np.where(running | startup, warm, cooling)

    speed_fraction = np.where(
        running,
        run["speed_fraction"],
        np.where(startup, run["speed_fraction"] * (0.6 + 0.4 * ramp), 0.0),
    )
    background = 0.06 + 0.02 * np.abs(noise.normal(keys.unit("vib_bg")[idx], t))
    vibration = np.where(
        running,
        run["vibration"],
        np.where(startup, run["vibration"] * (0.6 + 0.4 * ramp) ** 2, background),
    )
    horsepower = run["horsepower"] * load_share
    flow = run["flow_mcfd"] * load_share

    pressurized = running | startup | standby
    throws = _col(units, "throws", idx)
    packing = throws * _col(units, "packing_scfh", idx) * load.packing_factor
    valve_leak_scfh = _unit_leak(keys, idx, "blowdown_valve", 0.5, 3.0)
    isolation_leak_scfh = _unit_leak(keys, idx, "isolation_valve", 0.5, 5.0)
    vent_gas = np.where(
        pressurized, packing + np.where(standby, valve_leak_scfh, 0.0), isolation_leak_scfh
    )
    methane_vent = vent_gas * _col(units, "methane_fraction", idx)
    fuel = horsepower * _col(units, "heat_rate", idx) / FUEL_HHV_BTU_PER_SCF

    return Physics(
        state=state,
        ambient_f=env.ambient_f,
        suction_temp_f=env.suction_temp_f,
        stage_inlet_temp_f=run["stage_inlet_temp_f"],
        speed_rpm=speed_fraction * _col(units, "rated_rpm", idx),
        vibration_mms=vibration,
        discharge_temp_f=discharge_temp,
        suction_pressure_psi=suction,
        discharge_pressure_psi=discharge,
        horsepower_consumption=horsepower,
        gas_flow_mcf=flow,
        methane_vent_scfh=methane_vent,
        fuel_scfh=fuel,
        load=load,
    )


def _unit_leak(keys: NoiseKeys, idx: np.ndarray, name: str, low: float, high: float) -> np.ndarray:
    draw = noise.uniform(keys.unit(name)[idx], np.zeros(1, dtype=np.int64))
    return low + (high - low) * draw


def line_pressures_at(
    units: UnitTable, u: int, at: int, keys: NoiseKeys
) -> tuple[float, float, float]:
    """Suction and discharge pressure (psig) and ambient (°F) of unit u's line at one instant."""
    env = environment(units, np.array([u]), np.array([at], dtype=np.int64), keys)
    return (
        float(env.suction_psig[0, 0]),
        float(env.discharge_psig[0, 0]),
        float(env.ambient_f[0, 0]),
    )
