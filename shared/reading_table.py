"""Reading rows as Arrow tables: the v1 schema for the hub, the simulator and the tools.

The column list and types are `shared.schema.READING_FIELDS`; this module is the Arrow
form of it. The edge agent never imports it: it keeps rows as NumPy
(`shared.sources.ReadingRows`) and DuckDB writes its Parquet.
"""

from __future__ import annotations

import pyarrow as pa

from shared.schema import READING_COLUMNS, READING_FIELDS, SCHEMA_VERSION

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
