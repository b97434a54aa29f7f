"""Alert signals and the physics/threshold health score, per compressor-minute. Pure.

A signal is a number per compressor-minute that an alert condition compares with
its thresholds. Absolute signals are relative to the unit's own protection trips
(from the fleet file); "rising" signals compare the unit with its own running
baseline (the median of its previous days), never with the rest of the fleet.
"""

from __future__ import annotations

from collections.abc import Callable

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from hub.lakehouse.silver import COMPRESSOR
from hub.settings import AlertCondition, AlertSettings
from shared.schema import SENSOR_FIELDS

#: Sensors with a running baseline.
BASELINE_SENSORS = ("vibration_mms", "discharge_temp_f")

ASSET_SCHEMA = T.StructType(
    [
        T.StructField("org_id", T.StringType(), False),
        T.StructField("station_id", T.StringType(), False),
        T.StructField("compressor_id", T.StringType(), False),
        T.StructField("stages", T.IntegerType(), True),
        T.StructField("discharge_temp_trip_f", T.DoubleType(), True),
        T.StructField("vibration_trip_mms", T.DoubleType(), True),
    ]
)


def _share(count: str, of: Column) -> Column:
    return F.when(of > 0, F.col(count) / of)


def _answering() -> Column:
    return F.col("n_readings") - F.col("n_comm_loss")


def _signals() -> dict[str, Callable[[], Column]]:
    signals: dict[str, Callable[[], Column]] = {
        "discharge_temp_below_trip_f": lambda: F.col("discharge_temp_f_mean") - F.col("_temp_trip"),
        "vibration_trip_fraction": lambda: F.col("vibration_mms_mean") / F.col("_vibration_trip"),
        "vibration_baseline_ratio": lambda: (
            F.col("vibration_mms_mean_1h") / F.col("_baseline_vibration_mms")
        ),
        "discharge_temp_above_baseline_f": lambda: (
            F.col("discharge_temp_f_mean_1h") - F.col("_baseline_discharge_temp_f")
        ),
        "comm_loss_share": lambda: _share("n_comm_loss", F.col("n_readings")),
        "clock_skew_share": lambda: _share("n_clock_skew", F.col("n_readings")),
    }
    for sensor in SENSOR_FIELDS:
        signals[f"sensor_fault_share_{sensor}"] = (
            lambda sensor=sensor: _share(f"{sensor}_n_fault", _answering())  # type: ignore[misc]
        )
    return signals


#: Signal name -> column builder (over features_1m joined with assets and baselines).
SIGNALS: dict[str, Callable[[], Column]] = _signals()


def baselines(daily: DataFrame, days: DataFrame, settings: AlertSettings) -> DataFrame:
    """Per compressor-day: median running mean of the previous `baseline_days` qualifying days.

    `days` has (org_id, station_id, compressor_id, day): the days that need one.
    """
    history = daily.filter(
        F.col("n_running_minutes") >= settings.baseline_min_running_minutes
    ).select(
        *COMPRESSOR,
        F.col("day").alias("_source_day"),
        *(F.col(f"{s}_running_mean").alias(f"_src_{s}") for s in BASELINE_SENSORS),
    )
    window = (F.col("_source_day") < F.col("day")) & (
        F.col("_source_day") >= F.date_sub(F.col("day"), settings.baseline_days)
    )
    return (
        days.join(history, on=list(COMPRESSOR), how="inner")
        .filter(window)
        .groupBy(*COMPRESSOR, "day")
        .agg(*(F.median(f"_src_{s}").alias(f"_baseline_{s}") for s in BASELINE_SENSORS))
    )


def with_signals(
    minutes: DataFrame, assets: DataFrame, baseline: DataFrame, settings: AlertSettings
) -> DataFrame:
    """Add every configured condition's signal and `_evaluable_<condition>` to features minutes."""
    frame = (
        minutes.withColumn("day", F.to_date("minute_start"))
        .join(assets, on=list(COMPRESSOR), how="left")
        .join(baseline, on=[*COMPRESSOR, "day"], how="left")
        .withColumns(
            {
                "_temp_trip": F.coalesce(
                    F.col("discharge_temp_trip_f"), F.lit(settings.default_discharge_temp_trip_f)
                ),
                "_vibration_trip": F.coalesce(
                    F.col("vibration_trip_mms"), F.lit(settings.default_vibration_trip_mms)
                ),
                "_running": (F.col("n_running") == F.col("n_readings")) & (F.col("n_readings") > 0),
            }
        )
    )
    signals: dict[str, Column] = {}
    for name, condition in settings.conditions.items():
        if condition.signal not in SIGNALS:
            raise ValueError(f"alert condition {name!r}: unknown signal {condition.signal!r}")
        signals[f"_signal_{name}"] = SIGNALS[condition.signal]()
    evaluable = {
        f"_evaluable_{name}": _evaluable(condition, name)
        for name, condition in settings.conditions.items()
    }
    return frame.withColumns(signals).withColumns(evaluable)


def _evaluable(condition: AlertCondition, name: str) -> Column:
    present = F.col(f"_signal_{name}").isNotNull() & ~F.isnan(F.col(f"_signal_{name}"))
    if not condition.states:
        return present & (F.col("n_readings") > 0)
    if set(condition.states) == {"running"}:
        return present & F.col("_running")
    raise ValueError(f"alert condition {name!r}: states must be () or ('running',)")


def health_score(settings: AlertSettings) -> Column:
    """0-100 per running minute: 100 minus how far the worst equipment signal is towards critical."""
    penalties = []
    for name, condition in settings.conditions.items():
        if condition.category != "equipment":
            continue
        top = condition.critical if condition.critical is not None else condition.warning
        share = (F.col(f"_signal_{name}") - condition.clear) / (top - condition.clear)
        clipped = F.least(F.greatest(share, F.lit(0.0)), F.lit(1.0))
        penalties.append(F.when(F.col(f"_evaluable_{name}"), clipped).otherwise(F.lit(0.0)))
    if not penalties:
        return F.when(F.col("_running"), F.lit(100))
    worst = F.greatest(*penalties) if len(penalties) > 1 else penalties[0]
    return F.when(F.col("_running"), (F.lit(100) - F.round(worst * 100)).cast("int"))
