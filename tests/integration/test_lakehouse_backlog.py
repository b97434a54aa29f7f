"""A backlog is split, not swallowed: the landing zone is read a bounded number of bytes at a
time (the file source's maxBytesPerTrigger), each micro-batch goes to bronze, silver and gold,
and bronze files hold at most `bronze_rows_per_file` readings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pyspark.sql import functions as F

from hub.lakehouse.pipeline import run_once
from hub.lakehouse.tables import BRONZE_READINGS, FEATURES_1M, SILVER_READINGS, LakePaths
from tests.hub.lakehouse.support import lake_settings, land_in_batches
from tests.support.factories import readings

pytestmark = [pytest.mark.spark, pytest.mark.slow]

START = (datetime.now(UTC) - timedelta(hours=3)).replace(minute=0, second=0, microsecond=0)
STATIONS = ("STATION-A", "STATION-B")
PER_STATION = 2000  # 2 compressors x 1,000 s at 1 Hz
ROWS_PER_FILE = 700


def test_a_backlog_is_worked_off_in_bounded_micro_batches(spark, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = lake_settings(
        tmp_path,
        pipeline={
            "bronze_rows_per_file": ROWS_PER_FILE,
            # Below one landing file's size: the source admits one file per micro-batch.
            "max_bytes_per_trigger": 1024,
        },
    )
    # Each station's backlog arrives in 1,000-reading batches, the two stations
    # interleaved, as two edges draining their backlogs at once would deliver them.
    for first in range(0, PER_STATION, 1000):
        for station in STATIONS:
            table = readings(PER_STATION, station_id=station, compressors=2, start=START)
            land_in_batches(settings, table.slice(first, 1000), 1000)

    run = run_once(spark, settings)

    total = PER_STATION * len(STATIONS)
    landed_files = total // 1000
    assert run.bronze_rows_added == total
    assert run.readings_processed == total
    assert run.silver_batches == landed_files  # one landing file per micro-batch
    paths = LakePaths(settings.lake_root)
    bronze = spark.read.format("delta").load(paths.table(BRONZE_READINGS))
    per_file = bronze.groupBy(F.input_file_name()).count().collect()
    assert max(row["count"] for row in per_file) <= ROWS_PER_FILE
    assert len(per_file) >= total // ROWS_PER_FILE
    silver = spark.read.format("delta").load(paths.table(SILVER_READINGS))
    assert silver.count() == total
    assert silver.select("station_id", "seq").distinct().count() == total
    # Gold saw every micro-batch: one minute row per compressor-minute of the backlog.
    minutes = spark.read.format("delta").load(paths.table(FEATURES_1M))
    expected_minutes = silver.select(
        "station_id", "compressor_id", F.date_trunc("minute", "timestamp")
    ).distinct()
    assert minutes.count() == expected_minutes.count()
