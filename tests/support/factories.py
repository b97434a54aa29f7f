"""Factories for reading tables and batches (instead of hand-built dicts in each test)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa

from shared.batch import BatchMeta, encode_batch
from shared.ids import make_batch_id
from shared.reading_table import READING_SCHEMA
from shared.schema import QUALITY_FIELDS, SENSOR_FIELDS, OperatingState

BASE_VALUES = {
    "vibration_mms": 3.1,
    "discharge_temp_f": 215.0,
    "suction_pressure_psi": 65.0,
    "discharge_pressure_psi": 1050.0,
    "horsepower_consumption": 1200.0,
    "gas_flow_mcf": 9000.0,
}


def readings(
    n: int,
    *,
    station_id: str = "STATION-1",
    first_seq: int = 1,
    compressors: int = 2,
    start: datetime = datetime(2026, 3, 1, tzinfo=UTC),
    **overrides: list[Any],
) -> pa.Table:
    """`n` healthy readings, round-robin over compressors, one second apart per compressor."""
    columns: dict[str, list[Any]] = {
        "station_id": [station_id] * n,
        "compressor_id": [f"C{(i % compressors) + 1:02d}" for i in range(n)],
        "seq": list(range(first_seq, first_seq + n)),
        "timestamp": [start + timedelta(seconds=i // compressors) for i in range(n)],
        "operating_state": [OperatingState.RUNNING] * n,
        **{s: [BASE_VALUES[s] + (i % 5) * 0.1 for i in range(n)] for s in SENSOR_FIELDS},
        **{q: [0] * n for q in QUALITY_FIELDS},
        "reading_flags": [0] * n,
    }
    columns.update(overrides)
    return pa.Table.from_pydict(columns, schema=READING_SCHEMA)


def batch_meta(table: pa.Table, *, org_id: str = "org-a", **overrides: Any) -> BatchMeta:
    station = table.column("station_id")[0].as_py()
    seqs = table.column("seq").to_pylist()
    fields: dict[str, Any] = {
        "org_id": org_id,
        "station_id": station,
        "batch_id": make_batch_id(station, min(seqs), max(seqs)),
        "first_seq": min(seqs),
        "last_seq": max(seqs),
        "row_count": table.num_rows,
    }
    fields.update(overrides)
    return BatchMeta(**fields)


def batch_payload(n: int = 10, *, org_id: str = "org-a", **kwargs: Any) -> bytes:
    table = readings(n, **kwargs)
    return encode_batch(table, batch_meta(table, org_id=org_id))


def noisy_payload(n: int, *, seed: int = 0, **kwargs: Any) -> bytes:
    """A batch whose values are random, so its size grows with `n` (for size limits)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    noise = {s: (BASE_VALUES[s] + rng.normal(0, 1, n)).tolist() for s in SENSOR_FIELDS}
    table = readings(n, **noise, **kwargs)
    return encode_batch(table, batch_meta(table))
