"""Factories for reading tables and batches (instead of hand-built dicts in each test)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa

from shared.batch import BatchMeta, encode_batch
from shared.ids import make_batch_id
from shared.reading_table import READING_SCHEMA, conform_readings
from shared.schema import QUALITY_FIELDS, SENSOR_FIELDS, OperatingState
from shared.sources import ReadingRows

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


def reading_rows(table: pa.Table) -> ReadingRows:
    """The agent's NumPy form of numbered reading rows (what `Buffer.append_readings` returns)."""
    table = conform_readings(table)

    def column(name: str, dtype: type | str) -> np.ndarray:
        return table.column(name).to_numpy(zero_copy_only=False).astype(dtype)

    return ReadingRows(
        station_id=table.column("station_id")[0].as_py() if table.num_rows else "",
        compressor_id=table.column("compressor_id").to_pylist(),
        seq=column("seq", np.int64),
        timestamp=table.column("timestamp").to_pylist(),
        timestamp_us=column("timestamp", "datetime64[us]").astype(np.int64),
        operating_state=table.column("operating_state").to_pylist(),
        values=np.column_stack([column(s, np.float32) for s in SENSOR_FIELDS]),
        quality=np.column_stack([column(q, np.int8) for q in QUALITY_FIELDS]),
        reading_flags=column("reading_flags", np.int32),
    )


def stored_readings(buffer: Any, first_seq: int, last_seq: int) -> pa.Table:
    """Rows an edge buffer holds for a sequence range, in sequence order, as Arrow."""
    return buffer.connection.sql(
        "SELECT * FROM readings WHERE seq BETWEEN ? AND ? ORDER BY seq",
        params=[first_seq, last_seq],
    ).to_arrow_table()
