"""The demo's story shows COMP-003 critical whatever day it is first run: it starts at
noon UTC, and the lake serves it up to BEFORE_TRIP_S before the trip, where the unit is
above its critical limit (the simulator's readings through gold's signal definition)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pandas as pd
import pytest

from hub.demo.clock import BEFORE_TRIP_S
from hub.demo.stations import Timeline
from hub.demo.story import STORY_HOUR_UTC, discharge_temp_peak, discharge_temp_signal, story_start
from hub.settings import AlertSettings


def test_the_story_starts_at_the_next_noon_utc() -> None:
    assert story_start(datetime(2026, 12, 8, 0, 38, 17, tzinfo=UTC)) == datetime(
        2026, 12, 8, STORY_HOUR_UTC, tzinfo=UTC
    )
    assert story_start(datetime(2026, 12, 8, 12, 0, tzinfo=UTC)) == datetime(
        2026, 12, 8, 12, tzinfo=UTC
    )
    assert story_start(datetime(2026, 12, 8, 12, 0, 1, tzinfo=UTC)) == datetime(
        2026, 12, 9, 12, tzinfo=UTC
    )
    # Another zone's clock: the same instant.
    later = datetime(2026, 12, 8, 14, 0, tzinfo=timezone(timedelta(hours=-6)))  # 20:00 UTC
    assert story_start(later) == datetime(2026, 12, 9, 12, tzinfo=UTC)


def test_a_midnight_start_could_miss_the_critical_episode() -> None:
    """Why the start is fixed: the demo used to start at its first run's minute; 00:38 UTC
    on 8 Dec 2026 gave a lake whose COMP-003 peaked at 58.5 °F above baseline (critical: 60)."""
    critical = AlertSettings().conditions["discharge_temp_rising"].critical
    peak, _ = discharge_temp_peak("2026-12-08T00:38:00+00:00")
    assert peak == pytest.approx(58.5, abs=0.1) and critical is not None and peak < critical


@pytest.mark.parametrize(
    "day", ["2026-01-04", "2026-03-20", "2026-06-21", "2026-09-23", "2026-12-08"]
)
def test_at_noon_comp_003_is_critical_where_the_lake_stops_before_its_trip(day: str) -> None:
    start = story_start(datetime.fromisoformat(f"{day}T00:00:00+00:00")).isoformat()
    timeline = Timeline(scenario="prototype-7day", start=start, interval_s=60)
    (trip_s,) = timeline.trips_s
    step_end = pd.Timestamp(trip_s - BEFORE_TRIP_S, unit="s", tz="UTC")
    signal = discharge_temp_signal(start)
    critical = AlertSettings().conditions["discharge_temp_rising"].critical
    assert critical is not None
    # Above the limit for the half hour an episode needs before the step's end.
    held = signal[(signal.index > step_end - timedelta(minutes=30)) & (signal.index <= step_end)]
    assert len(held) >= 25 and (held > critical).all(), held.describe()
