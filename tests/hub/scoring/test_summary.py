"""The demo's closing lines: COMP-003's RUL trajectory and how early the hub warned."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from hub.db.session import session_scope
from hub.scoring.demo import closing_lines
from hub.scoring.service import write_scores
from hub.scoring.summary import RulPoint, early_warning, failure_time, first_warning
from simulator.scenario import load_scenario
from tests.hub.scoring.support import ORG, STATION, serving_engine

SCENARIO = load_scenario("prototype-7day")
FAILURE = failure_time(SCENARIO, "COMP-003")


def _points(hours: list[float | None]) -> list[RulPoint]:
    first = FAILURE - timedelta(hours=len(hours))
    return [
        RulPoint(first + timedelta(hours=i), h, None if h is None else h / 2, h)
        for i, h in enumerate(hours)
    ]


def test_failure_time_comes_from_the_scenario() -> None:
    assert SCENARIO.start + timedelta(days=6, hours=10) == FAILURE


def test_the_warning_is_the_last_unbroken_stretch_before_failure() -> None:
    # A false start far back, a gap (no degradation), then a countdown to the failure.
    points = _points([300.0, 280.0, None, None, *[float(h) for h in range(40, 0, -1)]])
    assert first_warning(points, FAILURE) == FAILURE - timedelta(hours=40)
    assert first_warning(_points([None, None]), FAILURE) is None
    after = [RulPoint(FAILURE + timedelta(hours=1), 5.0, 1.0, 9.0)]
    assert first_warning(after, FAILURE) is None


def test_early_warning_from_the_serving_database(tmp_path: Path) -> None:
    engine = serving_engine(tmp_path, compressors=("COMP-003",))
    hours = [None] * 5 + [float(h) for h in range(62, 0, -1)]
    rows = [
        {
            "org_id": ORG, "station_id": STATION, "compressor_id": "COMP-003",
            "model_id": "compressor-rul", "model_version": "r1", "score_kind": "rul_hours",
            "scored_at": p.at, "score": p.hours, "lower": p.lower, "upper": p.upper,
            "horizon_s": None,
        }
        for p in _points(hours)
    ]  # fmt: skip
    with session_scope(engine, org_id=ORG) as session:
        write_scores(session=session, rows=rows)

    warning = early_warning(engine, org_id=ORG, compressor_id="COMP-003", scenario=SCENARIO)

    lines = warning.lines(every_h=12)
    assert lines[-1] == "early warning: COMP-003 first warned 62.0 h before failure"
    assert lines[0] == "RUL of COMP-003 (fails on day 6.4):"
    assert "day  3.6" in lines[1] and "no degradation detected" in lines[1]
    assert any("62 h (80 % band 31-62 h)" in line for line in lines)


def test_closing_lines_move_the_failure_to_the_demos_start(tmp_path: Path) -> None:
    engine = serving_engine(tmp_path, compressors=("COMP-003",))
    start = SCENARIO.start + timedelta(days=150)  # the demo starts when it is first run
    failure = start + timedelta(days=6, hours=10)
    rows = [
        {
            "org_id": ORG, "station_id": STATION, "compressor_id": "COMP-003",
            "model_id": "compressor-rul", "model_version": "r1", "score_kind": "rul_hours",
            "scored_at": failure - timedelta(hours=h), "score": float(h), "lower": h / 2,
            "upper": 2.0 * h, "horizon_s": None,
        }
        for h in range(30, 0, -1)
    ]  # fmt: skip
    with session_scope(engine, org_id=ORG) as session:
        write_scores(session=session, rows=rows)
    lines = closing_lines(engine, org_id=ORG, scenario="prototype-7day", start=start.isoformat())
    assert lines[-1] == "early warning: COMP-003 first warned 30.0 h before failure"
