"""Arrow tables of a run: readings (shared schema), per-reading truth, and event tables.

Formats are documented in docs/simulator.md#ground-truth.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pyarrow as pa

from shared.reading_table import TIMESTAMP_TYPE, conform_readings
from shared.schema import QUALITY_FIELDS, SENSOR_FIELDS, OperatingState
from simulator.engine import Blowdown, Chunk, Simulation
from simulator.scenario import FAULT_MODES
from simulator.schedule import STARTUP_S, STATE_NAMES

STATE_DICTIONARY = pa.array([*STATE_NAMES, OperatingState.UNKNOWN], type=pa.string())
UNKNOWN_CODE = len(STATE_NAMES)
MODE_DICTIONARY = pa.array(FAULT_MODES, type=pa.string())

TRUTH_SCHEMA = pa.schema(
    [
        pa.field("station_id", pa.string(), nullable=False),
        pa.field("compressor_id", pa.string(), nullable=False),
        pa.field("timestamp", TIMESTAMP_TYPE, nullable=False),
        pa.field("true_timestamp", TIMESTAMP_TYPE, nullable=False),
        pa.field("seq", pa.int64(), nullable=False),
        pa.field("operating_state", pa.string(), nullable=False),
        pa.field("ambient_temp_f", pa.float32(), nullable=False),
        pa.field("suction_temp_f", pa.float32(), nullable=False),
        pa.field("stage_inlet_temp_f", pa.float32(), nullable=False),
        pa.field("speed_rpm", pa.float32(), nullable=False),
        *(pa.field(f"true_{s}", pa.float32(), nullable=False) for s in SENSOR_FIELDS),
        pa.field("methane_vent_scfh", pa.float32(), nullable=False),
        pa.field("fuel_scfh", pa.float32(), nullable=False),
        pa.field("fault_id", pa.string(), nullable=True),
        pa.field("fault_mode", pa.string(), nullable=True),
        pa.field("fault_severity", pa.float32(), nullable=False),
        pa.field("time_to_failure_s", pa.int64(), nullable=True),
        pa.field("sensor_fault_mask", pa.int8(), nullable=False),
    ]
)


def _dictionary_column(codes: np.ndarray, dictionary: pa.Array) -> pa.Array:
    mask = codes < 0
    indices = pa.array(np.where(mask, 0, codes).astype(np.int32), mask=mask if mask.any() else None)
    return pa.DictionaryArray.from_arrays(indices, dictionary).cast(pa.string())


def _repeat_ids(ids: list[str], idx: np.ndarray, per_unit: int) -> pa.Array:
    return _dictionary_column(
        np.repeat(np.arange(len(idx), dtype=np.int32), per_unit), pa.array([ids[u] for u in idx])
    )


def sequence_numbers(sim: Simulation, chunk: Chunk, *, start_s: int, step_s: int) -> np.ndarray:
    """Per-station sequence numbers in poll order: instant j, unit p of m -> j*m + p + 1."""
    j = (chunk.t - start_s) // step_s
    size = sim.units.station_size[chunk.idx][:, None]
    position = sim.units.position[chunk.idx][:, None]
    return (j[None, :] * size + position + 1).astype(np.int64)


def readings_table(sim: Simulation, chunk: Chunk, seq: np.ndarray) -> pa.Table:
    """The reported readings, unit-major then time, in the shared reading schema."""
    per_unit = len(chunk.t)
    reported = chunk.reported
    state = np.where(reported.unit_dropout, UNKNOWN_CODE, chunk.physics.state).astype(np.int32)
    columns: dict[str, pa.Array] = {
        "station_id": _repeat_ids(sim.units.station_ids, chunk.idx, per_unit),
        "compressor_id": _repeat_ids(sim.units.compressor_ids, chunk.idx, per_unit),
        "seq": pa.array(seq.ravel()),
        "timestamp": pa.array(reported.timestamp_us.ravel(), type=pa.int64()).cast(TIMESTAMP_TYPE),
        "operating_state": _dictionary_column(state.ravel(), STATE_DICTIONARY),
        "reading_flags": pa.array(reported.flags.ravel()),
    }
    for sensor, quality_column in zip(SENSOR_FIELDS, QUALITY_FIELDS, strict=True):
        values = reported.values[sensor].ravel().astype(np.float32)
        missing = np.isnan(values)
        columns[sensor] = pa.array(values, mask=missing if missing.any() else None)
        columns[quality_column] = pa.array(reported.quality[sensor].ravel())
    return conform_readings(pa.table(columns))


def truth_table(sim: Simulation, chunk: Chunk, seq: np.ndarray) -> pa.Table:
    per_unit = len(chunk.t)
    physics = chunk.physics
    load = physics.load
    fault_ids = pa.array([f.fault_id for f in sim.schedule.faults] or [""], type=pa.string())
    ttf = load.time_to_failure_s.ravel()
    no_ttf = np.isnan(ttf)

    def f32(values: np.ndarray) -> pa.Array:
        return pa.array(values.ravel().astype(np.float32))

    columns: dict[str, pa.Array] = {
        "station_id": _repeat_ids(sim.units.station_ids, chunk.idx, per_unit),
        "compressor_id": _repeat_ids(sim.units.compressor_ids, chunk.idx, per_unit),
        "timestamp": pa.array(chunk.reported.timestamp_us.ravel(), type=pa.int64()).cast(
            TIMESTAMP_TYPE
        ),
        "true_timestamp": pa.array(
            np.repeat(chunk.t[None, :] * 1_000_000, len(chunk.idx), axis=0).ravel()
        ).cast(TIMESTAMP_TYPE),
        "seq": pa.array(seq.ravel()),
        "operating_state": _dictionary_column(
            physics.state.astype(np.int32).ravel(), STATE_DICTIONARY
        ),
        "ambient_temp_f": f32(physics.ambient_f),
        "suction_temp_f": f32(physics.suction_temp_f),
        "stage_inlet_temp_f": f32(physics.stage_inlet_temp_f),
        "speed_rpm": f32(physics.speed_rpm),
        **{f"true_{s}": f32(getattr(physics, s)) for s in SENSOR_FIELDS},
        "methane_vent_scfh": f32(physics.methane_vent_scfh),
        "fuel_scfh": f32(physics.fuel_scfh),
        "fault_id": _dictionary_column(load.fault_index.astype(np.int32).ravel(), fault_ids),
        "fault_mode": _dictionary_column(load.mode_code.astype(np.int32).ravel(), MODE_DICTIONARY),
        "fault_severity": f32(load.active_severity),
        "time_to_failure_s": pa.array(
            np.where(no_ttf, 0, ttf).astype(np.int64), mask=no_ttf if no_ttf.any() else None
        ),
        "sensor_fault_mask": pa.array(chunk.reported.sensor_fault_mask.ravel()),
    }
    return pa.table(columns).select(TRUTH_SCHEMA.names).cast(TRUTH_SCHEMA)


# -- event tables -------------------------------------------------------------------------


def _ts(seconds: int | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


EQUIPMENT_FAULTS_SCHEMA = pa.schema(
    [
        ("fault_id", pa.string()),
        ("org_id", pa.string()),
        ("station_id", pa.string()),
        ("compressor_id", pa.string()),
        ("fault_mode", pa.string()),
        ("onset", TIMESTAMP_TYPE),
        ("failure", TIMESTAMP_TYPE),
        ("shutdown", TIMESTAMP_TYPE),
        ("repair", TIMESTAMP_TYPE),
        ("back_in_service", TIMESTAMP_TYPE),
        ("failure_in_run", pa.bool_()),
        ("source", pa.string()),
    ]
)

SENSOR_FAULTS_SCHEMA = pa.schema(
    [
        ("fault_id", pa.string()),
        ("kind", pa.string()),
        ("org_id", pa.string()),
        ("station_id", pa.string()),
        ("compressor_id", pa.string()),
        ("sensor", pa.string()),
        ("start", TIMESTAMP_TYPE),
        ("end", TIMESTAMP_TYPE),
        ("magnitude", pa.float64()),
        ("rate", pa.float64()),
        ("source", pa.string()),
    ]
)

BLOWDOWNS_SCHEMA = pa.schema(
    [
        ("event_id", pa.string()),
        ("org_id", pa.string()),
        ("station_id", pa.string()),
        ("compressor_id", pa.string()),
        ("time", TIMESTAMP_TYPE),
        ("reason", pa.string()),
        ("fault_id", pa.string()),
        ("pressure_psig", pa.float64()),
        ("volume_ft3", pa.float64()),
        ("vented_scf", pa.float64()),
        ("methane_scf", pa.float64()),
        ("methane_mole_fraction", pa.float64()),
    ]
)

OPERATING_STATES_SCHEMA = pa.schema(
    [
        ("org_id", pa.string()),
        ("station_id", pa.string()),
        ("compressor_id", pa.string()),
        ("operating_state", pa.string()),
        ("start", TIMESTAMP_TYPE),
        ("end", TIMESTAMP_TYPE),
        ("duration_s", pa.int64()),
        ("reason", pa.string()),
    ]
)


def _org(sim: Simulation, station_id: str) -> str:
    return sim.fleet.org_of(station_id).id


def equipment_faults_table(sim: Simulation, start_s: int, end_s: int) -> pa.Table:
    rows = []
    for fault in sim.schedule.faults:
        last = None if fault.repair is None else fault.repair + STARTUP_S
        if fault.onset >= end_s or (last is not None and last <= start_s):
            continue
        rows.append(
            {
                "fault_id": fault.fault_id,
                "org_id": _org(sim, fault.station_id),
                "station_id": fault.station_id,
                "compressor_id": fault.compressor_id,
                "fault_mode": fault.mode,
                "onset": _ts(fault.onset),
                "failure": _ts(fault.failure),
                "shutdown": _ts(fault.failure),
                "repair": _ts(fault.repair),
                "back_in_service": _ts(last),
                "failure_in_run": start_s <= fault.failure < end_s,
                "source": fault.source,
            }
        )
    return pa.Table.from_pylist(rows, schema=EQUIPMENT_FAULTS_SCHEMA)


def sensor_faults_table(sim: Simulation, start_s: int, end_s: int) -> pa.Table:
    rows = [
        {
            "fault_id": f.fault_id,
            "kind": f.kind,
            "org_id": _org(sim, f.station_id),
            "station_id": f.station_id,
            "compressor_id": f.compressor_id,
            "sensor": f.sensor,
            "start": _ts(f.start),
            "end": _ts(f.end),
            "magnitude": f.magnitude,
            "rate": f.rate,
            "source": f.source,
        }
        for f in sim.schedule.sensor_faults
        if f.start < end_s and f.end > start_s
    ]
    return pa.Table.from_pylist(rows, schema=SENSOR_FAULTS_SCHEMA)


def blowdowns_table(
    sim: Simulation, blowdowns: list[Blowdown], start_s: int, end_s: int
) -> pa.Table:
    rows = [
        {
            "event_id": b.event_id,
            "org_id": _org(sim, b.station_id),
            "station_id": b.station_id,
            "compressor_id": b.compressor_id,
            "time": _ts(b.time_s),
            "reason": b.reason,
            "fault_id": b.fault_id,
            "pressure_psig": b.pressure_psig,
            "volume_ft3": b.volume_ft3,
            "vented_scf": b.vented_scf,
            "methane_scf": b.methane_scf,
            "methane_mole_fraction": float(
                sim.units["methane_fraction"][sim.units.index_of(b.compressor_id)]
            ),
        }
        for b in blowdowns
        if start_s <= b.time_s < end_s
    ]
    return pa.Table.from_pylist(rows, schema=BLOWDOWNS_SCHEMA)


def operating_states_table(sim: Simulation, start_s: int, end_s: int) -> pa.Table:
    """Every unit's state intervals clipped to the run (for Subpart W mode hours)."""
    rows = []
    for u, compressor_id in enumerate(sim.units.compressor_ids):
        station_id = sim.units.station_ids[u]
        timeline = sim.schedule.timelines[u]
        bounds = [*timeline.starts.tolist()[1:], end_s]
        for i, segment_start in enumerate(timeline.starts.tolist()):
            lo, hi = max(segment_start, start_s), min(bounds[i], end_s)
            if lo >= hi:
                continue
            rows.append(
                {
                    "org_id": _org(sim, station_id),
                    "station_id": station_id,
                    "compressor_id": compressor_id,
                    "operating_state": STATE_NAMES[int(timeline.states[i])],
                    "start": _ts(lo),
                    "end": _ts(hi),
                    "duration_s": hi - lo,
                    "reason": timeline.reasons[i],
                }
            )
    return pa.Table.from_pylist(rows, schema=OPERATING_STATES_SCHEMA)
