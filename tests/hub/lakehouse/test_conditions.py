"""Baselines, signals and the physics health score on tiny frames."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from hub.lakehouse.assets import assets_frame
from hub.lakehouse.conditions import baselines, health_score, with_signals
from hub.settings import AlertSettings
from tests.hub.lakehouse.frames import START, minute_rows, minutes_frame

pytestmark = pytest.mark.spark

DAILY_SCHEMA = (
    "org_id string, station_id string, compressor_id string, day date, n_running_minutes int, "
    "vibration_mms_running_mean double, discharge_temp_f_running_mean double"
)


def test_baseline_is_the_median_of_previous_qualifying_days(spark) -> None:  # type: ignore[no-untyped-def]
    settings = AlertSettings(baseline_days=3, baseline_min_running_minutes=600)
    first = date(2026, 7, 1)
    daily = spark.createDataFrame(
        [
            ("org-a", "STATION-1", "C01", first + timedelta(days=i), running, vib, 200.0 + i)
            for i, (running, vib) in enumerate(
                [(1440, 2.0), (1440, 2.4), (100, 9.0), (1440, 2.2), (1440, 5.0)]
            )
        ],
        DAILY_SCHEMA,
    )
    days = spark.createDataFrame(
        [
            ("org-a", "STATION-1", "C01", first + timedelta(days=4)),
            ("org-a", "STATION-1", "C01", first),
        ],
        "org_id string, station_id string, compressor_id string, day date",
    )
    rows = {r.day: r for r in baselines(daily, days, settings).collect()}
    # Day 5 looks at days 2-4; day 3 ran too little to count: median(2.4, 2.2).
    assert rows[first + timedelta(days=4)]._baseline_vibration_mms == pytest.approx(2.3)
    assert first not in rows  # no history yet: no baseline, the "rising" conditions wait


def test_signals_and_health(spark) -> None:  # type: ignore[no-untyped-def]
    settings = AlertSettings()
    minutes = minutes_frame(spark, minute_rows(3, discharge_temp_f=[215.0, 310.0, 340.0]))
    minutes = minutes.withColumn("vibration_mms_mean_1h", minutes.vibration_mms_mean)
    assets = assets_frame(spark, [("org-a", "STATION-1", "C01", 3, 350.0, 12.0)])
    base = spark.createDataFrame(
        [("org-a", "STATION-1", "C01", START.date(), 2.0, 200.0)],
        "org_id string, station_id string, compressor_id string, day date, "
        "_baseline_vibration_mms double, _baseline_discharge_temp_f double",
    )
    rows = with_signals(minutes, assets, base, settings).withColumn(
        "health", health_score(settings)
    )
    out = rows.orderBy("minute_start").collect()
    assert [r._signal_discharge_temp_high for r in out] == [-135.0, -40.0, -10.0]
    assert out[0]._signal_vibration_rising == pytest.approx(3.1 / 2.0)
    assert out[0]._evaluable_discharge_temp_high
    # 215 °F: healthy on temperature; vibration 1.55x baseline is past warning (1.4).
    health = [r.health for r in out]
    assert health[2] == 0  # 340 °F: past the critical alarm (trip - 25)
    assert health[0] > health[2] and health[1] < 100
