"""Reading rows as Arrow tables: the v1 schema for the hub, the simulator and the tools.

The column list and types are `shared.schema.READING_FIELDS`; this module is the Arrow
form of it. The edge agent never imports it (it keeps rows as NumPy, see
`shared.sources.ReadingRows`).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from shared.schema import (
    QUALITY_FIELDS,
    READING_COLUMNS,
    READING_FIELDS,
    SCHEMA_VERSION,
    SENSOR_FIELDS,
)
from shared.sources import ReadingRows

TIMESTAMP_TYPE = pa.timestamp("us", tz="UTC")

_ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "int64": pa.int64(),
    "timestamp_us_utc": TIMESTAMP_TYPE,
    "float32": pa.float32(),
    "int8": pa.int8(),
    "int32": pa.int32(),
}

READING_SCHEMA = pa.schema(
    [
        pa.field(name, _ARROW_TYPES[kind], nullable=nullable)
        for name, kind, nullable in READING_FIELDS
    ],
    metadata={"altaviz.schema_version": str(SCHEMA_VERSION)},
)


def conform_readings(table: pa.Table) -> pa.Table:
    """Select the reading columns in schema order and cast to the reading schema."""
    return table.select(list(READING_COLUMNS)).cast(READING_SCHEMA)


def rows_to_table(rows: ReadingRows) -> pa.Table:
    """The Arrow table of numbered reading rows (null where a sensor value is NaN)."""
    arrays: list[pa.Array] = []
    for field, values in zip(READING_SCHEMA, rows.columns().values(), strict=True):
        if field.type == TIMESTAMP_TYPE:
            arrays.append(pa.array(values.astype(np.int64), pa.int64()).cast(TIMESTAMP_TYPE))
        else:
            arrays.append(pa.array(values, field.type, from_pandas=field.nullable))
    return pa.Table.from_arrays(arrays, schema=READING_SCHEMA)


def table_to_rows(table: pa.Table) -> ReadingRows:
    """Numbered reading rows of an Arrow table (the inverse of `rows_to_table`)."""
    table = conform_readings(table)

    def column(name: str, dtype: type | str) -> np.ndarray:
        return table.column(name).to_numpy(zero_copy_only=False).astype(dtype)

    micros = table.column("timestamp").cast(pa.int64()).to_numpy(zero_copy_only=False)
    return ReadingRows(
        station_id=table.column("station_id")[0].as_py() if table.num_rows else "",
        compressor_id=table.column("compressor_id").to_pylist(),
        seq=column("seq", np.int64),
        timestamp=table.column("timestamp").to_pylist(),
        timestamp_us=micros.astype(np.int64),
        operating_state=table.column("operating_state").to_pylist(),
        values=np.column_stack([column(s, np.float32) for s in SENSOR_FIELDS]),
        quality=np.column_stack([column(q, np.int8) for q in QUALITY_FIELDS]),
        reading_flags=column("reading_flags", np.int32),
    )
