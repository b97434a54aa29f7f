"""Open an export: check the request, read the first batch (an empty range is a 404, not a
file with only a header), then stream the rest as the client reads.

Serving tables are read through a server-side cursor (`yield_per`: PostgreSQL streams the
rows in chunks); readings come from the lake's silver table through delta-rs, scanned
batch by batch with the org, scope and dates pushed down to the partitions.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.db.session import set_tenant
from hub.exports.datasets import DATASETS, FORMATS, READING_COLUMNS, TABLE_DATASETS, TableDataset
from hub.exports.errors import EmptyExport, InvalidExport
from hub.exports.formats import csv_chunks, parquet_chunks

log = logging.getLogger(__name__)

CHUNK_ROWS = 10_000
#: The longest range one export may cover (a year of a station streams fine).
MAX_RANGE = timedelta(days=366)
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "parquet": "application/vnd.apache.parquet"}


@dataclass(frozen=True)
class ExportRequest:
    dataset: str
    format: str
    start: datetime
    end: datetime
    station_id: str | None = None
    compressor_id: str | None = None
    #: Compressors whose rows stay out of the file (beyond the caller's plan).
    excluded_compressors: frozenset[str] = field(default_factory=frozenset)
    #: The start asked for, when it was moved later to the oldest data the caller may see.
    clipped_from: datetime | None = None

    def clipped_to(self, oldest: datetime | None) -> ExportRequest:
        """The same request, starting no earlier than `oldest` (None: no limit)."""
        if oldest is None or self.start >= oldest:
            return self
        return replace(self, start=oldest, clipped_from=self.start)

    def check(self) -> None:
        if self.dataset not in DATASETS:
            raise InvalidExport(f"Unknown dataset {self.dataset!r}; one of {', '.join(DATASETS)}.")
        if self.format not in FORMATS:
            raise InvalidExport(f"Unknown format {self.format!r}; csv or parquet.")
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise InvalidExport("start and end need a time zone (e.g. 2026-03-01T00:00:00Z).")
        if self.end <= self.start:
            raise InvalidExport("end must be after start.")
        if self.end - self.start > MAX_RANGE:
            raise InvalidExport("One export covers at most 366 days; split the range.")

    def filename(self, org_id: str) -> str:
        scope = self.compressor_id or self.station_id or org_id
        return (
            f"{self.dataset}_{scope}_{self.start:%Y%m%dT%H%M}_{self.end:%Y%m%dT%H%M}.{self.format}"
        )


@dataclass
class Export:
    filename: str
    media_type: str
    chunks: Iterator[bytes]
    batches: Iterator[pa.RecordBatch]
    #: Where the file starts when that is later than the start asked for (None: as asked).
    clipped_start: datetime | None = None

    def close(self) -> None:
        """End the stream early: the cursor (or the lake scan) is released now."""
        for stream in (self.chunks, self.batches):
            close = getattr(stream, "close", None)
            if close is not None:
                close()


def _cell(value: Any) -> Any:
    return ";".join(map(str, value)) if isinstance(value, list) else value


def _table_batches(
    factory: Callable[[], Session], org_id: str, dataset: TableDataset, request: ExportRequest
) -> Iterator[pa.RecordBatch]:
    """Rows of one serving table in chunks, in time order, from a server-side cursor."""
    model, schema = dataset.model, dataset.schema
    at = getattr(model, dataset.time_column)
    start, end = request.start, request.end
    if dataset.time_column == "day":
        start, end = request.start.date(), request.end.date()  # type: ignore[assignment]
    statement = select(*dataset.columns).where(model.org_id == org_id, at >= start, at < end)
    if request.station_id:
        statement = statement.where(model.station_id == request.station_id)
    if request.compressor_id:
        statement = statement.where(model.compressor_id == request.compressor_id)
    if request.excluded_compressors:
        statement = statement.where(model.compressor_id.not_in(request.excluded_compressors))
    statement = statement.order_by(at, *[c for c in model.__table__.primary_key.columns])
    with factory() as session, session.begin():
        set_tenant(session, org_id)
        result = session.execute(statement.execution_options(yield_per=CHUNK_ROWS))
        for rows in result.partitions():
            columns = list(zip(*rows, strict=True))
            arrays = [
                pa.array([_cell(v) for v in values], type=field.type)
                for values, field in zip(columns, schema, strict=True)
            ]
            yield pa.RecordBatch.from_arrays(arrays, schema=schema)


def _reading_batches(
    lake_root: str, org_id: str, request: ExportRequest
) -> Iterator[pa.RecordBatch]:
    """Silver readings of the scope and range, scanned batch by batch (delta-rs + Arrow)."""
    import pyarrow.dataset as ds
    from deltalake import DeltaTable
    from deltalake.exceptions import TableNotFoundError

    from hub.lakehouse.tables import LakePaths

    schema = pa.schema(list(READING_COLUMNS))
    try:
        table = DeltaTable(LakePaths(lake_root).silver_readings)
    except TableNotFoundError:
        log.info("no silver readings table under %s: nothing to export", lake_root)
        return
    where = (
        (ds.field("org_id") == org_id)
        & (ds.field("reading_date") >= request.start.date())
        & (ds.field("reading_date") <= request.end.date())
        & (ds.field("timestamp") >= pa.scalar(request.start, pa.timestamp("us", tz="UTC")))
        & (ds.field("timestamp") < pa.scalar(request.end, pa.timestamp("us", tz="UTC")))
    )
    if request.station_id:
        where = where & (ds.field("station_id") == request.station_id)
    if request.compressor_id:
        where = where & (ds.field("compressor_id") == request.compressor_id)
    if request.excluded_compressors:
        where = where & ~ds.field("compressor_id").isin(sorted(request.excluded_compressors))
    scanner = table.to_pyarrow_dataset().scanner(
        columns=schema.names, filter=where, batch_size=CHUNK_ROWS
    )
    for batch in scanner.to_batches():
        if batch.num_rows:
            yield pa.RecordBatch.from_arrays(
                [batch.column(i).cast(f.type) for i, f in enumerate(schema)], schema=schema
            )


def open_export(
    *, factory: Callable[[], Session], lake_root: str, org_id: str, request: ExportRequest
) -> Export:
    """The export's stream; raises EmptyExport (before any byte is sent) when there is nothing."""
    request.check()
    if request.dataset == "readings":
        schema = pa.schema(list(READING_COLUMNS))
        batches = _reading_batches(lake_root, org_id, request)
    else:
        dataset = TABLE_DATASETS[request.dataset]
        schema = dataset.schema
        batches = _table_batches(factory, org_id, dataset, request)
    first = next(batches, None)
    if first is None:
        scope = request.compressor_id or request.station_id or "the organisation"
        raise EmptyExport(
            f"No {request.dataset.replace('_', ' ')} for {scope} between "
            f"{request.start.isoformat()} and {request.end.isoformat()}."
        )
    everything = itertools.chain([first], batches)
    write = csv_chunks if request.format == "csv" else parquet_chunks
    return Export(
        request.filename(org_id), MEDIA_TYPES[request.format], write(schema, everything), batches,
        clipped_start=request.start if request.clipped_from is not None else None,
    )  # fmt: skip
