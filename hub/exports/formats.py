"""Stream Arrow record batches out as CSV text or as a Parquet file written row group by row
group: the caller's iterator is consumed as the client reads, never collected."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import date, datetime

import pyarrow as pa
import pyarrow.parquet as pq


def _cell(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return "" if value is None else value


def csv_chunks(schema: pa.Schema, batches: Iterable[pa.RecordBatch]) -> Iterator[bytes]:
    """The header, then each batch as CSV rows (UTF-8, ISO 8601 times, empty = null)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(schema.names)
    for batch in batches:
        columns = [batch.column(i).to_pylist() for i in range(batch.num_columns)]
        writer.writerows(zip(*([_cell(v) for v in column] for column in columns), strict=True))
        yield buffer.getvalue().encode("utf-8")
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode("utf-8")


class _Drain(io.RawIOBase):
    """A write-only file that hands what was written to the caller in pieces."""

    def __init__(self) -> None:
        self.pieces: list[bytes] = []
        self.position = 0

    def writable(self) -> bool:
        return True

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        piece = bytes(data)
        self.pieces.append(piece)
        self.position += len(piece)
        return len(piece)

    def tell(self) -> int:
        return self.position

    def take(self) -> bytes:
        out, self.pieces = b"".join(self.pieces), []
        return out


def parquet_chunks(schema: pa.Schema, batches: Iterable[pa.RecordBatch]) -> Iterator[bytes]:
    """A Parquet file (zstd), one row group per batch, yielded as each row group is written."""
    drain = _Drain()
    writer = pq.ParquetWriter(drain, schema, compression="zstd")
    try:
        for batch in batches:
            writer.write_batch(batch)
            piece = drain.take()
            if piece:
                yield piece
    finally:
        writer.close()
    yield drain.take()
