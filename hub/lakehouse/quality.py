"""Silver's quality rules as pure transforms: each rule sets a flag bit, no value is touched.

Rules are per compressor (its own previous readings, its own envelope overrides)
and per operating state (envelopes, rates and stuck values only compare like with
like), never a fleet-wide statistic that a failing machine would trip.
"""

from __future__ import annotations

from functools import reduce

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from hub.lakehouse.flags import ReadingRule, SensorRule
from hub.lakehouse.silver import COMPRESSOR
from hub.settings import QualitySettings
from shared.schema import SENSOR_FIELDS, Quality, ReadingFlag, quality_field

_MICROS = 1_000_000


def _bit(condition: Column, bit: int) -> Column:
    return F.when(condition, F.lit(int(bit))).otherwise(F.lit(0))


def _or_bits(bits: list[Column]) -> Column:
    return reduce(lambda a, b: a.bitwiseOR(b), bits)


def cadence_s(rules: QualitySettings) -> Column:
    """The station's expected polling interval, seconds."""
    expr = F.lit(float(rules.expected_interval_s))
    for station, seconds in sorted(rules.station_interval_s.items()):
        expr = F.when(F.col("station_id") == station, F.lit(float(seconds))).otherwise(expr)
    return expr


def _envelope(rules: QualitySettings, sensor: str, end: int) -> Column:
    """Lower (end=0) or upper (end=1) envelope bound for this compressor and state; null = none."""
    expr: Column = F.lit(None).cast("double")
    for state, limits in sorted(rules.envelopes.items()):
        if sensor in limits:
            in_state = F.lit(True) if state == "*" else F.col("operating_state") == state
            expr = F.when(in_state, F.lit(float(limits[sensor][end]))).otherwise(expr)
    for compressor, by_state in sorted(rules.compressor_envelopes.items()):
        for state, limits in sorted(by_state.items()):
            if sensor not in limits:
                continue
            match = F.col("compressor_id") == compressor
            if state != "*":
                match = match & (F.col("operating_state") == state)
            expr = F.when(match, F.lit(float(limits[sensor][end]))).otherwise(expr)
    return expr


def _sensor_flags(rules: QualitySettings, sensor: str) -> Column:
    value, prev_value = F.col(sensor), F.col(f"_prev_{sensor}")
    low, high = rules.instrument_ranges.get(sensor, (float("-inf"), float("inf")))
    env_low, env_high = _envelope(rules, sensor, 0), _envelope(rules, sensor, 1)
    same_state = F.col("operating_state") == F.col("_prev_state")
    rate_limit = rules.rate_limits_per_s.get(sensor)
    rate = (
        same_state
        & F.col("dt_s").isNotNull()
        & (F.col("dt_s") > 0)
        & (F.abs(value - prev_value) / F.col("dt_s") > F.lit(rate_limit))
        if rate_limit is not None
        else F.lit(False)
    )
    run_readings = F.col(f"_run_end_{sensor}") - F.col(f"_run_start_{sensor}") + 1
    run_micros = F.col(f"_run_end_us_{sensor}") - F.col(f"_run_start_us_{sensor}")
    stuck = (
        F.col("operating_state").isin(*rules.stuck_states)
        & (run_readings >= rules.stuck_min_readings)
        & (run_micros >= F.lit(int(rules.stuck_min_s * _MICROS)))
    )
    bits = [
        _bit(F.col(quality_field(sensor)) != int(Quality.OK), SensorRule.QUALITY),
        _bit(value.isNotNull() & ((value < low) | (value > high)), SensorRule.INSTRUMENT),
        _bit(
            value.isNotNull()
            & (
                (env_low.isNotNull() & (value < env_low))
                | (env_high.isNotNull() & (value > env_high))
            ),
            SensorRule.RANGE,
        ),
        _bit(F.coalesce(rate, F.lit(False)), SensorRule.RATE),
        _bit(value.isNotNull() & F.coalesce(stuck, F.lit(False)), SensorRule.STUCK),
    ]
    return _or_bits(bits).cast("short")


def _run_edges(sensor: str) -> tuple[Column, Column]:
    """Whether this reading starts / ends a run of identical values (state change or gap breaks it)."""
    value = F.col(sensor)
    starts = (
        value.isNull()
        | F.col(f"_prev_{sensor}").isNull()
        | (value != F.col(f"_prev_{sensor}"))
        | (F.col("operating_state") != F.col("_prev_state"))
        | F.col("dt_s").isNull()
    )
    ends = (
        value.isNull()
        | F.col(f"_next_{sensor}").isNull()
        | (value != F.col(f"_next_{sensor}"))
        | (F.col("operating_state") != F.col("_next_state"))
        | F.col("_next_dt_s").isNull()
    )
    return F.coalesce(starts, F.lit(True)), F.coalesce(ends, F.lit(True))


