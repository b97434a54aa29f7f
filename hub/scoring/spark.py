"""Thin Spark wrappers: the pure scoring functions applied per compressor or per station.

`score_minutes` and `hourly_view` each run the features and the ONNX graph; a micro-batch
that wants both runs them once with `score_partials` (cache the result) and derives both
with `minutes_from_partials` and `hours_from_partials` (the same rows, plain aggregations).

The SparkSession and DataFrames belong to the caller (the lakehouse pipeline); these
functions only add `applyInPandas` steps. Models travel to the Python workers pickled
(an `AnomalyModel` as its bundle bytes, re-opened there).

Inputs:
- `silver`: silver readings (hub/lakehouse/tables.py SILVER_READINGS) of the compressors a
  micro-batch touched, from `silver_start(since, model)` on (the features' context);
- `hours`: the hourly model view (`MODEL_HOURS_SCHEMA`, as `model_hours` returns it) of
  every compressor of the touched stations, `history_days(...)` before `since` (None: from
  each unit's first stored hour).
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from hub.scoring.anomaly import (
    ID_COLUMNS,
    MODEL_HOUR_COLUMNS,
    READING_COLUMNS,
    anomaly_minutes,
    context_start,
    model_hours,
)
from hub.scoring.bundles import AnomalyModel, DriftForecaster, RulEstimator
from hub.scoring.hourly import drift_scores, rul_scores
from hub.scoring.partials import PARTIAL_COLUMNS, minute_partials
from hub.scoring.rows import concat_scores, utc_timestamp
from models.hourly import HOURLY_FEATURES, MIN_RUNNING_SHARE


def scores_schema() -> T.StructType:
    """The gold MODEL_SCORES schema (owned by hub/lakehouse/tables.py)."""
    from hub.lakehouse.tables import MODEL_SCORES

    return MODEL_SCORES.schema


def _field(name: str, kind: T.DataType, nullable: bool = True) -> T.StructField:
    return T.StructField(name, kind, nullable)


#: The hourly model view as a Spark schema (proposed gold table: hub/scoring/tables.py).
MODEL_HOURS_SCHEMA = T.StructType(
    [
        *(_field(c, T.StringType(), False) for c in ID_COLUMNS),
        _field("hour", T.TimestampType(), False),
        *(_field(f, T.DoubleType()) for f in HOURLY_FEATURES),
        _field("discharge_temp_f_peak", T.DoubleType()),
        _field("rows", T.LongType(), False),
        _field("score_max", T.DoubleType()),
        _field("alarm", T.BooleanType(), False),
    ]
)
assert [f.name for f in MODEL_HOURS_SCHEMA.fields] == MODEL_HOUR_COLUMNS


def silver_start(since: datetime, model: AnomalyModel) -> pd.Timestamp:
    """Earliest silver reading time to pass for scores from `since` (its hour and the windows)."""
    return context_start(utc_timestamp(since).floor("h"), model)


def history_days(rul: RulEstimator | None, drift: DriftForecaster | None) -> float | None:
    """Days of hourly model view before `since` the RUL and drift steps need.

    None: from each unit's first stored hour. The RUL model judges a unit against its own
    first `reference_days` (models/rul.py), so its view must start there; a sliding window
    would move that reference. Drift alone needs its window and a day.
    """
    if rul is not None:
        return None
    return drift.config.window_days + 1.0 if drift is not None else 0.0


def score_minutes(silver: DataFrame, model: AnomalyModel, *, since: datetime | None) -> DataFrame:
    """Anomaly score per compressor-minute at or after `since` (gold MODEL_SCORES rows)."""

    def run(readings: pd.DataFrame) -> pd.DataFrame:
        return anomaly_minutes(readings, model, since=since)

    return (
        silver.select(*READING_COLUMNS)
        .groupBy(*ID_COLUMNS)
        .applyInPandas(run, schema=scores_schema())
    )


def hourly_view(
    silver: DataFrame, model: AnomalyModel, *, interval_s: float, since: datetime | None
) -> DataFrame:
    """The hourly model view of the hours at or after `since`'s hour (MODEL_HOURS_SCHEMA)."""
    since_hour = None if since is None else utc_timestamp(since).floor("h")

    def run(readings: pd.DataFrame) -> pd.DataFrame:
        return model_hours(readings, model, interval_s=interval_s, since=since_hour)

    return (
        silver.select(*READING_COLUMNS)
        .groupBy(*ID_COLUMNS)
        .applyInPandas(run, schema=MODEL_HOURS_SCHEMA)
    )


