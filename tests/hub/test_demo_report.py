"""The demo summary's words for compressor health agree with the scores it prints."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from hub.demo.report import health_words, poll_stats
from hub.serving.models import CompressorStatus


def _unit(compressor_id: str, status: str, score: int | None) -> CompressorStatus:
    state = "running" if score is not None else "not_running"
    return CompressorStatus(
        compressor_id=compressor_id, status=status, health_score=score, operating_state=state
    )


def test_a_unit_with_no_open_alert_and_a_low_score_is_not_called_healthy() -> None:
    words = health_words(
        [_unit("COMP-003", "healthy", 63), _unit("COMP-007", "warning", 71),
         _unit("COMP-001", "healthy", 97), _unit("COMP-002", "healthy", None)]
    )  # fmt: skip
    assert "healthy" not in words
    assert "by open alerts: 3 with none open, 1 warning" in words
    assert "COMP-003 score 63 degraded (no alert open)" in words
    assert "COMP-007 score 71 degraded (warning)" in words
    assert "COMP-002 score - not scored (not running)" in words
    assert "the other 1 score 90 or more: normal" in words


def test_poll_stats_sum_a_stations_panels_and_take_the_worst_latency() -> None:
    status = {
        "panels": {
            "COMP-001": {"requests": 10, "errors": 1, "timeouts": 0, "latency_p95_ms": 2.5},
            "COMP-002": {"requests": 12, "errors": 0, "timeouts": 2, "latency_p95_ms": 4.0},
        }
    }
    line = poll_stats(status, "Modbus TCP")
    assert "Modbus TCP: 22 request(s), 1 error(s), 2 timeout(s), latency p95 4.0 ms" in line
    assert poll_stats({"panels": {}}, "Modbus TCP") == ""


def test_a_failing_demo_hook_is_one_line_and_the_others_still_run() -> None:
    from pathlib import Path

    from hub.demo.hooks import DemoContext, DemoHooks

    def broken(context: DemoContext) -> list[str]:
        raise RuntimeError("no SMTP sink")

    def fine(context: DemoContext) -> list[str]:
        context.edge_env["ALTAVIZ_EDGE_MODEL__PUBLIC_KEY_FILE"] = "/tmp/key.pem"
        return [f"  models     for {len(context.stations)} station(s)"]

    context = DemoContext(None, None, "demo-org", Path("."), "prototype-7day",
                          "2026-07-06T00:00:00+00:00", ("EF-KARNES",), 1883)  # fmt: skip
    lines = DemoHooks().run([broken, fine], context)
    assert lines[0].startswith("  (") and "RuntimeError: no SMTP sink" in lines[0]
    assert lines[1] == "  models     for 1 station(s)"
    assert context.edge_env == {"ALTAVIZ_EDGE_MODEL__PUBLIC_KEY_FILE": "/tmp/key.pem"}


def test_before_stop_hooks_run_in_order_and_a_failure_is_one_line() -> None:
    """At the end of the run the workflows hear of the planned stop before the stations
    stop; a broken hook next to it is one line and the others still run."""
    from pathlib import Path

    from hub.demo.hooks import DemoContext, DemoHooks
    from hub.demo.plugins import _running, register, workflows_before_stop

    told: list[str] = []

    class Workflows:
        def planned_stop(self) -> None:
            told.append("planned_stop")

    def broken(context: DemoContext) -> list[str]:
        raise RuntimeError("gone")

    def after(context: DemoContext) -> list[str]:
        told.append("after")
        return ["  after"]

    hooks = register(DemoHooks())
    assert hooks.before_stop == [workflows_before_stop]
    context = DemoContext(None, None, "demo-org", Path("."), "prototype-7day",
                          "2026-07-06T00:00:00+00:00", ("EF-KARNES",), 1883)  # fmt: skip
    assert DemoHooks().run(hooks.before_stop, context) == []  # no workflows running: nothing
    _running["workflows"] = Workflows()
    try:
        lines = hooks.run([broken, *hooks.before_stop, after], context)
    finally:
        _running.pop("workflows", None)
    assert told == ["planned_stop", "after"]
    assert "RuntimeError: gone" in lines[0]
    assert lines[1].startswith("workflows: the stations stop as planned") and lines[2] == "  after"


def test_after_stations_hooks_turn_the_workflows_freshness_checks_on() -> None:
    """Once the panels and agents are up and have reported in, the workflows hear of it
    (freshness checks again); with no workflows running the hook says nothing."""
    from pathlib import Path

    from hub.demo.hooks import DemoContext, DemoHooks
    from hub.demo.plugins import _running, register, workflows_after_stations

    told: list[str] = []

    class Workflows:
        def stations_up(self) -> None:
            told.append("stations_up")

    hooks = register(DemoHooks())
    assert hooks.after_stations == [workflows_after_stations]
    context = DemoContext(None, None, "demo-org", Path("."), "prototype-7day",
                          "2026-07-06T00:00:00+00:00", ("EF-KARNES",), 1883)  # fmt: skip
    assert DemoHooks().run(hooks.after_stations, context) == []
    _running["workflows"] = Workflows()
    try:
        lines = hooks.run(hooks.after_stations, context)
    finally:
        _running.pop("workflows", None)
    assert told == ["stations_up"]
    assert lines == ["workflows: the stations are up and reported in: freshness checks on"]


def test_a_station_has_reported_in_once_the_hub_stored_its_online_status_since_the_start(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """What the demo waits for before its after-stations hooks: each agent's online status
    stored this run. The offline status the last run's planned stop left, a station never
    heard of, and an online status from before this run (a run that was killed) do not count.
    The wait gives up after its timeout, naming who did not report, and ends as soon as all
    have."""
    import argparse
    import threading
    from datetime import UTC, datetime, timedelta
    from types import SimpleNamespace

    from sqlalchemy import update

    from hub.db.migrate import upgrade
    from hub.db.session import make_engine, session_scope
    from hub.demo.report import not_reported_in
    from hub.demo.run import Demo
    from hub.portal.demo import seed_demo
    from hub.serving.models import StationLink

    url = f"sqlite:///{tmp_path / 'serving.db'}"
    upgrade(url)
    engine = make_engine(url)
    org_id = seed_demo(engine)
    starting = datetime.now(UTC)
    before = starting - timedelta(hours=1)
    with session_scope(engine, org_id=org_id) as session:
        for station, online, at in [
            ("EF-KARNES", False, before),
            ("PB-MIDLAND", True, before),
            ("HV-CARTHAGE", True, starting + timedelta(seconds=1)),
        ]:
            session.add(StationLink(org_id=org_id, station_id=station, online=online,
                                    reported_at=at, received_at=at))  # fmt: skip
    stations = ("EF-KARNES", "PB-MIDLAND", "HV-CARTHAGE", "BN-FTWORTH")
    assert not_reported_in(engine, org_id, stations, since=starting) == [
        "EF-KARNES", "PB-MIDLAND", "BN-FTWORTH",
    ]  # fmt: skip

    demo = Demo(argparse.Namespace(data_dir=tmp_path))
    edges: Any = SimpleNamespace(
        stations=[SimpleNamespace(station_id=station) for station in stations],
        failed=lambda: None,
    )
    report: Any = SimpleNamespace(engine=engine)
    demo._wait_for_reports(edges, report, org_id, since=starting, timeout_s=0.3)
    assert capsys.readouterr().out == (
        "  not reported in to the hub after 0.3 s: EF-KARNES, PB-MIDLAND, BN-FTWORTH\n"
    )

    def agents_report() -> None:
        time.sleep(0.5)
        now = datetime.now(UTC)
        with session_scope(engine, org_id=org_id) as session:
            session.execute(update(StationLink).values(online=True, received_at=now))
            session.add(StationLink(org_id=org_id, station_id="BN-FTWORTH", online=True,
                                    reported_at=now, received_at=now))  # fmt: skip

    reporting = threading.Thread(target=agents_report)
    waited = time.monotonic()
    reporting.start()
    demo._wait_for_reports(edges, report, org_id, since=starting, timeout_s=30)
    reporting.join()
    assert 0.5 <= time.monotonic() - waited < 10 and capsys.readouterr().out == ""
