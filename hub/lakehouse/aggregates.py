"""Gold aggregates: hourly and daily per compressor, data quality per compressor-hour. Pure."""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from hub.lakehouse.flags import ReadingRule, SensorRule
from hub.lakehouse.quality import cadence_s
from hub.lakehouse.silver import COMPRESSOR
from hub.settings import QualitySettings
from shared.schema import SENSOR_FIELDS


def _running_minute() -> Column:
    return (F.col("n_running") == F.col("n_readings")) & (F.col("n_readings") > 0)


def _sensor_aggregates(sensor: str) -> list[Column]:
    n, total = F.col(f"{sensor}_n"), F.col(f"{sensor}_sum_milli")
    has_values = n > 0
    minute_milli = F.when(has_values, F.floor(total / n + 0.5).cast("long"))
    running = _running_minute() & has_values
    return [
        F.sum(n).cast("long").alias(f"{sensor}_n"),
        F.sum(total).cast("long").alias(f"{sensor}_sum_milli"),
        F.min(f"{sensor}_min").alias(f"{sensor}_min"),
        F.max(f"{sensor}_max").alias(f"{sensor}_max"),
        F.sum(F.when(has_values, 1).otherwise(0)).alias(f"_{sensor}_k"),
        F.sum(minute_milli).alias(f"_{sensor}_q"),
        F.sum(minute_milli * minute_milli).alias(f"_{sensor}_q2"),
        F.sum(F.when(running, total)).alias(f"_{sensor}_run_sum"),
        F.sum(F.when(running, n)).alias(f"_{sensor}_run_n"),
    ]


def _finish(frame: DataFrame) -> DataFrame:
    derived: dict[str, Column] = {}
    for sensor in SENSOR_FIELDS:
        n, total = F.col(f"{sensor}_n"), F.col(f"{sensor}_sum_milli")
        k, q, q2 = (F.col(f"_{sensor}_{part}").cast("double") for part in ("k", "q", "q2"))
        variance = F.greatest((q2 - q * q / k) / (k - 1), F.lit(0.0))
        run_n = F.col(f"_{sensor}_run_n")
        derived[f"{sensor}_mean"] = F.when(n > 0, total / n / 1000.0)
        derived[f"{sensor}_std"] = F.when(k >= 2, F.sqrt(variance) / 1000.0)
        derived[f"{sensor}_running_mean"] = F.when(
            run_n > 0, F.col(f"_{sensor}_run_sum") / run_n / 1000.0
        )
    scratch = [
        f"_{s}_{part}" for s in SENSOR_FIELDS for part in ("k", "q", "q2", "run_sum", "run_n")
    ]
    return frame.withColumns(derived).drop(*scratch)


def _aggregate(minutes: DataFrame, period: Column, period_name: str) -> DataFrame:
    grouped = minutes.groupBy(*COMPRESSOR, period.alias(period_name)).agg(
        F.sum("n_readings").cast("long").alias("n_readings"),
        F.sum(F.when(_running_minute(), 1).otherwise(0)).cast("int").alias("n_running_minutes"),
        *(agg for sensor in SENSOR_FIELDS for agg in _sensor_aggregates(sensor)),
    )
    return _finish(grouped)


def hourly_aggregates(minutes: DataFrame) -> DataFrame:
    """Per compressor-hour from features_1m rows (all minutes of the hours wanted)."""
    hourly = _aggregate(minutes, F.date_trunc("hour", "minute_start"), "hour_start")
    return hourly.withColumn("aggregate_date", F.to_date("hour_start"))


def daily_aggregates(minutes: DataFrame) -> DataFrame:
    """Per compressor-day (UTC) from features_1m rows (all minutes of the days wanted)."""
    return _aggregate(minutes, F.to_date("minute_start"), "day")


def _count(mask: int, column: str = "rule_flags") -> Column:
    return F.sum(F.when(F.col(column).bitwiseAND(mask) != 0, 1).otherwise(0)).cast("long")


def _sensor_count(rule: SensorRule) -> Column:
    hits = [
        F.when(F.col(f"{s}_flags").bitwiseAND(int(rule)) != 0, 1).otherwise(0)
        for s in SENSOR_FIELDS
    ]
    total = hits[0]
    for hit in hits[1:]:
        total = total + hit
    return F.sum(total).cast("long")


def data_quality_hourly(
    silver: DataFrame, bronze_counts: DataFrame, rules: QualitySettings
) -> DataFrame:
    """Counts per compressor-hour of deliveries, duplicates and every rule's flags.

    `bronze_counts` has (org_id, station_id, compressor_id, hour_start, n_received).
    Sensor rules count values (a reading with two stuck sensors counts twice).
    """
    cadence = cadence_s(rules)
    gap = F.col("rule_flags").bitwiseAND(int(ReadingRule.GAP)) != 0
    # Whole microseconds, so the sum does not depend on the order Spark adds in.
    beyond_us = F.when(
        gap & F.col("dt_s").isNotNull(),
        F.round(F.col("dt_s") * 1e6).cast("long") - F.round(F.col("_cadence") * 1e6).cast("long"),
    )
    hour = F.date_trunc("hour", "timestamp").alias("hour_start")
    counted = (
        silver.withColumn("_cadence", cadence)
        .groupBy(*COMPRESSOR, hour)
        .agg(
            F.count(F.lit(1)).cast("long").alias("n_readings"),
            F.sum(F.when((F.col("rule_flags") != 0), 1).otherwise(0))
            .cast("long")
            .alias("n_flagged"),
            _count(int(ReadingRule.GAP)).alias("n_gap"),
            _count(int(ReadingRule.CLOCK_SKEW)).alias("n_clock_skew"),
            _count(int(ReadingRule.LATE)).alias("n_late"),
            _count(int(ReadingRule.FUTURE)).alias("n_future"),
            _count(int(ReadingRule.COMM_LOSS)).alias("n_comm_loss"),
            _sensor_count(SensorRule.QUALITY).alias("n_quality"),
            _sensor_count(SensorRule.INSTRUMENT).alias("n_instrument"),
            _sensor_count(SensorRule.RANGE).alias("n_range"),
            _sensor_count(SensorRule.RATE).alias("n_rate"),
            _sensor_count(SensorRule.STUCK).alias("n_stuck"),
            (F.coalesce(F.sum(beyond_us), F.lit(0)) / 1e6).alias("gap_seconds"),
            (F.lit(3600.0) / F.first("_cadence")).alias("expected_readings"),
        )
    )
    key = [*COMPRESSOR, "hour_start"]
    return (
        counted.join(bronze_counts, on=key, how="left")
        .withColumn("n_received", F.coalesce(F.col("n_received"), F.col("n_readings")).cast("long"))
        .withColumn("n_duplicates", (F.col("n_received") - F.col("n_readings")).cast("long"))
        .withColumn("aggregate_date", F.to_date("hour_start"))
    )


def bronze_counts(bronze: DataFrame) -> DataFrame:
    """Deliveries per compressor-hour (every row in bronze, duplicates included)."""
    return bronze.groupBy(*COMPRESSOR, F.date_trunc("hour", "timestamp").alias("hour_start")).agg(
        F.count(F.lit(1)).cast("long").alias("n_received")
    )
