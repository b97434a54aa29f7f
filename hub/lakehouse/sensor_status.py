"""Per-sensor status (normal / warning / critical) of gold minute and hour rows, from ONE definition.

The limits are the `sensors:` of config/thresholds.yaml (shared/thresholds.py), which the
edge's rules and the portal's gauges read as well. A row's status for a sensor judges its
worst value in the row's window: the maximum for a sensor where high is bad, the minimum
where low is bad (`<sensor>_max` / `<sensor>_min` of features_1m and hourly_aggregates),
falling back to `<sensor>_mean` when the row has no extreme. No value: NULL status.

Two equal forms: `row_status` (pure Python, one row as a mapping) and `status_columns` /
`with_sensor_status` (Spark Column expressions adding `<sensor>_status` columns).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from shared.thresholds import SensorLimit, SensorLimits, load_sensor_limits


def status_column_name(sensor: str) -> str:
    return f"{sensor}_status"


def judged_column(sensor: str, limit: SensorLimit, columns: Iterable[str]) -> str | None:
    """The row column a sensor's status judges: its worst extreme, else its mean."""
    present = set(columns)
    extreme = f"{sensor}_max" if limit.direction == "above" else f"{sensor}_min"
    for name in (extreme, f"{sensor}_mean"):
        if name in present:
            return name
    return None


def row_status(row: Mapping[str, Any], limits: SensorLimits | None = None) -> dict[str, str | None]:
    """`<sensor>_status` of one gold row for every sensor with limits (None: no value)."""
    limits = limits or load_sensor_limits()
    out: dict[str, str | None] = {}
    for sensor, limit in limits.sensors.items():
        column = judged_column(sensor, limit, row.keys())
        value = row.get(column) if column else None
        status = limit.status(None if value is None else float(value))
        out[status_column_name(sensor)] = None if status == "unknown" else status
    return out


def status_expression(value: Column, limit: SensorLimit) -> Column:
    """normal / warning / critical of a numeric Column (NULL stays NULL)."""
    if limit.direction == "above":
        critical, warning = value >= F.lit(limit.critical), value >= F.lit(limit.warning)
    else:
        critical, warning = value <= F.lit(limit.critical), value <= F.lit(limit.warning)
    return (
        F.when(value.isNull() | F.isnan(value), F.lit(None).cast("string"))
        .when(critical, F.lit("critical"))
        .when(warning, F.lit("warning"))
        .otherwise(F.lit("normal"))
    )


def status_columns(columns: Iterable[str], limits: SensorLimits | None = None) -> list[Column]:
    """`<sensor>_status` Columns for a frame with these columns (a sensor without data: none)."""
    limits = limits or load_sensor_limits()
    names = list(columns)
    out = []
    for sensor, limit in limits.sensors.items():
        column = judged_column(sensor, limit, names)
        if column is not None:
            judged = F.col(column).cast("double")
            out.append(status_expression(judged, limit).alias(status_column_name(sensor)))
    return out


def with_sensor_status(frame: DataFrame, limits: SensorLimits | None = None) -> DataFrame:
    """`frame` with a `<sensor>_status` column per sensor with limits (gold minute or hour rows)."""
    return frame.select("*", *status_columns(frame.columns, limits))
