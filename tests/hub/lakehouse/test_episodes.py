"""Alert episodes: hysteresis, escalation, evaluability, and restarting from a safe minute."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pyspark.sql import functions as F

from hub.lakehouse.episodes import condition_minutes, episodes, restart_points
from hub.settings import AlertCondition, AlertSettings
from tests.hub.lakehouse.frames import START, naive

pytestmark = pytest.mark.spark

SETTINGS = AlertSettings(
    conditions={
        "hot": AlertCondition(
            signal="discharge_temp_below_trip_f", warning=10, critical=20, clear=5,
            open_after_min=3, close_after_min=4,
        )
    }
)  # fmt: skip


def _signals(spark, values, running=None):  # type: ignore[no-untyped-def]
    running = running or [True] * len(values)
    rows = [
        (
            "org-a",
            "STATION-1",
            "C01",
            naive(START + timedelta(minutes=i)),
            float(v) if v is not None else None,
            r,
        )
        for i, (v, r) in enumerate(zip(values, running, strict=True))
    ]
    frame = spark.createDataFrame(
        rows,
        "org_id string, station_id string, compressor_id string, minute_start timestamp, "
        "_signal_hot double, _running boolean",
    )
    return frame.withColumn("_evaluable_hot", F.col("_signal_hot").isNotNull() & F.col("_running"))


def _episodes(spark, values, running=None):  # type: ignore[no-untyped-def]
    return (
        episodes(condition_minutes(_signals(spark, values, running), SETTINGS))
        .orderBy("first_seen_at")
        .collect()
    )


def _minute(i: int):  # type: ignore[no-untyped-def]
    return naive(START + timedelta(minutes=i))


def test_opens_after_persistence_and_closes_with_hysteresis(spark) -> None:  # type: ignore[no-untyped-def]
    values = [0, 12, 12, 11, 7, 12, 7, 3, 3, 3, 3, 3, 0]
    (episode,) = _episodes(spark, values)
    assert episode.first_seen_at == _minute(1) and episode.opened_at == _minute(3)
    # 7 is below warning but not below clear: still open, then four minutes below 5 close it.
    assert episode.last_seen_at == _minute(5)
    assert episode.closed_at == _minute(10)
    assert (episode.status, episode.severity, episode.peak_value) == ("closed", "warning", 12.0)
    assert episode.peak_at == _minute(1) and episode.minutes_active == 4


def test_noise_below_persistence_opens_nothing(spark) -> None:  # type: ignore[no-untyped-def]
    assert _episodes(spark, [0, 15, 15, 0, 15, 15, 0, 15, 0]) == []


def test_escalates_and_stays_open_through_stops(spark) -> None:  # type: ignore[no-untyped-def]
    values = [12, 12, 12, 25, 25, 25, 30, None, None, 3, 3, 3]
    running = [True] * 7 + [False, False] + [True] * 3  # tripped, then restarted
    (episode,) = _episodes(spark, values, running)
    assert episode.severity == "critical" and episode.escalated_at == _minute(5)
    assert episode.status == "open" and episode.closed_at is None  # three minutes below clear < 4
    assert episode.peak_value == 30.0 and episode.peak_at == _minute(6)


def test_two_episodes_get_distinct_stable_ids(spark) -> None:  # type: ignore[no-untyped-def]
    values = [12, 12, 12, 0, 0, 0, 0, 12, 12, 12, 0]
    first = _episodes(spark, values)
    again = _episodes(spark, values)
    assert len(first) == 2
    assert [e.episode_id for e in first] == [e.episode_id for e in again]
    assert first[0].episode_id != first[1].episode_id


def test_recomputing_from_a_restart_point_matches_a_full_computation(spark) -> None:  # type: ignore[no-untyped-def]
    values = [0, 12, 12, 12, 12, 0, 0, 0, 0, 0, 12, 12, 0, 12, 12, 12, 25, 25, 25, 3, 3, 3, 3, 3]
    full = episodes(condition_minutes(_signals(spark, values), SETTINGS))
    for region_start in (4, 11, 14, 17):
        # What the table held before the minutes from `region_start` on arrived.
        stored = episodes(condition_minutes(_signals(spark, values[:region_start]), SETTINGS))
        starts = spark.createDataFrame(
            [("org-a", "STATION-1", "C01", _minute(region_start))],
            "org_id string, station_id string, compressor_id string, region_start timestamp",
        )
        restart = restart_points(starts, stored, SETTINGS).first().restart_s
        minutes = condition_minutes(_signals(spark, values), SETTINGS).filter(
            F.col("minute_s") >= restart
        )
        partial = {e.episode_id: e for e in episodes(minutes).collect()}
        expected = {
            e.episode_id: e for e in full.collect() if e.first_seen_at.timestamp() > restart
        }
        assert partial == expected, region_start
