"""Gold status tables: latest health per compressor, station freshness, physics model scores. Pure."""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from hub.lakehouse.silver import COMPRESSOR
from shared.schema import SENSOR_FIELDS

PHYSICS_MODEL_ID = "physics_health"
PHYSICS_MODEL_VERSION = "1"


def compressor_health(latest_minutes: DataFrame, open_episodes: DataFrame) -> DataFrame:
    """One row per compressor from its latest minute (with `health`) and its open episodes.

    Status comes from open equipment episodes: critical if any is critical, warning if
    any is open, healthy otherwise. Staleness is judged by the reader against its clock.
    """
    latest = Window.partitionBy(*COMPRESSOR).orderBy(F.col("minute_start").desc())
    newest = (
        latest_minutes.withColumn("_rank", F.row_number().over(latest))
        .filter(F.col("_rank") == 1)
        .select(
            *COMPRESSOR,
            F.col("minute_start").alias("as_of"),
            F.when(F.col("_running"), "running").otherwise("not_running").alias("operating_state"),
            F.col("health").alias("health_score"),
            *(F.col(f"{s}_mean") for s in SENSOR_FIELDS),
            "hp_efficiency",
        )
    )
    equipment = open_episodes.filter(
        (F.col("status") == "open") & (F.col("category") == "equipment")
    )
    counts = equipment.groupBy(*COMPRESSOR).agg(
        F.sum(F.when(F.col("severity") == "warning", 1).otherwise(0))
        .cast("int")
        .alias("open_warning"),
        F.sum(F.when(F.col("severity") == "critical", 1).otherwise(0))
        .cast("int")
        .alias("open_critical"),
    )
    joined = newest.join(counts, on=list(COMPRESSOR), how="left").fillna(
        0, subset=["open_warning", "open_critical"]
    )
    status = (
        F.when(F.col("open_critical") > 0, "critical")
        .when(F.col("open_warning") > 0, "warning")
        .otherwise("healthy")
    )
    return joined.withColumn("status", status)


def physics_scores(hourly_health: DataFrame) -> DataFrame:
    """The physics health score as model scores (hourly), until trained models add theirs."""
    return hourly_health.filter(F.col("health_score_mean").isNotNull()).select(
        *COMPRESSOR,
        F.col("hour_start").alias("scored_at"),
        F.lit(PHYSICS_MODEL_ID).alias("model_id"),
        F.lit(PHYSICS_MODEL_VERSION).alias("model_version"),
        F.lit("health").alias("score_kind"),
        F.col("health_score_mean").alias("score"),
        F.lit(None).cast("long").alias("horizon_s"),
        F.col("health_score_min").cast("double").alias("lower"),
        F.lit(None).cast("double").alias("upper"),
    )


def hourly_health(health_minutes: DataFrame) -> DataFrame:
    """Min and mean health per compressor-hour (integer sums, so reproducible)."""
    return health_minutes.groupBy(
        *COMPRESSOR, F.date_trunc("hour", "minute_start").alias("hour_start")
    ).agg(
        F.min("health").alias("health_score_min"),
        (F.sum("health") / F.count("health")).alias("health_score_mean"),
    )


def station_freshness(recent: DataFrame, deliveries: DataFrame) -> DataFrame:
    """Per station: newest reading and receipt (from every delivery), lag in its last hour.

    `deliveries` has (org_id, station_id, last_reading_at, last_received_at);
    `recent` is the station's silver rows of its last hour of data.
    """
    lag_s = (F.unix_micros("received_at") - F.unix_micros("timestamp")) / 1e6
    stats = recent.groupBy("org_id", "station_id").agg(
        F.countDistinct("compressor_id").cast("int").alias("compressors_reporting"),
        F.count(F.lit(1)).cast("long").alias("readings_last_hour"),
        F.percentile(lag_s, 0.5).alias("lag_p50_s"),
        F.percentile(lag_s, 0.95).alias("lag_p95_s"),
    )
    return deliveries.join(stats, on=["org_id", "station_id"], how="left").fillna(
        0, subset=["compressors_reporting", "readings_last_hour"]
    )
