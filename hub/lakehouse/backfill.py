"""Land a reading history (Parquet in the shared reading schema) as telemetry batches.

For importing history (a historian export, a simulator run) through the same path
live data takes: one batch per station and contiguous sequence range, validated by
`shared.batch.decode_batch`, written to the landing zone by `hub.ingest.landing`.
Landing is idempotent by batch id, so importing the same history twice adds nothing.

History is old by definition: run the pipeline over it with a `late_horizon_h` that
covers its age, or its readings are kept in silver but flagged late and left out of gold.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from hub.ingest.landing import LandingZone
from shared.batch import BatchMeta, decode_batch, encode_batch
from shared.errors import ConfigError
from shared.fleet import Fleet
from shared.ids import make_batch_id
from shared.reading_table import conform_readings
from shared.schema import READING_COLUMNS


def _batches(table: pa.Table, rows_per_batch: int) -> Iterator[pa.Table]:
    """Slices of one station's readings in seq order, `rows_per_batch` at most."""
    ordered = table.sort_by("seq")
    for offset in range(0, ordered.num_rows, rows_per_batch):
        yield ordered.slice(offset, rows_per_batch)


def _org(station: str, fleet: Fleet | None, org_id: str | None) -> str:
    if org_id:
        return org_id
    if fleet is not None:
        try:
            return fleet.org_of(station).id
        except KeyError:
            pass
    raise ConfigError(f"station {station!r} is not in the fleet file: give its org (--org)")


def land_history(
    source: Path,
    zone: LandingZone,
    *,
    fleet: Fleet | None = None,
    org_id: str | None = None,
    rows_per_batch: int = 20_000,
) -> tuple[int, int]:
    """Land `source` (readings.parquet or a directory holding it); return (batches, readings).

    Each station's org comes from `fleet`, or is `org_id` for every station.
    """
    path = source / "readings.parquet" if source.is_dir() else source
    table = conform_readings(pq.read_table(path, columns=list(READING_COLUMNS)))
    batches = readings = 0
    stations = sorted(pc.unique(table.column("station_id")).to_pylist())
    orgs = {station: _org(station, fleet, org_id) for station in stations}  # all, before landing
    for station, org in orgs.items():
        rows = table.filter(pc.equal(table.column("station_id"), station))
        for batch in _batches(rows, rows_per_batch):
            first, last = pc.min(batch["seq"]).as_py(), pc.max(batch["seq"]).as_py()
            meta = BatchMeta(
                org_id=org,
                station_id=station,
                batch_id=make_batch_id(station, first, last),
                first_seq=first,
                last_seq=last,
                row_count=batch.num_rows,
                producer="altaviz-hub backfill",
            )
            payload = encode_batch(batch, meta)
            zone.land(decode_batch(payload), payload)
            batches += 1
            readings += batch.num_rows
    return batches, readings
