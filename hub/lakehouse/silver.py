"""Silver: typed readings, one per (org, station, compressor, timestamp).

A micro-batch's readings meet the silver rows around them (`context`) in one pass per
compressor (`silver_pass`): deduplicate, apply the quality rules, and say which rows
a MERGE must write. One shuffle for the whole step.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from hub.lakehouse.diff import NEW_ROW
from hub.lakehouse.quality import by_compressor_bucket, flag_readings
from hub.lakehouse.tables import COMPRESSOR_KEY, SILVER_READINGS
from hub.settings import QualitySettings
from shared.schema import QUALITY_FIELDS, SENSOR_FIELDS

KEY = ("org_id", "station_id", "compressor_id", "timestamp")
COMPRESSOR = COMPRESSOR_KEY
SILVER_COLUMNS: tuple[str, ...] = tuple(SILVER_READINGS.schema.fieldNames())
#: Columns whose change makes a silver row worth rewriting (values follow from seq/batch).
IDENTITY_COLUMNS = ("seq", "batch_id", "received_at")
#: Which delivery of a reading is kept: the lowest of these, whatever the arrival order.
DELIVERY_ORDER = ("seq", "received_at", "batch_id")
#: Columns `silver_pass` adds: stored already, and whether a MERGE must write the row.
STORED, CHANGED = "_stored", "_changed"
_REGION_START, _REGION_END = "_region_start", "_region_end"


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


def keep_first_delivery(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per key (compressor, timestamp): the lowest (seq, received_at, batch_id).

    A re-delivered reading has the same seq; a different seq under the same key is a
    clock problem (two polls stamped alike) and the earlier poll is the one kept.
    The choice depends only on the rows, so reprocessing picks the same winner.
    """
    ordered = frame.sort_values([*KEY, *DELIVERY_ORDER], kind="stable")
    return ordered[~ordered.duplicated(list(KEY), keep="first")]


def _differs(new: pd.Series, old: pd.Series) -> np.ndarray:
    """Element-wise 'not the same value' with two nulls the same (SQL's <=> negated)."""
    both_null = new.isna().to_numpy() & old.isna().to_numpy()
    equal = (new.to_numpy() == old.to_numpy()) | both_null
    return ~equal


def silver_rows_after(
    frame: pd.DataFrame, rules: QualitySettings, *, late_horizon_s: float
) -> pd.DataFrame:
    """Stored rows (`_stored`) plus a batch's rows -> silver as it is after the batch.

    Rows inside the region get their rules recomputed; rows outside it are context and
    keep what is stored. `_changed` marks rows a MERGE must write: new keys
    (`_is_new`), a delivery that beat the stored one, or recomputed flags that differ.
    """
    if frame.empty:
        return frame.drop(columns=[_REGION_START, _REGION_END]).assign(**{NEW_ROW: []})
    stored_keys = pd.MultiIndex.from_frame(frame.loc[frame[STORED], list(KEY)])
    winners = keep_first_delivery(frame)
    old = winners[list(flag_columns())].reset_index(drop=True)
    flagged = flag_readings(winners, rules, late_horizon_s=late_horizon_s)
    # flag_readings sorts by compressor and time, as keep_first_delivery did: rows line up.
    in_region = (
        (flagged["timestamp"] >= flagged[_REGION_START])
        & (flagged["timestamp"] <= flagged[_REGION_END])
    ).to_numpy()
    stored = flagged[STORED].to_numpy(dtype=bool)
    keep_old = stored & ~in_region
    for column in flag_columns():
        flagged[column] = flagged[column].where(~keep_old, old[column].to_numpy())
    recomputed = np.zeros(len(flagged), dtype=bool)
    for column in flag_columns():
        recomputed |= _differs(flagged[column], old[column])
    new_key = ~pd.MultiIndex.from_frame(flagged[list(KEY)]).isin(stored_keys)
    flagged[CHANGED] = ~stored | (stored & in_region & recomputed)
    flagged[NEW_ROW] = new_key
    return flagged.drop(columns=[_REGION_START, _REGION_END])


def _pass_schema() -> T.StructType:
    return T.StructType(
        [
            *SILVER_READINGS.schema.fields,
            T.StructField(STORED, T.BooleanType(), False),
            T.StructField(CHANGED, T.BooleanType(), False),
            T.StructField(NEW_ROW, T.BooleanType(), False),
        ]
    )


def silver_pass(
    readings: DataFrame,
    stored: DataFrame,
    region: DataFrame,
    rules: QualitySettings,
    *,
    late_horizon_s: float,
) -> DataFrame:
    """Silver after the batch within the context read, with `_stored`, `_changed`, `_is_new`.

    `readings`: the batch as silver rows (to_readings); `stored`: silver's rows around
    it (context_s beyond the region on both sides); `region`: per compressor,
    (range_start, range_end) whose rows get their rules recomputed.
    """
    columns = list(SILVER_COLUMNS)
    both = stored.select(*columns, F.lit(True).alias(STORED)).unionByName(
        readings.select(*columns, F.lit(False).alias(STORED))
    )
    bounded = both.join(
        region.select(
            *COMPRESSOR,
            F.col("range_start").alias(_REGION_START),
            F.col("range_end").alias(_REGION_END),
        ),
        on=list(COMPRESSOR),
        how="inner",
    )

    def after(frame: pd.DataFrame) -> pd.DataFrame:
        return silver_rows_after(frame, rules, late_horizon_s=late_horizon_s)

    return by_compressor_bucket(bounded, after, _pass_schema())
