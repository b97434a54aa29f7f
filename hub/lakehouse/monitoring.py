"""Station freshness and hourly data quality of a micro-batch, recomputed from the tables.

Like every gold step (hub.lakehouse.batch), each recomputes the keys a batch may
have changed from the tables' content, so a replay or a second pass gives the same rows.
"""

from __future__ import annotations

from datetime import timedelta

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from hub.lakehouse import aggregates, status
from hub.lakehouse.io import Lake
from hub.lakehouse.scope import TimeRange, date_bounds, prune, ranges_frame, within
from hub.lakehouse.tables import BRONZE_READINGS, SILVER_READINGS, STATION_FRESHNESS
from hub.settings import QualitySettings


def station_freshness(lake: Lake, spark: SparkSession, readings: DataFrame) -> DataFrame:
    """Freshness of every station the batch's readings came from, as it is after the batch."""
    delivered = readings.groupBy("org_id", "station_id").agg(
        F.max("timestamp").alias("last_reading_at"),
        F.max("received_at").alias("last_received_at"),
    )
    stations = delivered.select("org_id", "station_id")
    before = lake.read(STATION_FRESHNESS, session=spark).join(
        stations, on=["org_id", "station_id"], how="inner"
    )
    deliveries = (
        delivered.unionByName(before.select(*delivered.columns))
        .groupBy("org_id", "station_id")
        .agg(
            F.max("last_reading_at").alias("last_reading_at"),
            F.max("last_received_at").alias("last_received_at"),
        )
        .localCheckpoint(eager=True)
    )
    last_hour = [
        TimeRange(
            r.org_id, r.station_id, None, r.last_reading_at - timedelta(hours=1), r.last_reading_at
        )
        for r in deliveries.collect()
    ]
    recent = within(
        prune(
            lake.read_dates(SILVER_READINGS, date_bounds(last_hour), session=spark),
            last_hour,
            "timestamp",
        ),
        ranges_frame(spark, last_hour, stations=True),
        "timestamp",
    )
    return status.station_freshness(recent, deliveries).localCheckpoint(eager=True)


def data_quality(
    lake: Lake,
    spark: SparkSession,
    rules: QualitySettings,
    hour_ranges: list[TimeRange],
    silver: DataFrame,
) -> DataFrame:
    """Data-quality rows of the hours in `hour_ranges`, from silver as it is after the batch."""
    hours = ranges_frame(spark, hour_ranges)
    deliveries = within(
        prune(
            lake.read_dates(BRONZE_READINGS, date_bounds(hour_ranges), session=spark),
            hour_ranges,
            "timestamp",
        ),
        hours,
        "timestamp",
    )
    return aggregates.data_quality_hourly(
        within(silver, hours, "timestamp"), aggregates.bronze_counts(deliveries), rules
    ).localCheckpoint(eager=True)
