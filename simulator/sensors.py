"""From true values to what a panel reports: noise, sensor faults, register resolution.

Sensor faults are labelled separately from equipment faults; they change what is
reported, never the truth. Definitions: docs/simulator.md#sensor-faults.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from shared.register_map import quantize_array
from shared.schema import SENSOR_FIELDS, Quality, ReadingFlag
from simulator import noise
from simulator.physics import NoiseKeys, Physics
from simulator.schedule import Schedule, SensorFault
from simulator.units import UnitTable

#: Measurement noise: (absolute sd, sd relative to the value).
NOISE_SD: dict[str, tuple[float, float]] = {
    "vibration_mms": (0.005, 0.015),
    "discharge_temp_f": (0.3, 0.0),
    "suction_pressure_psi": (0.1, 0.001),
    "discharge_pressure_psi": (0.5, 0.0008),
    "horsepower_consumption": (1.0, 0.005),
    "gas_flow_mcf": (5.0, 0.005),
}

#: Panel-computed values (engine load, metered flow with a low-flow cutoff) read exactly
#: zero when the unit is stopped.
COMPUTED_ZERO_WHEN_STOPPED = ("horsepower_consumption", "gas_flow_mcf")

FAULT_BIT = {"stuck": 1, "dropout": 2, "spike": 4, "drift": 8, "clock_skew": 16}

#: A stuck sensor repeats the value it measured when it stuck: (unit, sensor, instant) -> value.
ReferenceValue = Callable[[int, str, int], float]


@dataclass
class Reported:
    """What the panel reports for one chunk, [units, instants]."""

    values: dict[str, np.ndarray]  # float64 at register resolution; NaN = no value
    quality: dict[str, np.ndarray]  # int8 Quality codes
    unit_dropout: np.ndarray  # bool: the unit did not answer
    sensor_fault_mask: np.ndarray  # int8 bits of FAULT_BIT
    timestamp_us: np.ndarray  # int64 gateway stamps
    flags: np.ndarray  # int32 ReadingFlag


def measure(
    idx: np.ndarray, t: np.ndarray, physics: Physics, keys: NoiseKeys
) -> dict[str, np.ndarray]:
    """True value + white measurement noise per sensor."""
    draws = noise.normals(keys.unit("measurement")[idx], t, len(SENSOR_FIELDS))
    measured = {}
    for sensor, draw in zip(SENSOR_FIELDS, draws, strict=True):
        truth = getattr(physics, sensor)
        absolute, relative = NOISE_SD[sensor]
        noisy = truth + (absolute + relative * np.abs(truth)) * draw
        if sensor in COMPUTED_ZERO_WHEN_STOPPED:
            noisy = np.where(truth == 0.0, 0.0, noisy)
        measured[sensor] = noisy
    return measured


def _overlap(fault: SensorFault, t: np.ndarray) -> np.ndarray:
    return (t >= fault.start) & (t < fault.end)


def report(
    units: UnitTable,
    idx: np.ndarray,
    t: np.ndarray,
    measured: dict[str, np.ndarray],
    schedule: Schedule,
    keys: NoiseKeys,
    *,
    step_s: int,
    reference: ReferenceValue,
) -> Reported:
    values = {sensor: measured[sensor].copy() for sensor in SENSOR_FIELDS}
    shape = (len(idx), len(t))
    mask = np.zeros(shape, dtype=np.int8)
    unit_dropout = np.zeros(shape, dtype=bool)
    sensor_nan = {sensor: np.zeros(shape, dtype=bool) for sensor in SENSOR_FIELDS}
    tf = t.astype(np.float64)
    for row, u in enumerate(idx):
        for fault in schedule.sensor_faults_by_unit[u]:
            hit = _overlap(fault, t)
            if not hit.any():
                continue
            sensor = fault.sensor
            if fault.kind == "dropout":
                if sensor is None:
                    unit_dropout[row] |= hit
                else:
                    sensor_nan[sensor][row] |= hit
            elif fault.kind == "stuck":
                assert sensor is not None
                values[sensor][row, hit] = reference(int(u), sensor, fault.start)
            elif fault.kind == "drift":
                assert sensor is not None and fault.magnitude is not None
                share = (tf[hit] - fault.start) / (fault.end - fault.start)
                values[sensor][row, hit] += fault.magnitude * share
            elif fault.kind == "spike":
                assert sensor is not None
                key = keys.unit(f"spike:{sensor}")[[u]]
                draw = noise.uniform(key, t[hit])[0]
                spiking = draw < (fault.rate or 0.0)
                sign = np.where(noise.uniform(key ^ np.uint64(0x5A5A), t[hit])[0] < 0.5, -1.0, 1.0)
                factor = np.where(
                    spiking,
                    1.0
                    + sign
                    * (fault.magnitude or 0.0)
                    * (0.5 + draw / max(fault.rate or 1.0, 1e-9) * 0.5),
                    1.0,
                )
                values[sensor][row, hit] *= factor
                spike_bits = np.zeros(len(t), dtype=bool)
                spike_bits[np.flatnonzero(hit)[spiking]] = True
                mask[row] |= np.where(spike_bits, np.int8(FAULT_BIT["spike"]), np.int8(0))
                continue
            mask[row] |= np.where(hit, np.int8(FAULT_BIT[fault.kind]), np.int8(0))

    quality: dict[str, np.ndarray] = {}
    groups = units.map_groups(idx)
    for sensor in SENSOR_FIELDS:
        reported = np.empty(shape)
        code = np.zeros(shape, dtype=np.int8)
        for register_map, rows in groups:
            point = register_map.point(sensor)
            reported[rows] = quantize_array(point, values[sensor][rows])
            if point.valid_range is not None:
                low, high = point.valid_range
                outside = (reported[rows] < low) | (reported[rows] > high)
                code[rows] = np.where(outside, np.int8(Quality.OUT_OF_RANGE), np.int8(Quality.OK))
        reported[sensor_nan[sensor] | unit_dropout] = np.nan
        code[sensor_nan[sensor]] = Quality.NOT_A_NUMBER
        code[unit_dropout] = Quality.COMM_ERROR
        mask |= np.where(sensor_nan[sensor], np.int8(FAULT_BIT["dropout"]), np.int8(0))
        values[sensor] = reported
        quality[sensor] = code
    mask |= np.where(unit_dropout, np.int8(FAULT_BIT["dropout"]), np.int8(0))

    stamps, flags, skew_mask = gateway_stamps(units, idx, t, schedule, step_s=step_s)
    mask |= skew_mask
    return Reported(values, quality, unit_dropout, mask, stamps, flags)


def gateway_stamps(
    units: UnitTable, idx: np.ndarray, t: np.ndarray, schedule: Schedule, *, step_s: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gateway timestamps (µs), reading flags and the clock-skew mask, [units, instants].

    A skewed gateway clock jumps ahead by `magnitude` seconds at the start and slews
    back to true time by the end, so stamps stay strictly increasing.
    """
    shape = (len(idx), len(t))
    offset_us = np.zeros(shape, dtype=np.int64)
    flags = np.full(shape, int(ReadingFlag.SIMULATED), dtype=np.int32)
    skew_mask = np.zeros(shape, dtype=np.int8)
    stations = np.array(units.station_ids)[idx]
    for station_id, skews in schedule.clock_skews_by_station.items():
        rows = stations == station_id
        if not rows.any():
            continue
        for skew in skews:
            hit = _overlap(skew, t)
            if not hit.any():
                continue
            share = (t[hit] - skew.start) / (skew.end - skew.start)
            offset = np.round((skew.magnitude or 0.0) * (1.0 - share) * 1e6).astype(np.int64)
            offset_us[np.ix_(rows, hit)] = offset[None, :]
            skew_mask[np.ix_(rows, hit)] = FAULT_BIT["clock_skew"]
            jump = hit & (t - step_s < skew.start)
            flags[np.ix_(rows, jump)] |= int(ReadingFlag.CLOCK_JUMP)
    return t.astype(np.int64)[None, :] * 1_000_000 + offset_us, flags, skew_mask
