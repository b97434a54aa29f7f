"""Silver: typed readings, one per (org, station, compressor, timestamp). Pure transforms."""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from hub.lakehouse.diff import changed
from hub.lakehouse.tables import SILVER_READINGS
from shared.schema import QUALITY_FIELDS, SENSOR_FIELDS

KEY = ("org_id", "station_id", "compressor_id", "timestamp")
COMPRESSOR = ("org_id", "station_id", "compressor_id")
SILVER_COLUMNS: tuple[str, ...] = tuple(SILVER_READINGS.schema.fieldNames())
#: Columns whose change makes a silver row worth rewriting (values follow from seq/batch).
IDENTITY_COLUMNS = ("seq", "batch_id", "received_at")


def flag_columns() -> tuple[str, ...]:
    return (*(f"{s}_flags" for s in SENSOR_FIELDS), "rule_flags", "dt_s")


def to_readings(bronze: DataFrame) -> DataFrame:
    """Bronze rows as silver rows with no flags yet (rules are applied with their context)."""
    return bronze.select(
        F.col("org_id"),
        F.col("station_id"),
        F.col("compressor_id"),
        F.col("timestamp"),
        F.col("seq").cast("long"),
        F.col("operating_state"),
        *(F.col(s).cast("float").alias(s) for s in SENSOR_FIELDS),
        *(F.col(q).cast("byte").alias(q) for q in QUALITY_FIELDS),
        F.col("reading_flags").cast("int"),
        *(F.lit(0).cast("short").alias(f"{s}_flags") for s in SENSOR_FIELDS),
        F.lit(0).alias("rule_flags"),
        F.lit(None).cast("double").alias("dt_s"),
        F.col("batch_id"),
        F.col("received_at"),
        F.to_date("timestamp").alias("reading_date"),
    )


def keep_first_delivery(readings: DataFrame) -> DataFrame:
    """One row per key: the lowest (seq, received_at, batch_id), whatever order rows came in.

    A re-delivered reading has the same seq; a different seq under the same key is a
    clock problem (two polls stamped alike) and the earlier poll is the one kept.
    The choice depends only on the rows, so reprocessing picks the same winner.
    """
    rank = Window.partitionBy(*KEY).orderBy("seq", "received_at", "batch_id")
    return (
        readings.withColumn("_rank", F.row_number().over(rank))
        .filter(F.col("_rank") == 1)
        .drop("_rank")
    )


def changed_rows(recomputed: DataFrame, existing: DataFrame) -> DataFrame:
    """Rows of `recomputed` that are new or differ from `existing` (what a MERGE must write)."""
    compared = (*IDENTITY_COLUMNS, *flag_columns())
    return changed(recomputed, existing.select(*KEY, *compared), KEY, compared)