def apply_quality_rules(
    readings: DataFrame, rules: QualitySettings, *, late_horizon_s: float
) -> DataFrame:
    """Set `<sensor>_flags`, `rule_flags` and `dt_s` on deduplicated silver rows.

    Rules that look at neighbours use the rows present: give this the readings of
    each compressor from `context_s` before to `context_s` after the rows whose
    flags you keep (see hub.lakehouse.scope).
    """
    ordered = Window.partitionBy(*COMPRESSOR).orderBy("_ts_us")
    before = ordered.rowsBetween(Window.unboundedPreceding, Window.currentRow)
    # "The first run end at or after this row" is the last one seen walking backwards.
    # Spark grows an (unbounded preceding, current) frame incrementally, but evaluates
    # (current, unbounded following) again for every row: quadratic in a compressor's
    # rows, which made silver crawl on a 10,000-second backlog per compressor.
    from_end = (
        Window.partitionBy(*COMPRESSOR)
        .orderBy(F.col("_index").desc())
        .rowsBetween(Window.unboundedPreceding, Window.currentRow)
    )
    context_us = int(rules.context_s * _MICROS)
    neighbours = readings.withColumn("_ts_us", F.unix_micros("timestamp")).select(
        "*",
        F.row_number().over(ordered).alias("_index"),
        F.lag("_ts_us").over(ordered).alias("_prev_ts_us"),
        F.lead("_ts_us").over(ordered).alias("_next_ts_us"),
        F.lag("seq").over(ordered).alias("_prev_seq"),
        F.lag("operating_state").over(ordered).alias("_prev_state"),
        F.lead("operating_state").over(ordered).alias("_next_state"),
        *(F.lag(s).over(ordered).alias(f"_prev_{s}") for s in SENSOR_FIELDS),
        *(F.lead(s).over(ordered).alias(f"_next_{s}") for s in SENSOR_FIELDS),
    )
    # Beyond the context the neighbour may be unknown: treat as "none within context".
    step = F.col("_ts_us") - F.col("_prev_ts_us")
    next_step = F.col("_next_ts_us") - F.col("_ts_us")
    timed = neighbours.withColumns(
        {
            "dt_s": F.when(step <= context_us, step / F.lit(float(_MICROS))),
            "_next_dt_s": F.when(next_step <= context_us, next_step / F.lit(float(_MICROS))),
            "_cadence_s": cadence_s(rules),
        }
    )
    edges: dict[str, Column] = {}
    for sensor in SENSOR_FIELDS:
        starts, ends = _run_edges(sensor)
        edges[f"_starts_{sensor}"] = starts
        edges[f"_ends_{sensor}"] = ends
    runs = timed.withColumns(edges).select(
        "*",
        *(
            column
            for s in SENSOR_FIELDS
            for column in (
                F.last(F.when(F.col(f"_starts_{s}"), F.col("_index")), True)
                .over(before)
                .alias(f"_run_start_{s}"),
                F.last(F.when(F.col(f"_starts_{s}"), F.col("_ts_us")), True)
                .over(before)
                .alias(f"_run_start_us_{s}"),
                F.last(F.when(F.col(f"_ends_{s}"), F.col("_index")), True)
                .over(from_end)
                .alias(f"_run_end_{s}"),
                F.last(F.when(F.col(f"_ends_{s}"), F.col("_ts_us")), True)
                .over(from_end)
                .alias(f"_run_end_us_{s}"),
            )
        ),
    )
    flagged = runs.withColumns({f"{s}_flags": _sensor_flags(rules, s) for s in SENSOR_FIELDS})
    result = flagged.withColumn("rule_flags", _reading_flags(rules, late_horizon_s))
    return result.select(*readings.columns)


def _reading_flags(rules: QualitySettings, late_horizon_s: float) -> Column:
    dt, cadence = F.col("dt_s"), F.col("_cadence_s")
    gateway_flags = F.col("reading_flags")
    clock_jump = (gateway_flags.bitwiseAND(int(ReadingFlag.CLOCK_JUMP | ReadingFlag.LATE))) != 0
    steps = F.greatest(F.round(dt / cadence), F.lit(1.0))
    tolerance = F.greatest(
        F.lit(float(rules.cadence_tolerance_s)), cadence * rules.cadence_tolerance_fraction
    )
    gap_limit = cadence * rules.gap_factor
    off_cadence = dt.isNotNull() & (dt <= gap_limit) & (F.abs(dt - steps * cadence) > tolerance)
    ahead_s = (F.unix_micros("timestamp") - F.unix_micros("received_at")) / F.lit(float(_MICROS))
    behind_s = -ahead_s
    backwards = F.col("_prev_seq").isNotNull() & (F.col("_prev_seq") > F.col("seq"))
    clock_skew = clock_jump | off_cadence | (ahead_s > rules.future_tolerance_s) | backwards
    gap = (dt.isNull() | (dt > gap_limit)) & ~clock_jump
    no_values = reduce(lambda a, b: a & b, [F.col(s).isNull() for s in SENSOR_FIELDS])
    any_sensor = reduce(lambda a, b: a | b, [F.col(f"{s}_flags") != 0 for s in SENSOR_FIELDS])
    return _or_bits(
        [
            _bit(gap, ReadingRule.GAP),
            _bit(F.coalesce(clock_skew, F.lit(False)), ReadingRule.CLOCK_SKEW),
            _bit(behind_s > late_horizon_s, ReadingRule.LATE),
            _bit(no_values, ReadingRule.COMM_LOSS),
            _bit(any_sensor, ReadingRule.SENSOR),
        ]
    ).cast("int")
