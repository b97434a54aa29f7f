"""Calendar features of gold rows in the station's own time zone (hour of day, weekday). Pure.

An operations center filters on "nights", "weekends" or "the morning ramp" at the
station, not in UTC: each station's zone comes from the fleet file (`timezone`),
UTC where the fleet does not name the station.
"""

from __future__ import annotations

from collections.abc import Mapping

from pyspark.sql import Column
from pyspark.sql import functions as F

from shared.fleet import Fleet

CALENDAR_COLUMNS = ("hour_of_day", "day_of_week", "is_weekend")


def station_timezones(fleet: Fleet | None) -> dict[str, str]:
    """station id -> IANA time zone, from the fleet file."""
    if fleet is None:
        return {}
    return {s.id: s.timezone for o in fleet.organisations for s in o.stations}


def _zone(timezones: Mapping[str, str]) -> Column:
    zone: Column = F.lit("UTC")
    for station, name in sorted(timezones.items()):
        zone = F.when(F.col("station_id") == station, F.lit(name)).otherwise(zone)
    return zone


def calendar_columns(time_column: str, timezones: Mapping[str, str]) -> dict[str, Column]:
    """hour_of_day (0-23), day_of_week (ISO: 1 Monday .. 7 Sunday), is_weekend, local time."""
    local = F.from_utc_timestamp(F.col(time_column), _zone(timezones))
    iso_day = (F.dayofweek(local) + 5) % 7 + 1  # Spark: 1 Sunday .. 7 Saturday
    return {
        "hour_of_day": F.hour(local).cast("byte"),
        "day_of_week": iso_day.cast("byte"),
        "is_weekend": iso_day >= 6,
    }
