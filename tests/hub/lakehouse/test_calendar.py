"""Calendar features are the station's local time, not UTC."""

from __future__ import annotations

from datetime import datetime

import pytest

from hub.lakehouse.calendar import calendar_columns

pytestmark = pytest.mark.spark


def test_hour_weekday_and_weekend_in_the_stations_zone(spark) -> None:  # type: ignore[no-untyped-def]
    rows = [
        ("TX-1", datetime(2026, 7, 6, 4, 0)),  # Monday 04:00 UTC = Sunday 23:00 in Texas (CDT)
        ("TX-1", datetime(2026, 7, 6, 14, 30)),  # Monday 09:30 CDT
        ("ELSEWHERE", datetime(2026, 7, 6, 4, 0)),  # not in the fleet: UTC, a Monday
    ]
    frame = spark.createDataFrame(rows, "station_id string, minute_start timestamp")
    out = frame.withColumns(
        calendar_columns("minute_start", {"TX-1": "America/Chicago"})
    ).collect()
    got = [(r.hour_of_day, r.day_of_week, r.is_weekend) for r in out]
    assert got == [(23, 7, True), (9, 1, False), (4, 1, False)]