def score_hours(
    hours: DataFrame,
    *,
    rul: RulEstimator | None,
    drift: DriftForecaster | None,
    since: datetime | None,
) -> DataFrame:
    """RUL and drift rows per compressor-hour at or after `since`'s hour, one station per group."""
    since_hour = None if since is None else utc_timestamp(since).floor("h")

    def run(station: pd.DataFrame) -> pd.DataFrame:
        frames = []
        if drift is not None:
            frames.append(drift_scores(station, drift, since=since_hour))
        if rul is not None:
            frames.append(rul_scores(station, rul, drift=drift, since=since_hour))
        return concat_scores(frames)

    return (
        hours.select(*MODEL_HOUR_COLUMNS)
        .groupBy("org_id", "station_id")
        .applyInPandas(run, schema=scores_schema())
    )


#: Per compressor-minute partials (hub/scoring/partials.py) as a Spark schema.
PARTIALS_SCHEMA = T.StructType(
    [
        *(_field(c, T.StringType(), False) for c in ID_COLUMNS),
        _field("minute", T.TimestampType(), False),
        _field("score_max", T.DoubleType()),
        _field("n_scored", T.LongType(), False),
        _field("running_rows", T.LongType(), False),
        _field("running_score_max", T.DoubleType()),
        _field("running_alarm", T.BooleanType(), False),
        _field("discharge_temp_f_peak", T.DoubleType()),
        *(_field(f"sum_{f}", T.DoubleType()) for f in HOURLY_FEATURES),
    ]
)
assert [f.name for f in PARTIALS_SCHEMA.fields] == PARTIAL_COLUMNS


def score_partials(silver: DataFrame, model: AnomalyModel, *, since: datetime | None) -> DataFrame:
    """One pass of features and ONNX: per-minute partials from `since`'s hour (cache it)."""
    since_hour = None if since is None else utc_timestamp(since).floor("h")

    def run(readings: pd.DataFrame) -> pd.DataFrame:
        return minute_partials(readings, model, since=since_hour)

    return (
        silver.select(*READING_COLUMNS)
        .groupBy(*ID_COLUMNS)
        .applyInPandas(run, schema=PARTIALS_SCHEMA)
    )


def minutes_from_partials(
    partials: DataFrame, model: AnomalyModel, *, since: datetime | None
) -> DataFrame:
    """The anomaly score per compressor-minute at or after `since` (= `score_minutes`)."""
    rows = partials.where(F.col("n_scored") > 0)
    if since is not None:
        rows = rows.where(F.col("minute") >= F.lit(utc_timestamp(since).to_pydatetime()))
    return rows.select(
        *ID_COLUMNS,
        F.col("minute").alias("scored_at"),
        F.lit(model.model_id).alias("model_id"),
        F.lit(model.version).alias("model_version"),
        F.lit("anomaly").alias("score_kind"),
        F.col("score_max").alias("score"),
        F.lit(None).cast("long").alias("horizon_s"),
        F.lit(None).cast("double").alias("lower"),
        F.lit(None).cast("double").alias("upper"),
    )


def hours_from_partials(partials: DataFrame, *, interval_s: float) -> DataFrame:
    """The hourly model view of the partials' hours (= `hourly_view`, MODEL_HOURS columns)."""
    rows = F.sum("running_rows")
    hours = partials.groupBy(*ID_COLUMNS, F.date_trunc("hour", "minute").alias("hour")).agg(
        *((F.sum(f"sum_{f}") / F.when(rows > 0, rows)).alias(f) for f in HOURLY_FEATURES),
        F.max("discharge_temp_f_peak").alias("discharge_temp_f_peak"),
        rows.alias("rows"),
        F.max("running_score_max").alias("score_max"),
        F.max("running_alarm").alias("alarm"),
    )
    enough = F.col("rows") >= F.lit(MIN_RUNNING_SHARE * 3600.0 / interval_s)
    return hours.where(enough).select(*MODEL_HOUR_COLUMNS)
