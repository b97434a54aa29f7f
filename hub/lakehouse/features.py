"""Gold features per compressor-minute: exact aggregates, physics, rolling windows. Pure.

Sums are kept in integer thousandths of the unit, so an aggregate over the same
readings is the same number whatever order Spark adds them in: reprocessing gives
bit-identical gold. Rolling windows cover the minutes the unit was running.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from hub.lakehouse.flags import NOT_FOR_GOLD, SENSOR_FAULT, ReadingRule
from hub.lakehouse.quality import by_compressor_bucket
from hub.lakehouse.silver import COMPRESSOR
from hub.lakehouse.tables import FEATURES_1M, ROLLING_WINDOWS, rolling_columns
from shared.schema import SENSOR_FIELDS, OperatingState

MINUTE_KEY = (*COMPRESSOR, "minute_start")
ATMOSPHERE_PSI = 14.696
#: GPSA rule-of-thumb factor per number of stages (Engineering Data Book, sec. 13; verify).
GPSA_STAGE_FACTOR = {1: 1.00, 2: 1.08, 3: 1.10, 4: 1.10}


def _has(condition: Column) -> Column:
    return F.sum(F.when(condition, 1).otherwise(0)).cast("int")


def minute_aggregates(silver: DataFrame) -> DataFrame:
    """features_1m base columns from silver rows; `late` and `future` readings are left out."""
    rows = silver.filter((F.col("rule_flags").bitwiseAND(int(NOT_FOR_GOLD))) == 0)
    comm_loss = F.col("rule_flags").bitwiseAND(int(ReadingRule.COMM_LOSS)) != 0
    aggregates: list[Column] = [
        F.count(F.lit(1)).cast("int").alias("n_readings"),
        _has(F.col("operating_state") == OperatingState.RUNNING).alias("n_running"),
        _has(comm_loss).alias("n_comm_loss"),
        _has(F.col("rule_flags").bitwiseAND(int(ReadingRule.CLOCK_SKEW)) != 0).alias(
            "n_clock_skew"
        ),
    ]
    for sensor in SENSOR_FIELDS:
        faulty = F.col(f"{sensor}_flags").bitwiseAND(int(SENSOR_FAULT)) != 0
        usable = F.col(sensor).isNotNull() & ~faulty
        milli = F.round(F.col(sensor).cast("double") * 1000.0).cast("long")
        aggregates += [
            _has(usable).alias(f"{sensor}_n"),
            F.coalesce(F.sum(F.when(usable, milli)), F.lit(0))
            .cast("long")
            .alias(f"{sensor}_sum_milli"),
            F.min(F.when(usable, F.col(sensor))).alias(f"{sensor}_min"),
            F.max(F.when(usable, F.col(sensor))).alias(f"{sensor}_max"),
            _has(faulty & ~comm_loss).alias(f"{sensor}_n_fault"),
        ]
    minutes = rows.groupBy(*COMPRESSOR, F.date_trunc("minute", "timestamp").alias("minute_start"))
    means = {
        f"{s}_mean": F.when(F.col(f"{s}_n") > 0, F.col(f"{s}_sum_milli") / F.col(f"{s}_n") / 1000.0)
        for s in SENSOR_FIELDS
    }
    return minutes.agg(*aggregates).withColumns(means)


def physics_features(minutes: DataFrame, assets: DataFrame) -> DataFrame:
    """Pressure differential, compression ratio and a horsepower efficiency estimate.

    `assets` has (org_id, station_id, compressor_id, stages). The efficiency is
    the GPSA rule of thumb bhp = 22 x r_stage x stages x MMscfd x F over the
    measured bhp: about 1 for a healthy unit, lower when it works harder for its gas.
    """
    suction = F.col("suction_pressure_psi_mean")
    discharge = F.col("discharge_pressure_psi_mean")
    ratio = (discharge + ATMOSPHERE_PSI) / (suction + ATMOSPHERE_PSI)
    stages = F.coalesce(F.col("_stages"), F.lit(2)).cast("double")
    factor = F.lit(1.10)
    for count, value in sorted(GPSA_STAGE_FACTOR.items(), reverse=True):
        factor = F.when(F.col("_stages") == count, F.lit(value)).otherwise(factor)
    theoretical_bhp = (
        22.0 * F.pow(ratio, 1.0 / stages) * stages * (F.col("gas_flow_mcf_mean") / 1000.0) * factor
    )
    hp = F.col("horsepower_consumption_mean")
    running = (F.col("n_running") == F.col("n_readings")) & (F.col("n_readings") > 0)
    valid = running & (suction + ATMOSPHERE_PSI > 0) & (ratio > 1.0) & (hp > 0)
    stages_of = assets.select(*COMPRESSOR, F.col("stages").alias("_stages"))
    return (
        minutes.join(stages_of, on=list(COMPRESSOR), how="left")
        .withColumns(
            {
                "pressure_differential_psi": discharge - suction,
                "compression_ratio": F.when(valid, ratio),
                "hp_efficiency": F.when(valid, theoretical_bhp / hp),
            }
        )
        .drop("_stages")
    )


ROLLING_INPUT = (
    *MINUTE_KEY,
    "n_readings",
    "n_running",
    *(c for s in SENSOR_FIELDS for c in (f"{s}_n", f"{s}_sum_milli", f"{s}_max")),
)


def _rolling_output_schema() -> T.StructType:
    wanted = {
        *MINUTE_KEY,
        *(c for s in SENSOR_FIELDS for c in (*rolling_columns(s), f"{s}_roc_per_h")),
    }
    return T.StructType([f for f in FEATURES_1M.schema.fields if f.name in wanted])


def _running_max(values: np.ndarray, start: np.ndarray) -> np.ndarray:
    """max(values[start[i] : i + 1]) for every i (a sparse table: O(n log n), no Python loop)."""
    size = len(values)
    levels = [values]
    width = 1
    while 2 * width <= size:
        previous = levels[-1]
        levels.append(np.maximum(previous[:-width], previous[width:]))
        width *= 2
    end = np.arange(size)
    length = end - start + 1
    level = np.floor(np.log2(length)).astype(np.int64)
    result = np.empty(size)
    for k in np.unique(level):
        rows = level == k
        table = levels[k]
        result[rows] = np.maximum(table[start[rows]], table[end[rows] - (1 << k) + 1])
    return result


def _window_stats(
    seconds: np.ndarray, n: np.ndarray, sums: np.ndarray, maxima: np.ndarray, window_s: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Trailing (t - window, t] mean, std of minute means and max, in exact integer sums.

    `seconds` is increasing; rows of different compressors are kept further apart
    than any window (see `rolling_stats`).
    """
    size = len(seconds)
    start = np.searchsorted(seconds, seconds - window_s, side="right")
    end = np.arange(1, size + 1)
    minute_milli = np.floor(sums / n + 0.5).astype(np.int64)
    # int64 cumulative sums may wrap on very long histories; differences stay exact.
    cum_n = np.concatenate([[0], np.cumsum(n, dtype=np.int64)])
    cum_sum = np.concatenate([[0], np.cumsum(sums, dtype=np.int64)])
    cum_q = np.concatenate([[0], np.cumsum(minute_milli, dtype=np.int64)])
    cum_q2 = np.concatenate([[0], np.cumsum(minute_milli * minute_milli, dtype=np.int64)])
    count = end - start
    total_n = cum_n[end] - cum_n[start]
    mean = (cum_sum[end] - cum_sum[start]) / total_n / 1000.0
    sum_q = (cum_q[end] - cum_q[start]).astype(np.float64)
    sum_q2 = (cum_q2[end] - cum_q2[start]).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        variance = np.maximum((sum_q2 - sum_q * sum_q / count) / (count - 1), 0.0)
    std = np.where(count >= 2, np.sqrt(variance) / 1000.0, np.nan)
    return mean, std, _running_max(maxima, start)


