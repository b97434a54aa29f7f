"""The telemetry batch: one Parquet (zstd) file per MQTT message.

Identity (org, station, batch id, sequence range, row count, schema version)
lives in the Parquet key-value metadata, so the format is the same on MQTT
3.1.1 and 5. `decode_batch` checks everything a hub must trust before it lands
a batch, and every refusal names exactly what is wrong.

This module is the Arrow side (the hub, the simulator, the tools). The edge agent
writes the same format with DuckDB (`edge_agent.buffer.Buffer.encode_batch`) and shares
only the identity (`shared.batch_meta`); tests hold both writers to one decoder.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from shared.batch_meta import (
    BATCH_ROW_ORDER,
    DEFAULT_MAX_BATCH_BYTES,
    PARQUET_MAGIC,
    BatchMeta,
)
from shared.errors import (
    BatchContentError,
    BatchCorrupt,
    BatchMetadataError,
    BatchSchemaError,
    BatchTooLarge,
    InvalidIdentifier,
)
from shared.ids import check_id
from shared.reading_table import READING_SCHEMA, conform_readings
from shared.schema import QUALITY_FIELDS, SCHEMA_VERSION, SENSOR_FIELDS, OperatingState, Quality


@dataclass(frozen=True)
class DecodedBatch:
    meta: BatchMeta
    table: pa.Table


def conform(table: pa.Table) -> pa.Table:
    """Select and cast columns to the reading schema (raises on missing columns)."""
    missing = [name for name in READING_SCHEMA.names if name not in table.column_names]
    if missing:
        raise BatchSchemaError(f"readings are missing column(s): {', '.join(missing)}")
    return conform_readings(table)


def encode_batch(table: pa.Table, meta: BatchMeta, *, compression_level: int = 9) -> bytes:
    """Encode readings as one Parquet file with the batch identity in its metadata.

    Rows are ordered by compressor then sequence so that each compressor's series
    is contiguous: timestamps and sequence numbers then delta-encode to almost
    nothing. Float columns never use BYTE_STREAM_SPLIT (Spark's vectorized Parquet
    reader cannot read it, and the hub lands these bytes exactly as received); they
    are dictionary-encoded, which every Parquet reader supports: values quantized to
    their register resolution (as a panel delivers them) repeat, so a dictionary plus
    bit-packed indices is both smaller and several times cheaper to zstd than PLAIN.
    Noisy, unquantized floats overflow the dictionary page and fall back to PLAIN.
    """
    table = conform(table)
    if table.num_rows != meta.row_count:
        raise BatchMetadataError(
            f"metadata row_count={meta.row_count} but the table has {table.num_rows} rows"
        )
    table = table.sort_by([(name, "ascending") for name in BATCH_ROW_ORDER])
    table = table.replace_schema_metadata({**(READING_SCHEMA.metadata or {}), **meta.to_kv()})
    sink = io.BytesIO()
    pq.write_table(
        table,
        sink,
        compression="zstd",
        compression_level=compression_level,
        use_dictionary=[
            "station_id",
            "compressor_id",
            "operating_state",
            *QUALITY_FIELDS,
            *SENSOR_FIELDS,
        ],
        column_encoding={
            "seq": "DELTA_BINARY_PACKED",
            "timestamp": "DELTA_BINARY_PACKED",
            "reading_flags": "DELTA_BINARY_PACKED",
        },
        write_statistics=["seq", "timestamp"],
        store_schema=True,
    )
    return sink.getvalue()


def read_batch_meta(payload: bytes) -> BatchMeta:
    """Read only the batch identity (cheap: the footer, not the rows)."""
    return BatchMeta.from_kv(_open(payload).schema_arrow.metadata)


def decode_batch(
    payload: bytes,
    *,
    max_bytes: int = DEFAULT_MAX_BATCH_BYTES,
    expected_org: str | None = None,
    expected_station: str | None = None,
) -> DecodedBatch:
    """Decode and fully validate a batch; raise a `BatchError` naming the problem."""
    if len(payload) > max_bytes:
        raise BatchTooLarge(f"payload is {len(payload)} bytes, above the {max_bytes}-byte limit")
    parquet_file = _open(payload)
    meta = BatchMeta.from_kv(parquet_file.schema_arrow.metadata)
    if meta.schema_version != SCHEMA_VERSION:
        raise BatchMetadataError(
            f"schema version {meta.schema_version} is not supported (this side reads "
            f"version {SCHEMA_VERSION})"
        )
    if expected_org is not None and meta.org_id != expected_org:
        raise BatchMetadataError(
            f"batch metadata names org {meta.org_id!r} but it was sent for org {expected_org!r}"
        )
    if expected_station is not None and meta.station_id != expected_station:
        raise BatchMetadataError(
            f"batch metadata names station {meta.station_id!r} but it was sent by station "
            f"{expected_station!r}"
        )
    _check_schema(parquet_file.schema_arrow)
    try:
        table = parquet_file.read()
    except (pa.ArrowException, OSError) as exc:
        raise BatchCorrupt(f"payload rows cannot be read: {exc}") from None
    table = table.cast(READING_SCHEMA)
    _check_rows(table, meta)
    return DecodedBatch(meta=meta, table=table)


def _open(payload: bytes) -> pq.ParquetFile:
    if len(payload) < 12 or payload[:4] != PARQUET_MAGIC or payload[-4:] != PARQUET_MAGIC:
        raise BatchCorrupt(
            f"payload of {len(payload)} bytes is not a Parquet file (magic bytes 'PAR1' missing)"
        )
    try:
        return pq.ParquetFile(pa.BufferReader(payload))
    except (pa.ArrowException, OSError) as exc:
        raise BatchCorrupt(f"payload is not a readable Parquet file: {exc}") from None


def _check_schema(schema: pa.Schema) -> None:
    expected = {f.name: f.type for f in READING_SCHEMA}
    actual = {f.name: f.type for f in schema}
    problems: list[str] = []
    missing = [n for n in expected if n not in actual]
    extra = [n for n in actual if n not in expected]
    if missing:
        problems.append(f"missing column(s) {', '.join(missing)}")
    if extra:
        problems.append(f"unexpected column(s) {', '.join(extra)}")
    for name, want in expected.items():
        have = actual.get(name)
        if have is not None and have != want:
            problems.append(f"column {name} is {have}, expected {want}")
    if problems:
        raise BatchSchemaError("batch schema does not match readings v1: " + "; ".join(problems))


def _check_rows(table: pa.Table, meta: BatchMeta) -> None:
    if table.num_rows != meta.row_count:
        raise BatchMetadataError(
            f"metadata row_count={meta.row_count} but the batch has {table.num_rows} rows"
        )
    if table.num_rows == 0:
        raise BatchContentError("batch has no rows")
    for f in READING_SCHEMA:
        if not f.nullable and table.column(f.name).null_count:
            raise BatchContentError(
                f"column {f.name} has {table.column(f.name).null_count} null value(s)"
            )
    stations = pc.unique(table.column("station_id")).to_pylist()
    if stations != [meta.station_id]:
        others = sorted(s for s in stations if s != meta.station_id)
        raise BatchContentError(
            f"rows name station(s) {', '.join(map(repr, others))} but the batch is for "
            f"station {meta.station_id!r}"
        )
    seq = table.column("seq")
    first, last = pc.min(seq).as_py(), pc.max(seq).as_py()
    if (first, last) != (meta.first_seq, meta.last_seq):
        raise BatchMetadataError(
            f"metadata says seq {meta.first_seq}..{meta.last_seq} but rows span {first}..{last}"
        )
    if pc.count_distinct(seq).as_py() != table.num_rows:
        raise BatchContentError("batch repeats a sequence number")
    for compressor in pc.unique(table.column("compressor_id")).to_pylist():
        check_id_in_batch(compressor)
    states = set(pc.unique(table.column("operating_state")).to_pylist())
    unknown_states = states - set(OperatingState.ALL)
    if unknown_states:
        raise BatchContentError(
            f"unknown operating_state value(s) {', '.join(sorted(map(repr, unknown_states)))}"
        )
    valid_codes = [int(q) for q in Quality]
    for sensor, qcol in zip(SENSOR_FIELDS, QUALITY_FIELDS, strict=True):
        codes = table.column(qcol)
        if not pc.all(pc.is_in(codes, pa.array(valid_codes, pa.int8()))).as_py():
            raise BatchContentError(f"column {qcol} has a code outside {valid_codes}")
        values = table.column(sensor)
        bad = pc.and_(pc.invert(pc.is_finite(values)), pc.equal(codes, int(Quality.OK)))
        bad_count = pc.sum(pc.cast(pc.fill_null(bad, False), pa.int64())).as_py() or 0
        if bad_count:
            raise BatchContentError(
                f"column {sensor} has {bad_count} NaN/infinite value(s) marked quality OK "
                f"(they must be null with quality NOT_A_NUMBER)"
            )
        null_ok = pc.and_(pc.is_null(values), pc.equal(codes, int(Quality.OK)))
        null_ok_count = pc.sum(pc.cast(null_ok, pa.int64())).as_py() or 0
        if null_ok_count:
            raise BatchContentError(
                f"column {sensor} has {null_ok_count} null value(s) marked quality OK"
            )


def check_id_in_batch(compressor_id: str) -> None:
    try:
        check_id("compressor id", compressor_id)
    except InvalidIdentifier as exc:
        raise BatchContentError(str(exc)) from None
