"""Hourly, daily and data-quality aggregates on tiny frames."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hub.lakehouse.aggregates import (
    bronze_counts,
    daily_aggregates,
    data_quality_hourly,
    hourly_aggregates,
)
from hub.lakehouse.flags import ReadingRule, SensorRule
from hub.settings import QualitySettings
from tests.hub.lakehouse.frames import START, minute_rows, minutes_frame, silver_frame, silver_rows

pytestmark = pytest.mark.spark


def test_hourly_and_daily_from_minutes(spark) -> None:  # type: ignore[no-untyped-def]
    temps = [200.0 + i for i in range(90)]  # 60 minutes in the first hour, 30 in the next
    rows = minute_rows(90, discharge_temp_f=temps)
    for row in rows[80:]:
        row["n_running"] = 0  # stopped at the end: not in the running mean
    minutes = minutes_frame(spark, rows)
    hours = hourly_aggregates(minutes).orderBy("hour_start").collect()
    assert [h.n_readings for h in hours] == [60, 30]
    first = hours[0]
    assert first.discharge_temp_f_mean == pytest.approx(229.5)
    assert first.discharge_temp_f_min == 200.0 and first.discharge_temp_f_max == 259.0
    assert first.discharge_temp_f_std == pytest.approx(17.4642, abs=1e-3)  # std of 200..259
    assert hours[1].n_running_minutes == 20
    assert hours[1].discharge_temp_f_running_mean == pytest.approx(269.5)
    day = daily_aggregates(minutes).first()
    assert day.n_readings == 90 and day.day == START.date()
    assert day.discharge_temp_f_mean == pytest.approx(244.5)


def test_data_quality_counts_every_rule_and_duplicates(spark) -> None:  # type: ignore[no-untyped-def]
    rows = silver_rows(6, interval_s=60)
    rows[1]["rule_flags"] = int(ReadingRule.GAP)
    rows[1]["dt_s"] = 600.0
    rows[2]["rule_flags"] = int(ReadingRule.CLOCK_SKEW | ReadingRule.SENSOR)
    rows[2]["vibration_mms_flags"] = int(SensorRule.STUCK)
    rows[2]["discharge_temp_f_flags"] = int(SensorRule.STUCK | SensorRule.RANGE)
    rows[3]["rule_flags"] = int(ReadingRule.COMM_LOSS | ReadingRule.SENSOR)
    silver = silver_frame(spark, rows)
    deliveries = bronze_counts(silver.unionByName(silver.limit(2)))  # two rows delivered twice
    rules = QualitySettings(expected_interval_s=60)
    dq = data_quality_hourly(silver, deliveries, rules).first()
    assert (dq.n_received, dq.n_readings, dq.n_duplicates) == (8, 6, 2)
    assert (dq.n_gap, dq.n_clock_skew, dq.n_comm_loss, dq.n_flagged) == (1, 1, 1, 3)
    assert (dq.n_stuck, dq.n_range) == (2, 1)
    assert dq.gap_seconds == pytest.approx(540.0)
    assert dq.expected_readings == pytest.approx(60.0)
    assert dq.hour_start.hour == (START + timedelta(0)).hour