def rolling_stats(minutes: pd.DataFrame) -> pd.DataFrame:
    """Rolling features of any number of compressors' minutes (any order).

    Minutes not running get nulls. Each compressor's minutes are placed on one time
    axis further apart than the longest window, so one vectorised pass over all of
    them never mixes two compressors in a window.
    """
    minutes = minutes.sort_values([*COMPRESSOR, "minute_start"], kind="stable").reset_index(
        drop=True
    )
    out = minutes[list(MINUTE_KEY)].copy()
    if minutes.empty:
        for sensor in SENSOR_FIELDS:
            for name in (*rolling_columns(sensor), f"{sensor}_roc_per_h"):
                out[name] = np.array([], dtype=np.float64)
        return out
    unit = minutes.groupby(list(COMPRESSOR), sort=False).ngroup().to_numpy(dtype=np.int64)
    epoch_s = (
        minutes["minute_start"].astype("datetime64[us]").astype(np.int64) // 1_000_000
    ).to_numpy()
    spacing = int(epoch_s.max() - epoch_s.min()) + 2 * max(ROLLING_WINDOWS.values()) + 1
    seconds_all = epoch_s - epoch_s.min() + unit * spacing
    running = (
        (minutes["n_running"] == minutes["n_readings"]) & (minutes["n_readings"] > 0)
    ).to_numpy()
    for sensor in SENSOR_FIELDS:
        n = minutes[f"{sensor}_n"].to_numpy(dtype=np.int64)
        use = running & (n > 0)
        columns = {name: np.full(len(minutes), np.nan) for name in rolling_columns(sensor)}
        roc = np.full(len(minutes), np.nan)
        if use.any():
            seconds = seconds_all[use]
            sums = minutes[f"{sensor}_sum_milli"].to_numpy(dtype=np.int64)[use]
            maxima = minutes[f"{sensor}_max"].to_numpy(dtype=np.float64)[use]
            for window, window_s in ROLLING_WINDOWS.items():
                mean, std, rolling_max = _window_stats(seconds, n[use], sums, maxima, window_s)
                columns[f"{sensor}_mean_{window}"][use] = mean
                columns[f"{sensor}_std_{window}"][use] = std
                columns[f"{sensor}_max_{window}"][use] = rolling_max
            mean_1h = columns[f"{sensor}_mean_1h"][use]
            earlier = np.searchsorted(seconds, seconds - 3600)
            found = (earlier < len(seconds)) & (
                seconds[np.minimum(earlier, len(seconds) - 1)] == seconds - 3600
            )
            values = np.full(len(seconds), np.nan)
            values[found] = mean_1h[found] - mean_1h[earlier[found]]
            roc[use] = values
        for name, values in columns.items():
            out[name] = values
        out[f"{sensor}_roc_per_h"] = roc
    return out


def rolling_features(minutes: DataFrame) -> DataFrame:
    """Rolling 1h/4h/24h mean, std and max and the hourly rate of change, per compressor.

    Give it each compressor's minutes from 25 h before the first minute you keep.
    """
    return by_compressor_bucket(
        minutes.select(*ROLLING_INPUT), rolling_stats, _rolling_output_schema()
    )


def latest_minutes(minutes: DataFrame, window_min: int) -> DataFrame:
    """Each compressor's last `window_min` minutes (for the serving database's recent window)."""
    newest = F.max("minute_start").over(Window.partitionBy(*COMPRESSOR))
    cutoff = F.col("_newest") - F.expr(f"INTERVAL {int(window_min)} MINUTES")
    return (
        minutes.withColumn("_newest", newest)
        .filter(F.col("minute_start") > cutoff)
        .drop("_newest")
        .localCheckpoint(eager=True)
    )
