"""Large, realistic reading tables made fast (numpy): a day of a station, as panels deliver it.

Values follow slow drifts plus noise and are quantized to the register resolution
of the `standard-scaled` map (what a Modbus panel actually sends), so compression
measured on them is what a station would see.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pyarrow as pa

from shared.reading_table import READING_SCHEMA
from shared.register_map import find_register_map, quantize_array
from shared.schema import QUALITY_FIELDS, SENSOR_FIELDS, OperatingState, ReadingFlag

#: (mean, slow swing, noise sd) per sensor.
_PROFILE = {
    "vibration_mms": (3.0, 0.3, 0.08),
    "discharge_temp_f": (215.0, 6.0, 0.6),
    "suction_pressure_psi": (65.0, 3.0, 0.4),
    "discharge_pressure_psi": (1050.0, 25.0, 2.0),
    "horsepower_consumption": (1200.0, 40.0, 4.0),
    "gas_flow_mcf": (9000.0, 300.0, 20.0),
}


def station_day(
    *,
    compressors: int = 10,
    seconds: int = 86_400,
    start: datetime = datetime(2026, 3, 1, tzinfo=UTC),
    station_id: str = "STATION-1",
    seed: int = 7,
) -> pa.Table:
    """`compressors` x `seconds` readings at 1 Hz, in time order (seq is left to the buffer)."""
    rng = np.random.default_rng(seed)
    register_map = find_register_map("standard-scaled")
    n = compressors * seconds
    t = np.repeat(np.arange(seconds, dtype=np.int64), compressors)
    unit = np.tile(np.arange(compressors), seconds)
    start_us = int(start.timestamp() * 1_000_000)
    columns: dict[str, pa.Array] = {
        "station_id": pa.DictionaryArray.from_arrays(np.zeros(n, np.int32), [station_id]).cast(
            pa.string()
        ),
        "compressor_id": pa.DictionaryArray.from_arrays(
            unit.astype(np.int32), [f"C{i + 1:02d}" for i in range(compressors)]
        ).cast(pa.string()),
        "seq": pa.array(np.arange(1, n + 1, dtype=np.int64)),
        "timestamp": pa.array(start_us + t * 1_000_000, pa.timestamp("us", tz="UTC")),
        "operating_state": pa.array([OperatingState.RUNNING] * 1, pa.string()).take(
            np.zeros(n, np.int32)
        ),
    }
    phase = rng.uniform(0, 2 * np.pi, compressors)
    for sensor in SENSOR_FIELDS:
        mean, swing, sd = _PROFILE[sensor]
        offsets = rng.normal(0, swing / 3, compressors)
        daily = np.sin(2 * np.pi * t / 86_400 + phase[unit]) * swing
        values = mean + offsets[unit] + daily + rng.normal(0, sd, n)
        columns[sensor] = pa.array(quantize_array(register_map.point(sensor), values), pa.float32())
    for qcol in QUALITY_FIELDS:
        columns[qcol] = pa.array(np.zeros(n, np.int8))
    columns["reading_flags"] = pa.array(np.full(n, int(ReadingFlag.NONE), np.int32))
    return pa.table(columns).select(READING_SCHEMA.names).cast(READING_SCHEMA)
