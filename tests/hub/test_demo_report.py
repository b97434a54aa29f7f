"""The demo summary's words for compressor health agree with the scores it prints."""

from __future__ import annotations

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
