"""Alert episodes: hysteresis over per-minute signals, one episode per condition per compressor.

An episode opens when a condition's signal has stayed at or above `warning` for
`open_after_min` consecutive minutes, escalates to critical when it has stayed at or
above `critical` as long, and closes only after `close_after_min` consecutive minutes
below `clear` (< warning). Minutes where the condition cannot be evaluated (unit not
running, no value) neither open nor close anything. Pure transforms.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from hub.lakehouse.silver import COMPRESSOR
from hub.settings import AlertSettings

CONDITION_KEY = (*COMPRESSOR, "condition")


def _condition_struct(name: str, settings: AlertSettings) -> Column:
    condition = settings.conditions[name]
    return F.struct(
        F.lit(name).alias("condition"),
        F.lit(condition.category).alias("category"),
        F.lit(condition.signal).alias("signal"),
        F.col(f"_signal_{name}").cast("double").alias("value"),
        F.col(f"_evaluable_{name}").alias("evaluable"),
        F.lit(float(condition.warning)).alias("warning"),
        F.lit(condition.critical).cast("double").alias("critical"),
        F.lit(float(condition.clear)).alias("clear"),
        F.lit(condition.open_after_min).alias("open_after"),
        F.lit(condition.close_after_min).alias("close_after"),
    )


def condition_minutes(signals: DataFrame, settings: AlertSettings) -> DataFrame:
    """One row per compressor, condition and minute (long format) from `with_signals` output."""
    structs = [_condition_struct(name, settings) for name in sorted(settings.conditions)]
    return signals.select(
        *COMPRESSOR,
        F.unix_seconds("minute_start").alias("minute_s"),
        F.explode(F.array(*structs)).alias("c"),
    ).select(*COMPRESSOR, "minute_s", "c.*")


def restart_points(
    region_starts: DataFrame, stored: DataFrame, settings: AlertSettings
) -> DataFrame:
    """Per compressor and condition, the minute from which to recompute episodes.

    Recomputing from a minute where no episode is open and the signal was not above
    warning reproduces exactly what a computation from the beginning would give.
    `region_starts` has (org_id, station_id, compressor_id, region_start): the first
    minute whose signal may have changed.
    """
    names = F.array(
        *(
            F.struct(F.lit(n).alias("condition"), F.lit(c.open_after_min).alias("open_after"))
            for n, c in sorted(settings.conditions.items())
        )
    )
    candidates = region_starts.select(
        *COMPRESSOR,
        F.unix_seconds(F.date_trunc("minute", "region_start")).alias("_region_s"),
        F.explode(names).alias("c"),
    ).select(
        *COMPRESSOR,
        "c.condition",
        (F.col("_region_s") - F.col("c.open_after") * 60).alias("candidate_s"),
    )
    spanning = stored.select(
        *CONDITION_KEY,
        F.unix_seconds("first_seen_at").alias("first_s"),
        F.unix_seconds("closed_at").alias("closed_s"),
    )
    inside = (F.col("first_s") - 60 <= F.col("candidate_s")) & (
        F.col("closed_s").isNull() | (F.col("closed_s") >= F.col("candidate_s"))
    )
    return (
        candidates.join(spanning, on=list(CONDITION_KEY), how="left")
        .withColumn("_moved", F.when(inside, F.col("first_s") - 60))
        .groupBy(*CONDITION_KEY, "candidate_s")
        .agg(F.min("_moved").alias("_moved"))
        .select(*CONDITION_KEY, F.coalesce("_moved", "candidate_s").alias("restart_s"))
    )


def _held(flag: str, ordered: Window, cumulative: Window) -> tuple[Column, Column]:
    """Start of the current run of consecutive minutes with `flag`, and its length in minutes."""
    contiguous = F.lag("minute_s").over(ordered) == F.col("minute_s") - 60
    previous = F.coalesce(F.lag(flag).over(ordered), F.lit(False))
    breaks = ~contiguous | ~previous
    run_start = F.last(F.when(breaks, F.col("minute_s")), ignorenulls=True).over(cumulative)
    held = F.when(F.col(flag), (F.col("minute_s") - F.col(f"_{flag}_start")) / 60 + 1)
    return run_start, held


def episodes(minutes: DataFrame) -> DataFrame:
    """Episodes from `condition_minutes` rows (each condition's minutes from its restart point)."""
    ordered = Window.partitionBy(*CONDITION_KEY).orderBy("minute_s")
    cumulative = ordered.rowsBetween(Window.unboundedPreceding, Window.currentRow)
    value, evaluable = F.col("value"), F.col("evaluable")
    frame = (
        minutes.withColumn("above", evaluable & (value >= F.col("warning")))
        .withColumn(
            "crit", evaluable & F.col("critical").isNotNull() & (value >= F.col("critical"))
        )
        .withColumn("below", evaluable & (value < F.col("clear")))
    )
    for flag in ("above", "crit", "below"):
        run_start, held = _held(flag, ordered, cumulative)
        frame = frame.withColumn(f"_{flag}_start", run_start).withColumn(f"_{flag}_held", held)
    frame = (
        frame.withColumn("_open_ev", F.col("_above_held") >= F.col("open_after"))
        .withColumn("_close_ev", F.col("_below_held") >= F.col("close_after"))
        .withColumn("_crit_ev", F.col("_crit_held") >= F.col("open_after"))
        .withColumn(
            "_last_open", F.max(F.when(F.col("_open_ev"), F.col("minute_s"))).over(cumulative)
        )
        .withColumn(
            "_last_close", F.max(F.when(F.col("_close_ev"), F.col("minute_s"))).over(cumulative)
        )
        .withColumn(
            "_state",
            F.col("_last_open").isNotNull()
            & (F.col("_last_close").isNull() | (F.col("_last_open") > F.col("_last_close"))),
        )
    )
    # The run of minutes above warning that led to the opening belongs to the episode too.
    run = Window.partitionBy(*CONDITION_KEY, "_above_start")
    opens_later = F.col("above") & F.max(F.col("_open_ev")).over(run)
    frame = frame.withColumn("_in", F.col("_state") | F.coalesce(opens_later, F.lit(False)))
    starts = F.col("_in") & ~F.coalesce(F.lag("_in").over(ordered), F.lit(False))
    frame = frame.withColumn("_start", starts).withColumn(
        "_episode", F.sum(F.when(F.col("_start"), 1).otherwise(0)).over(cumulative)
    )
    return _summarise(frame.filter(F.col("_episode") > 0))


def _summarise(frame: DataFrame) -> DataFrame:
    inside = F.col("_in")
    peak = F.max(
        F.when(
            inside & F.col("evaluable"),
            F.struct(F.col("value"), (-F.col("minute_s")).alias("earliest")),
        )
    )
    grouped = frame.groupBy(*CONDITION_KEY, "_episode").agg(
        F.first("category").alias("category"),
        F.first("signal").alias("signal"),
        F.first("warning").alias("warning_threshold"),
        F.first("critical").alias("critical_threshold"),
        F.min(F.when(inside, F.col("minute_s"))).alias("_first_s"),
        F.min(F.when(F.col("_state"), F.col("minute_s"))).alias("_opened_s"),
        F.min(F.when(~inside, F.col("minute_s"))).alias("_closed_s"),
        F.max(F.when(inside & F.col("above"), F.col("minute_s"))).alias("_last_s"),
        F.min(F.when(F.col("_state") & F.col("_crit_ev"), F.col("minute_s"))).alias("_escalated_s"),
        peak.alias("_peak"),
        F.sum(F.when(inside & F.col("above"), 1).otherwise(0)).cast("int").alias("minutes_active"),
    )
    episode_key = F.concat_ws(
        "|", "org_id", "station_id", "compressor_id", "condition", F.col("_first_s").cast("string")
    )
    return grouped.select(
        F.substring(F.sha2(episode_key, 256), 1, 32).alias("episode_id"),
        *CONDITION_KEY,
        "category",
        "signal",
        F.timestamp_seconds("_first_s").alias("first_seen_at"),
        F.timestamp_seconds("_opened_s").alias("opened_at"),
        F.timestamp_seconds(F.coalesce("_last_s", "_opened_s")).alias("last_seen_at"),
        F.timestamp_seconds("_closed_s").alias("closed_at"),
        F.when(F.col("_closed_s").isNull(), "open").otherwise("closed").alias("status"),
        F.when(F.col("_escalated_s").isNotNull(), "critical")
        .otherwise("warning")
        .alias("severity"),
        F.timestamp_seconds("_escalated_s").alias("escalated_at"),
        F.col("_peak.value").alias("peak_value"),
        F.timestamp_seconds(-F.col("_peak.earliest")).alias("peak_at"),
        "warning_threshold",
        "critical_threshold",
        "minutes_active",
    )
