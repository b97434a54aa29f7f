"""The demo's simulated clock: paced to the lake, planned from DURATION, read by other processes."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from hub.demo.clock import (
    BEFORE_TRIP_S,
    DURATION_MIN_STEPS,
    MAX_SPEED,
    MIN_STEPS,
    PacedClock,
    Pacer,
    day_of,
)
from hub.demo.stations import Timeline
from hub.scoring.summary import failure_time
from simulator.live import SharedClock
from simulator.scenario import load_scenario

DAY = 86_400.0
STORY = 7 * DAY


def _pacer(*, duration_s: float | None, speed: float | None = None) -> Pacer:
    return Pacer.for_run(
        now_s=0.0, story_end_s=STORY, duration_s=duration_s, speed=speed,
        default_speed=1800.0, story_s=STORY,
    )  # fmt: skip


def test_a_duration_plans_a_speed_that_fits_the_story_with_time_to_serve_it() -> None:
    pacer = _pacer(duration_s=300)
    # 300 s minus Spark's start (30 s) and two lake cycles (2 x 60 s) for the last data.
    assert pacer.speed == pytest.approx(STORY / 150)
    assert _pacer(duration_s=None).speed == 1800.0  # no DURATION: the default pace
    assert _pacer(duration_s=300, speed=900).speed == 900  # --speed wins
    assert _pacer(duration_s=10).speed == MAX_SPEED


def test_the_stations_wait_for_the_lake_one_cycle_or_one_step_of_the_story_ahead() -> None:
    # Before a lake cycle is measured, at most 1/MIN_STEPS of the story past what it took;
    # a short DURATION has no room for that many lake cycles: 1/DURATION_MIN_STEPS.
    assert _pacer(duration_s=None).hold_s() == pytest.approx(STORY / MIN_STEPS)
    pacer = _pacer(duration_s=300)
    assert pacer.hold_s() == pytest.approx(STORY / DURATION_MIN_STEPS)
    pacer.lake_cycle(10.0)  # a fast lake: one cycle's worth of simulated time
    assert pacer.lead_s == pytest.approx(10.0 * pacer.speed)
    pacer.lake_run_started(3 * DAY)
    assert pacer.hold_s() == pytest.approx(3 * DAY + 10.0 * pacer.speed)
    pacer.lake_run_started(6.9 * DAY)
    assert pacer.hold_s() == STORY  # never past the story's end


def test_a_step_of_the_lake_ends_before_each_trip_of_the_story() -> None:
    trip = 6.4 * DAY
    pacer = Pacer.for_run(
        now_s=0.0, story_end_s=STORY, duration_s=300, speed=None, default_speed=1800.0,
        story_s=STORY, step_ends=(trip - BEFORE_TRIP_S,),
    )  # fmt: skip
    pacer.lake_run_started(5 * DAY)  # a step of 1/4 of the story would pass the trip
    assert pacer.hold_s() == trip - BEFORE_TRIP_S  # the stations wait there for the lake
    pacer.lake_run_started(trip - BEFORE_TRIP_S)  # the lake's run took it: go on
    assert pacer.hold_s() == pytest.approx(min(trip - BEFORE_TRIP_S + STORY / 4, STORY))


def test_after_waiting_a_duration_run_goes_faster_to_end_in_time() -> None:
    pacer = _pacer(duration_s=300)
    assert pacer.speed_at(0.0) == pytest.approx(pacer.speed, rel=0.01)
    pacer.deadline = time.monotonic() + 200  # 100 s were spent waiting for the lake
    assert pacer.speed_at(0.0) == pytest.approx(STORY / (200 - 120), rel=0.01)
    assert pacer.speed_at(STORY) == pacer.speed  # the story is told: no hurry


def test_other_processes_read_the_same_paced_time(tmp_path: Path) -> None:
    clock = PacedClock(tmp_path / "clock.json", start_s=1000.0, speed=3600.0, hold_s=1000.0)
    reader = SharedClock(tmp_path / "clock.json", reread_s=0.0)
    time.sleep(0.05)
    assert clock.held and clock.now_s() == 1000.0 == reader.now_s()
    clock.steer(speed=3600.0, hold_s=1000.0 + 7200.0)
    time.sleep(0.2)
    assert 1000.0 < reader.now_s() <= 8200.0
    assert abs(reader.now_s() - clock.now_s()) < 3600.0 * 0.05
    clock.freeze()
    frozen = clock.now_s()
    time.sleep(0.1)
    assert clock.now_s() == frozen and reader.now_s() == pytest.approx(frozen)
    assert day_of(1000.0 + 1.5 * DAY, 1000.0) == 1.5  # days count from 0


def test_the_timeline_knows_where_the_story_trips_a_unit() -> None:
    """The step before a trip is placed where the summary's early warning counts from."""
    timeline = Timeline(scenario="prototype-7day", start="2026-12-07T21:00:00+00:00", interval_s=60)
    story = load_scenario(timeline.scenario).with_overrides(start=timeline.start)
    # COMP-003 trips in the story; COMP-007's bearing fails after it ends (day 9 of 7).
    assert timeline.trips_s == (failure_time(story, "COMP-003").timestamp(),)
    assert day_of(timeline.trips_s[0], timeline.start_s) == pytest.approx(6 + 10 / 24)
