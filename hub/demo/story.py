"""Where the demo's story starts, and how far its critical moment clears the alert limit.

The simulated weather and the UTC day boundaries (gold's baselines are medians of whole
UTC days) move with the instant the story starts, and so does COMP-003's peak above its
baseline before its trip: from 50.6 to 97 °F over a year of starts, against a critical
limit of 60. A story started at midnight UTC missed critical on 12 of 73 dates (the demo
used to start at the minute of its first run: 00:38 UTC on 8 Dec gave 58.5 °F, a run with
no critical episode at all); started at noon UTC it cleared the limit on all 73, by 10 °F
at least (`bench/story_margin.py`, docs/benchmarks.md).
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd

from hub.settings import AlertSettings
from shared.fleet import DEFAULT_FLEET_PATH, load_fleet
from simulator.engine import Simulation
from simulator.history import write_history
from simulator.scenario import load_scenario

#: The story starts at this hour, UTC (see the module's docstring).
STORY_HOUR_UTC = 12


def story_start(now: datetime) -> datetime:
    """The first STORY_HOUR_UTC:00 UTC at or after `now` (so the simulated clock, which
    already runs ahead of the wall clock, never starts behind it)."""
    now = now.astimezone(UTC)
    start = now.replace(hour=STORY_HOUR_UTC, minute=0, second=0, microsecond=0)
    return start if start >= now else start + timedelta(days=1)


def discharge_temp_peak(
    start: str,
    *,
    scenario: str = "prototype-7day",
    unit: str = "COMP-003",
    work: Path | None = None,
) -> tuple[float, float]:
    """(peak °F above baseline, story day of the peak) of `unit`'s discharge temperature."""
    signal = discharge_temp_signal(start, scenario=scenario, unit=unit, work=work)
    at = signal.idxmax()
    return float(signal.max()), (at - pd.Timestamp(start)).total_seconds() / 86400


def discharge_temp_signal(
    start: str,
    *,
    scenario: str = "prototype-7day",
    unit: str = "COMP-003",
    work: Path | None = None,
) -> pd.Series:
    """`unit`'s °F above baseline at each running reading of a story started at `start`.

    Gold's `discharge_temp_above_baseline_f` (hub/lakehouse/conditions.py) recomputed with
    pandas from the simulator's readings: the 1 h mean of running readings minus the median
    of the previous `baseline_days` UTC days' running means (days with at least
    `baseline_min_running_minutes`). At the scenario's one reading a minute it gives the
    lake's own peaks (58.5 and 57.9 °F for two demo runs' starts)."""
    alerts = AlertSettings()
    story = load_scenario(scenario).with_overrides(start=start)
    with tempfile.TemporaryDirectory(prefix="story-", dir=work) as out:
        write_history(Simulation(load_fleet(DEFAULT_FLEET_PATH), story), Path(out) / "run")
        frame = pd.read_parquet(
            Path(out) / "run" / "readings.parquet",
            columns=["compressor_id", "timestamp", "discharge_temp_f", "operating_state"],
            filters=[("compressor_id", "==", unit)],
        )
    frame.index = pd.DatetimeIndex(pd.to_datetime(frame["timestamp"], utc=True))
    running = frame.sort_index()
    running = running[running["operating_state"] == "running"]["discharge_temp_f"]
    days = running.groupby(running.index.date).agg(["mean", "count"])
    days = days[days["count"] >= alerts.baseline_min_running_minutes]
    reach = timedelta(days=alerts.baseline_days)

    def baseline(day: object) -> float:
        before = days[(days.index < day) & (days.index >= day - reach)]  # type: ignore[operator]
        return float(before["mean"].median()) if len(before) else float("nan")

    baselines = {day: baseline(day) for day in sorted(set(running.index.date))}
    mean_1h = running.rolling("1h").mean()
    return mean_1h - pd.Series([baselines[d] for d in mean_1h.index.date], index=mean_1h.index)
