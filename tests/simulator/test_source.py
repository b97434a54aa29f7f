"""The edge source plugin: live readings equal the history for the same instants."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from shared.errors import ConfigError
from shared.schema import QUALITY_FIELDS, SENSOR_FIELDS, OperatingState, Quality, ReadingFlag
from shared.sources import ReadingSource, load_source
from simulator.engine import Simulation
from simulator.history import write_history
from simulator.live import ClockSegment, SharedClock
from simulator.scenario import load_scenario
from simulator.source import SimulatedSource
from tests.simulator.support import default_fleet

START = "2026-07-06T00:00:00Z"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_plugin_is_registered_under_simulated() -> None:
    source = load_source("simulated", station_id="EF-KARNES", options={"start": START})
    assert isinstance(source, ReadingSource)
    assert source.compressor_ids == ["COMP-001", "COMP-002", "COMP-003"]  # type: ignore[attr-defined]


def test_live_readings_equal_the_history(tmp_path: Path) -> None:
    options = {"scenario": "prototype-7day", "start": START, "speed": 3600.0, "interval_s": 60}
    clock = FakeClock()
    source = SimulatedSource.from_options(station_id="PB-MIDLAND", options=options, clock=clock)
    assert source.poll() == []  # no simulated time has passed yet
    clock.now += 4 * 24 + 6  # 4 days and 6 hours of simulated time at x3600: covers the clock skew
    readings = []
    while batch := source.poll():  # a long pause is caught up in bounded polls
        assert len(batch) <= 3 * 3600
        readings += batch
    assert len(readings) == 3 * (4 * 1440 + 6 * 60)
    assert {r.compressor_id for r in readings} == {"COMP-004", "COMP-005", "COMP-006"}

    story = load_scenario("prototype-7day").with_overrides(duration="5d")
    write_history(Simulation(default_fleet(), story, stations=["PB-MIDLAND"]), tmp_path / "run")
    history = pq.read_table(tmp_path / "run" / "readings.parquet")
    history = history.filter(pc.less(history["seq"], len(readings) + 1)).sort_by("seq")
    assert history.num_rows == len(readings)
    for row, reading in zip(history.to_pylist(), readings, strict=True):
        assert reading.compressor_id == row["compressor_id"]
        assert reading.timestamp == row["timestamp"]
        assert reading.operating_state == row["operating_state"]
        assert int(reading.flags) == row["reading_flags"]
        for sensor, quality in zip(SENSOR_FIELDS, QUALITY_FIELDS, strict=True):
            value = reading.values[sensor]
            assert (None if value is None else float(np.float32(value))) == row[sensor], sensor
            assert int(reading.quality[sensor]) == row[quality]
    skewed = [r for r in readings if r.flags & ReadingFlag.CLOCK_JUMP]
    assert len(skewed) == 3


def test_a_station_outside_the_fleet_gets_ad_hoc_units() -> None:
    clock = FakeClock()
    source = SimulatedSource.from_options(
        station_id="STATION-1", options={"compressor_count": 2, "start": START}, clock=clock
    )
    clock.now += 5
    readings = source.poll()
    assert [r.compressor_id for r in readings[:2]] == ["STATION-1-C01", "STATION-1-C02"]
    assert len(readings) == 10
    for reading in readings:
        assert reading.operating_state == OperatingState.RUNNING
        assert all(q is Quality.OK for q in reading.quality.values())
        assert 150 < (reading.values["discharge_temp_f"] or 0) < 320


def test_resume_after_continues_without_repeating_an_instant() -> None:
    clock = FakeClock()
    resume = datetime(2026, 7, 6, 5, 0, 7, tzinfo=UTC)
    source = SimulatedSource.from_options(
        station_id="EF-KARNES",
        options={"start": START, "interval_s": 5},
        resume_after=resume,
        clock=clock,
    )
    clock.now += 10
    readings = source.poll()
    assert readings[0].timestamp == resume + timedelta(seconds=3)
    assert len({r.timestamp for r in readings}) == 2


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"speed": 0}, "must be > 0"),
        ({"interval_s": 1.5}, "whole number"),
        ({"start": "yesterday"}, "start"),
        ({"compressors": []}, "at least one compressor"),
        ({"fleet": "/nonexistent/fleet.yaml"}, "cannot read fleet"),
    ],
)
def test_bad_options_are_config_errors(options: dict[str, object], problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        SimulatedSource.from_options(station_id="STATION-9", options=options)


def test_a_paced_clock_file_drives_the_source_and_holds_it(tmp_path: Path) -> None:
    """Another process owns simulated time: the source emits up to the hold point, then waits."""
    start = datetime(2026, 7, 6, tzinfo=UTC)
    clock_file = tmp_path / "clock.json"
    ClockSegment(start.timestamp(), time.time(), 1e6, start.timestamp() + 600).write(clock_file)
    source = SimulatedSource.from_options(
        station_id="EF-KARNES",
        options={"scenario": "prototype-7day", "start": start.isoformat(), "interval_s": 60,
                 "clock_file": str(clock_file)},
    )  # fmt: skip
    time.sleep(0.1)
    first = source.poll()
    assert {r.timestamp for r in first} == {start + timedelta(minutes=m) for m in range(11)}
    assert source.poll() == []  # held at the segment's hold point
    later = time.time()
    ClockSegment(start.timestamp() + 600, later, 1e6, start.timestamp() + 900).write(clock_file)
    time.sleep(0.1)
    assert {r.timestamp for r in source.poll()} == {
        start + timedelta(minutes=m) for m in range(11, 16)
    }
    # A reader never goes back, even if the owner writes an earlier segment.
    ClockSegment(start.timestamp(), time.time(), 0.0, None).write(clock_file)
    time.sleep(0.1)
    assert SharedClock(clock_file).now_s() == start.timestamp()
    assert source.poll() == []


def test_a_missing_clock_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="clock_file"):
        SimulatedSource.from_options(
            station_id="EF-KARNES", options={"clock_file": str(tmp_path / "none.json")}
        )
