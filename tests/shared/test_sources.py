"""Reading rows: how the agent numbers and normalises what a source returns (NumPy)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone

import numpy as np

from shared.schema import SENSOR_FIELDS, OperatingState, Quality, ReadingFlag
from shared.sources import RawReading, readings_to_rows

START = datetime(2026, 3, 1, tzinfo=UTC)


def _readings() -> list[RawReading]:
    full = dict.fromkeys(SENSOR_FIELDS, 100.0)
    return [
        RawReading("C01", START, full, operating_state=OperatingState.RUNNING),
        RawReading(
            "C02",
            # A source clock in another zone: stored as the same instant in UTC.
            datetime(2026, 2, 28, 18, 0, 1, 500, tzinfo=timezone(timedelta(hours=-6))),
            {**full, "vibration_mms": math.nan, "gas_flow_mcf": -math.inf},
            flags=ReadingFlag.CLOCK_JUMP | ReadingFlag.SIMULATED,
        ),
        RawReading(
            "C01",
            START + timedelta(seconds=1),
            {**full, "discharge_temp_f": None, "suction_pressure_psi": 0.1},
            quality={"discharge_temp_f": Quality.OK, "suction_pressure_psi": Quality.STALE},
        ),
    ]


def test_rows_are_numbered_and_bad_values_become_null_with_a_code() -> None:
    rows = readings_to_rows(_readings(), station_id="STATION-1", first_seq=41)
    assert rows.seq.tolist() == [41, 42, 43]
    assert rows.timestamp[1] == START + timedelta(seconds=1, microseconds=500)
    assert rows.timestamp[1].tzinfo == UTC
    assert rows.timestamp_us[1] - rows.timestamp_us[0] == 1_000_500
    vib, temp, suction, flow = (SENSOR_FIELDS.index(s) for s in (
        "vibration_mms", "discharge_temp_f", "suction_pressure_psi", "gas_flow_mcf"
    ))  # fmt: skip
    assert np.isnan(rows.values[1, vib]) and rows.quality[1, vib] == Quality.NOT_A_NUMBER
    assert np.isnan(rows.values[1, flow]) and rows.quality[1, flow] == Quality.NOT_A_NUMBER
    # A missing value is never OK; a stale one keeps its value but is no feature input.
    assert rows.quality[2, temp] == Quality.COMM_ERROR
    assert rows.values[2, suction] == np.float32(0.1) and rows.quality[2, suction] == Quality.STALE
    valid = rows.valid_values()
    assert np.isnan(valid[2, suction]) and valid[0, suction] == 100.0
    assert rows.reading_flags.tolist() == [
        0,
        int(ReadingFlag.CLOCK_JUMP | ReadingFlag.SIMULATED),
        0,
    ]
