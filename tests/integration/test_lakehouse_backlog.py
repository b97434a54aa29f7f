"""A backlog is split, not swallowed: bronze files hold each station's rows together and in
order, at most `bronze_rows_per_file` each, and silver/gold takes them a few at a time (bounded by bytes, Delta maxBytesPerTrigger)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from pyspark.sql import functions as F

from hub.lakehouse.pipeline import run_once
from hub.lakehouse.tables import BRONZE_READINGS, SILVER_READINGS, LakePaths
from tests.hub.lakehouse.support import lake_settings, land_in_batches
from tests.support.factories import readings

pytestmark = [pytest.mark.spark, pytest.mark.slow]

START = (datetime.now(UTC) - timedelta(hours=3)).replace(minute=0, second=0, microsecond=0)
STATIONS = ("STATION-A", "STATION-B")
PER_STATION = 2000  # 2 compressors x 1,000 s at 1 Hz
ROWS_PER_FILE = 1000


def test_a_backlog_becomes_ordered_bounded_bronze_files_and_several_micro_batches(
    spark, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    settings = lake_settings(
        tmp_path,
        pipeline={
            "bronze_rows_per_file": ROWS_PER_FILE,
            # Below one bronze file's size: Delta admits one file per micro-batch.
            "max_bronze_bytes_per_trigger": 1024,
        },
    )
    # Each station's day arrives in 200-reading batches, the two stations interleaved, as
    # two edges draining their backlogs at once would deliver them.
    for first in range(0, PER_STATION, 400):
        for station in STATIONS:
            table = readings(PER_STATION, station_id=station, compressors=2, start=START)
            land_in_batches(settings, table.slice(first, 400), 200)

    run = run_once(spark, settings)

    total = PER_STATION * len(STATIONS)
    assert run.bronze_rows_added == total
    assert run.readings_processed == total
    paths = LakePaths(settings.lake_root)
    bronze = (
        spark.read.format("delta")
        .load(paths.table(BRONZE_READINGS))
        .select("station_id", "compressor_id", "timestamp", F.input_file_name().alias("file"))
        .collect()
    )
    by_file: dict[str, list[tuple[str, str, datetime]]] = {}
    for row in bronze:
        by_file.setdefault(row.file, []).append((row.station_id, row.compressor_id, row.timestamp))
    assert len(by_file) >= total // ROWS_PER_FILE
    for file, rows in by_file.items():
        assert len(rows) <= ROWS_PER_FILE, file
        # Parquet keeps row order: each file is one stretch of (station, compressor, time).
        assert all(a <= b for a, b in pairwise(rows)), f"{file} is not in station/compressor/time order"
    # A compressor's readings sit in as few files as its row count needs, not spread over all.
    files_per_compressor: dict[tuple[str, str], set[str]] = {}
    for file, rows in by_file.items():
        for station, compressor, _ in rows:
            files_per_compressor.setdefault((station, compressor), set()).add(file)
    for key, files in files_per_compressor.items():
        assert len(files) <= PER_STATION // 2 // ROWS_PER_FILE + 1, (key, sorted(files))
    # The byte bound splits the backlog: one micro-batch per bronze file here.
    assert run.silver_batches == len(by_file)
    silver = spark.read.format("delta").load(paths.table(SILVER_READINGS))
    assert silver.count() == total
    assert silver.select("station_id", "seq").distinct().count() == total
