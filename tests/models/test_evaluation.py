"""How `evaluate` counts: episodes with the edge's hysteresis, detections, lead times, false
and instrument alarms, healthy compressor-months."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from edge_agent.alarms import AlarmEvent, Hysteresis
from models.episodes import Episode, episode_bounds
from models.evaluation import MONTH_DAYS, detection_report
from models.fleet_runs import LabelledEvents

T0 = pd.Timestamp("2026-04-01T00:00:00Z")


def _t(hours: float) -> pd.Timestamp:
    return T0 + pd.Timedelta(hours=hours)


def test_episodes_follow_the_edge_agents_hysteresis() -> None:
    rng = np.random.default_rng(5)
    scores = np.where(rng.random(3000) < 0.05, np.nan, rng.gamma(2.0, 0.4, 3000))
    bounds = episode_bounds(scores, raise_at=1.0, clear_at=0.8, raise_after=3, clear_after=4)
    hysteresis = Hysteresis(raise_after=3, clear_after=4)
    edge: list[tuple[int, int | None]] = []
    for row, score in enumerate(scores):
        if np.isnan(score):
            continue  # the edge does not score a row it has no features for
        event = hysteresis.update(tripped=bool(score > 1.0), cleared=bool(score <= 0.8))
        if event == AlarmEvent.RAISED:
            hysteresis.open_episode = "open"
            edge.append((row, None))
        elif event == AlarmEvent.CLEARED:
            hysteresis.open_episode = None
            edge[-1] = (edge[-1][0], row)
    assert len(edge) > 20
    assert [(a, b) for a, b, _ in bounds] == edge


def _events(sensor_kind: str = "drift") -> LabelledEvents:
    faults = pd.DataFrame(
        {
            "fault_id": ["C1.valve_leak", "C2.bearing_wear"],
            "compressor_id": ["C1", "C2"],
            "fault_mode": ["valve_leak", "bearing_wear"],
            "onset": [_t(100), _t(300)],
            "failure": [_t(200), _t(2000)],  # C2 fails after the scored period
            "back_in_service": [_t(220), pd.NaT],
        }
    )
    sensor = pd.DataFrame(
        {"compressor_id": ["C3"], "kind": [sensor_kind], "start": [_t(400)], "end": [_t(450)]}
    )
    return LabelledEvents(faults, sensor, pd.DataFrame(), pd.DataFrame())


def test_detections_leads_false_and_instrument_alarms() -> None:
    frame = pd.DataFrame({"compressor_id": ["C1", "C2", "C3", "C4"]})
    episodes = [
        Episode("C1", _t(90), _t(95), 2.0),  # before the onset: a false alarm
        Episode("C1", _t(150), _t(160), 3.0),  # first detection: 50 h before the failure
        Episode("C1", _t(170), None, 4.0),  # a later one on the same fault: no new alarm
        Episode("C2", _t(500), None, 2.0),  # detects a fault that fails after the period
        Episode("C3", _t(449.95), _t(460), 2.0),  # during a sensor fault (+ grace): instrument
        Episode("C3", _t(460), _t(461), 2.0),  # after it and its grace: false
        Episode("C4", _t(10), _t(11), 2.0),  # before the scored period: not counted
    ]
    report = detection_report(
        frame, episodes, _events(), scored_from=_t(24), scored_to=_t(1000), sensor_grace_s=600
    )
    rows = report.by_mode()
    assert rows["valve_leak"]["faults"] == 1 and rows["valve_leak"]["detected"] == 1
    assert rows["valve_leak"]["median_lead_h"] == pytest.approx(50.0)
    assert rows["valve_leak"]["detection_rate"] == 1.0
    assert rows["bearing_wear"]["faults"] == 0
    assert (rows["bearing_wear"]["developing_at_end"], rows["bearing_wear"]["developing_detected"]) == (1, 1)
    assert [e.raised_at for e in report.false_alarms] == [_t(90), _t(460)]
    assert [e.raised_at for e in report.instrument_alarms] == [_t(449.95)]
    assert report.instrument_kinds == ["drift"]
    # 4 units x 976 h, less C1's fault (100 h -> back in service 220 h) and C2's (300 h -> end).
    healthy_h = 4 * 976 - 120 - 700
    assert report.healthy_compressor_months == pytest.approx(healthy_h / 24 / MONTH_DAYS)
    assert report.false_alarms_per_compressor_month == pytest.approx(
        2 / (healthy_h / 24 / MONTH_DAYS)
    )


def test_an_undetected_fault_counts_against_the_rate() -> None:
    frame = pd.DataFrame({"compressor_id": ["C1", "C2"]})
    late = [Episode("C1", _t(205), None, 2.0)]  # after the failure: not a detection
    report = detection_report(
        frame, late, _events(), scored_from=_t(24), scored_to=_t(1000), sensor_grace_s=600
    )
    row = report.by_mode()["valve_leak"]
    assert (row["faults"], row["detected"], row["detection_rate"], row["median_lead_h"]) == (
        1, 0, 0.0, None,
    )  # fmt: skip
    assert report.false_alarms == late
