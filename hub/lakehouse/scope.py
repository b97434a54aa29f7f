"""Which keys a micro-batch can change, and how much context recomputing them needs.

Each derived value is recomputed from silver for exactly the keys whose inputs may
have changed, with enough context before and after: so the tables end up the same
whether data arrived in one batch, in many, late, twice, or was reprocessed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from hub.lakehouse.silver import COMPRESSOR

FAR_FUTURE = datetime(2200, 1, 1)


@dataclass(frozen=True)
class TimeRange:
    """A closed time range for one compressor (or, with compressor_id None, one station)."""

    org_id: str
    station_id: str
    compressor_id: str | None
    start: datetime
    end: datetime
    rows: int = 0

    @property
    def compressor(self) -> tuple[str, str, str | None]:
        return self.org_id, self.station_id, self.compressor_id


def time_ranges(readings: DataFrame, time_column: str = "timestamp") -> list[TimeRange]:
    """Earliest and latest time per compressor, and its row count (a handful of rows)."""
    rows = (
        readings.groupBy(*COMPRESSOR)
        .agg(
            F.min(time_column).alias("start"),
            F.max(time_column).alias("end"),
            F.count(F.lit(1)).alias("rows"),
        )
        .collect()
    )
    return sorted(
        (TimeRange(r.org_id, r.station_id, r.compressor_id, r.start, r.end, r.rows) for r in rows),
        key=lambda r: r.compressor,
    )


def widen(ranges: Iterable[TimeRange], before: timedelta, after: timedelta) -> list[TimeRange]:
    return [replace(r, start=r.start - before, end=r.end + after) for r in ranges]


def reshape(
    ranges: Iterable[TimeRange],
    start: Callable[[TimeRange], datetime],
    end: Callable[[TimeRange], datetime],
) -> list[TimeRange]:
    return [replace(r, start=start(r), end=end(r)) for r in ranges]


def floor_to(moment: datetime, seconds: int) -> datetime:
    epoch = datetime(1970, 1, 1, tzinfo=moment.tzinfo)
    whole = int((moment - epoch).total_seconds() // seconds) * seconds
    return epoch + timedelta(seconds=whole)


def ranges_frame(
    spark: SparkSession, ranges: list[TimeRange], *, stations: bool = False
) -> DataFrame:
    keys = ["org_id", "station_id"] if stations else list(COMPRESSOR)
    fields = [T.StructField(k, T.StringType(), False) for k in keys]
    schema = T.StructType(
        [
            *fields,
            T.StructField("range_start", T.TimestampType(), False),
            T.StructField("range_end", T.TimestampType(), False),
        ]
    )
    rows = [(*(getattr(r, k) for k in keys), r.start, r.end) for r in ranges]
    return F.broadcast(spark.createDataFrame(rows, schema))


def date_bounds(ranges: Iterable[TimeRange]) -> tuple[date, date]:
    """UTC dates spanned by the ranges, with a day's margin (for partition pruning)."""
    listed = list(ranges)
    return (
        min(r.start for r in listed).date() - timedelta(days=1),
        min(max(r.end for r in listed), FAR_FUTURE).date() + timedelta(days=1),
    )


def prune(frame: DataFrame, ranges: list[TimeRange], time_column: str) -> DataFrame:
    """`frame` cut to the ranges' stations and overall time span with literal predicates.

    `within` is a join, which Delta cannot use to skip files; these filters can (file
    statistics on station and time), so a read touches the files near the ranges
    instead of every file of their dates.
    """
    if not ranges:
        return frame
    stations = sorted({r.station_id for r in ranges})
    start = min(r.start for r in ranges)
    end = min(max(r.end for r in ranges), FAR_FUTURE)
    value = F.col(time_column)
    if dict(frame.dtypes).get(time_column) == "date":
        bounds = value.between(F.lit(start.date()), F.lit(end.date()))
    else:
        bounds = value.between(F.lit(start), F.lit(end))
    return frame.filter(F.col("station_id").isin(stations) & bounds)


def within(frame: DataFrame, ranges: DataFrame, time_column: str) -> DataFrame:
    """Rows of `frame` whose compressor (or station) has a range containing `time_column`."""
    keys = [c for c in ("org_id", "station_id", "compressor_id") if c in ranges.columns]
    joined = frame.join(ranges, on=keys, how="inner")
    value = F.col(time_column)
    if dict(frame.dtypes).get(time_column) == "date":
        inside = (value >= F.to_date("range_start")) & (value <= F.to_date("range_end"))
    else:
        inside = (value >= F.col("range_start")) & (value <= F.col("range_end"))
    return joined.filter(inside).drop("range_start", "range_end")
