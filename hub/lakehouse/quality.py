"""Silver's quality rules: each rule sets a flag bit, no value is touched.

Rules are per compressor (its own previous readings, its own envelope overrides)
and per operating state (envelopes, rates and stuck values only compare like with
like), never a fleet-wide statistic that a failing machine would trip.

The rules walk one compressor's readings in time order, so they run as NumPy over
each compressor's rows (`flag_compressor`), which Spark calls once per compressor
(`apply_quality_rules`): one shuffle, vectorised per compressor, instead of a few
dozen window columns that each re-sort the micro-batch.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from hub.lakehouse.flags import ReadingRule, SensorRule
from hub.lakehouse.tables import COMPRESSOR_KEY as COMPRESSOR
from hub.settings import QualitySettings
from shared.schema import SENSOR_FIELDS, Quality, ReadingFlag, quality_field

_MICROS = 1_000_000


def cadence_s(rules: QualitySettings) -> Column:
    """The station's expected polling interval, seconds."""
    expr = F.lit(float(rules.expected_interval_s))
    for station, seconds in sorted(rules.station_interval_s.items()):
        expr = F.when(F.col("station_id") == station, F.lit(float(seconds))).otherwise(expr)
    return expr


def envelope_bounds(
    rules: QualitySettings, compressor_id: str, state: str, sensor: str
) -> tuple[float, float]:
    """The credible (low, high) for this compressor, state and sensor; NaN where none.

    State envelopes apply first ("*" before a named state), then this compressor's
    overrides the same way: the last one that applies wins, sensor by sensor.
    """
    low = high = np.nan
    layers: list[dict[str, dict[str, tuple[float, float]]]] = [
        rules.envelopes,
        rules.compressor_envelopes.get(compressor_id, {}),
    ]
    for layer in layers:
        for name in sorted(layer):
            if (name == "*" or name == state) and sensor in layer[name]:
                low, high = layer[name][sensor]
    return float(low), float(high)


def _same(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Equal values (two nulls count as different: a null breaks a run)."""
    with np.errstate(invalid="ignore"):
        return a == b


def _run_bounds(starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each row, the index of its run's first and last row."""
    index = np.arange(len(starts))
    first = np.maximum.accumulate(np.where(starts, index, 0))
    last = np.minimum.accumulate(np.where(ends, index, len(ends) - 1)[::-1])[::-1]
    return first, last


def flag_readings(
    frame: pd.DataFrame, rules: QualitySettings, *, late_horizon_s: float
) -> pd.DataFrame:
    """Set `<sensor>_flags`, `rule_flags` and `dt_s` on deduplicated silver rows.

    `frame` holds any number of compressors' readings in any order; the result is the
    same rows ordered by compressor and time. A reading's neighbours are its own
    compressor's. Rules that look at neighbours use the rows present: give this the
    readings from `context_s` before to `context_s` after the rows whose flags you
    keep (see hub.lakehouse.scope).
    """
    frame = frame.sort_values([*COMPRESSOR, "timestamp"], kind="stable").reset_index(drop=True)
    n = len(frame)
    if n == 0:
        return frame
    unit = frame.groupby(list(COMPRESSOR), sort=False).ngroup().to_numpy()
    ts = frame["timestamp"].to_numpy(dtype="datetime64[us]").astype(np.int64)
    seq = frame["seq"].to_numpy(dtype=np.int64)
    state = frame["operating_state"].to_numpy(dtype=object)
    context_us = int(rules.context_s * _MICROS)

    same_unit = np.append(False, unit[1:] == unit[:-1])
    step = np.full(n, np.nan)
    step[1:] = np.diff(ts)
    known = same_unit & (np.nan_to_num(step, nan=np.inf) <= context_us)
    dt = np.where(known, step / _MICROS, np.nan)
    next_known = np.append(known[1:], False)
    same_prev = same_unit & np.append(False, state[1:] == state[:-1]).astype(bool)
    same_next = np.append(same_prev[1:], False)
    stuck_state = np.isin(state, list(rules.stuck_states))
    # Envelopes depend on (compressor, state): look them up once per pair, not per row.
    pair_code, pairs = pd.MultiIndex.from_frame(
        frame[["compressor_id", "operating_state"]]
    ).factorize()

    sensor_flags: dict[str, np.ndarray] = {}
    for sensor in SENSOR_FIELDS:
        value = frame[sensor].to_numpy(dtype=np.float64, na_value=np.nan)
        present = ~np.isnan(value)
        quality = frame[quality_field(sensor)].to_numpy(dtype=np.int64)
        low, high = rules.instrument_ranges.get(sensor, (-np.inf, np.inf))
        bounds = np.array(
            [envelope_bounds(rules, str(unit), str(name), sensor) for unit, name in pairs]
        ).reshape(-1, 2)
        env_low, env_high = bounds[pair_code, 0], bounds[pair_code, 1]
        with np.errstate(invalid="ignore"):
            out_of_envelope = present & ((value < env_low) | (value > env_high))
            instrument = present & ((value < low) | (value > high))
        flags = np.where(quality != int(Quality.OK), int(SensorRule.QUALITY), 0)
        flags |= np.where(instrument, int(SensorRule.INSTRUMENT), 0)
        flags |= np.where(out_of_envelope, int(SensorRule.RANGE), 0)

        previous = np.append(np.nan, value[:-1])
        limit = rules.rate_limits_per_s.get(sensor)
        if limit is not None:
            with np.errstate(invalid="ignore", divide="ignore"):
                rate = same_prev & (dt > 0) & (np.abs(value - previous) / dt > limit)
            flags |= np.where(rate, int(SensorRule.RATE), 0)

        # A run of identical values; a null, a state change, a gap or another unit breaks it.
        following = np.append(value[1:], np.nan)
        starts = ~(same_prev & known & _same(value, previous))
        ends = ~(same_next & next_known & _same(value, following))
        first, last = _run_bounds(starts, ends)
        stuck = (
            present
            & stuck_state
            & (last - first + 1 >= rules.stuck_min_readings)
            & (ts[last] - ts[first] >= int(rules.stuck_min_s * _MICROS))
        )
        flags |= np.where(stuck, int(SensorRule.STUCK), 0)
        sensor_flags[sensor] = flags

    stations = frame["station_id"].to_numpy(dtype=object)
    cadence = np.full(n, float(rules.expected_interval_s))
    for station, seconds in rules.station_interval_s.items():
        cadence[stations == station] = float(seconds)
    gateway = frame["reading_flags"].to_numpy(dtype=np.int64)
    clock_jump = (gateway & int(ReadingFlag.CLOCK_JUMP | ReadingFlag.LATE)) != 0
    received = frame["received_at"].to_numpy(dtype="datetime64[us]").astype(np.int64)
    ahead_s = (ts - received) / _MICROS
    gap_limit = cadence * rules.gap_factor
    tolerance = np.maximum(rules.cadence_tolerance_s, cadence * rules.cadence_tolerance_fraction)
    with np.errstate(invalid="ignore"):
        steps = np.maximum(np.floor(dt / cadence + 0.5), 1.0)  # half up, as Spark rounds
        off_cadence = known & (dt <= gap_limit) & (np.abs(dt - steps * cadence) > tolerance)
        gap = (~known | (dt > gap_limit)) & ~clock_jump
    backwards = same_unit & np.append(False, seq[:-1] > seq[1:])
    clock_skew = clock_jump | off_cadence | (ahead_s > rules.future_tolerance_s) | backwards
    no_values = np.all([frame[s].isna().to_numpy() for s in SENSOR_FIELDS], axis=0)
    any_sensor = np.any([f != 0 for f in sensor_flags.values()], axis=0)
    rule_flags = (
        np.where(gap, int(ReadingRule.GAP), 0)
        | np.where(clock_skew, int(ReadingRule.CLOCK_SKEW), 0)
        | np.where(-ahead_s > late_horizon_s, int(ReadingRule.LATE), 0)
        | np.where(ahead_s > late_horizon_s, int(ReadingRule.FUTURE), 0)
        | np.where(no_values, int(ReadingRule.COMM_LOSS), 0)
        | np.where(any_sensor, int(ReadingRule.SENSOR), 0)
    )
    return frame.assign(
        **{f"{s}_flags": f.astype(np.int16) for s, f in sensor_flags.items()},
        rule_flags=rule_flags.astype(np.int32),
        dt_s=dt,
    )


def by_compressor_bucket(frame: DataFrame, function, schema) -> DataFrame:  # type: ignore[no-untyped-def]
    """`function` over whole buckets of compressors (one shuffle; pandas in, pandas out).

    A bucket holds every row of the compressors hashed to it, so per-compressor logic
    sees each compressor whole; one call per bucket (as many as shuffle partitions)
    instead of one per compressor keeps Python's per-call overhead out of a
    thousand-compressor micro-batch.
    """
    buckets = int(frame.sparkSession.conf.get("spark.sql.shuffle.partitions") or "4")
    bucket = F.pmod(F.hash(*COMPRESSOR), F.lit(buckets))
    return (
        frame.withColumn("_bucket", bucket)
        .groupBy("_bucket")
        .applyInPandas(lambda rows: function(rows.drop(columns=["_bucket"])), schema=schema)
    )


def apply_quality_rules(
    readings: DataFrame, rules: QualitySettings, *, late_horizon_s: float
) -> DataFrame:
    """`flag_readings` over deduplicated silver rows (same columns)."""

    def flag(frame: pd.DataFrame) -> pd.DataFrame:
        return flag_readings(frame, rules, late_horizon_s=late_horizon_s)

    return by_compressor_bucket(readings, flag, readings.schema)
