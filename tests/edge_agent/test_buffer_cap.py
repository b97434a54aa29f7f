"""The hard disk cap: acknowledged rows go first; anything unacknowledged it forces out is loud."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from edge_agent.agent import Agent
from edge_agent.buffer import BatchState, Buffer
from edge_agent.settings import EdgeSettings
from edge_agent.status import render_metrics
from tests.edge_agent.readings import station_day
from tests.support.sources import FiniteSource

MB = 1024 * 1024


def _filled(tmp_path: Path) -> Buffer:
    buffer = Buffer(tmp_path / "buffer.duckdb", station_id="STATION-1")
    buffer.append_table(station_day(compressors=10, seconds=40_000))  # 400,000 readings
    buffer.cut_batches(max_rows=50_000, close_partial=False)
    buffer.connection.execute("CHECKPOINT")
    return buffer


def test_under_the_cap_nothing_happens(tmp_path: Path) -> None:
    buffer = _filled(tmp_path)
    report = buffer.enforce_cap(10 * buffer.usage_bytes())
    assert (report.early_purged_readings, report.forced_out_readings) == (0, 0)
    assert buffer.stats().readings_stored == 400_000


def test_acknowledged_rows_go_first(tmp_path: Path) -> None:
    buffer = _filled(tmp_path)
    for batch in buffer.pending_batches(limit=6):
        buffer.mark_acked(batch.batch_id)
    report = buffer.enforce_cap(int(buffer.usage_bytes() * 0.6))
    assert report.early_purged_readings > 0
    assert report.forced_out_readings == 0
    assert buffer.stats().pending_readings == 100_000  # every unacknowledged row kept


def test_unacknowledged_rows_forced_out_are_counted_by_range(tmp_path: Path) -> None:
    buffer = _filled(tmp_path)
    before = buffer.usage_bytes()
    cap = int(before * 0.7)  # the file has ~2.3 MB of fixed overhead besides the rows
    report = buffer.enforce_cap(cap)
    assert report.usage_bytes <= cap
    assert report.forced_out_readings < 400_000
    assert report.forced_out_readings > 0
    first, last = report.forced_out_ranges[0]
    assert first == 1
    # Whole batches only: every range ends where a recorded batch ended.
    assert all(end % 50_000 == 0 for _, end in report.forced_out_ranges)
    stats = buffer.stats()
    assert stats.forced_out_readings == report.forced_out_readings
    assert stats.readings_stored == 400_000 - report.forced_out_readings
    assert buffer.forced_out_ranges()[0] == (first, last)
    forced = buffer.get_batch("STATION-1.000000000001-000000050000")
    assert forced is not None and forced.state == BatchState.FORCED_OUT
    assert next(b.first_seq for b in buffer.pending_batches()) > last  # never re-sent


def test_the_agent_reports_forced_out_readings_everywhere(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = EdgeSettings.load(
        None,
        buffer={"path": tmp_path / "buffer.duckdb", "max_bytes": 2 * MB},
        http={"enabled": False},
        mqtt={"port": 1},
    )
    agent = Agent(settings, source=FiniteSource(total=0))
    try:
        agent.buffer.append_table(station_day(compressors=10, seconds=40_000))
        with caplog.at_level(logging.ERROR):
            agent._enforce_cap()
        assert any("FORCED OUT" in r.getMessage() for r in caplog.records)
        agent.stats = agent.buffer.stats()
        agent._refresh_snapshot()
        status = agent._station_status(online=True)
        assert status.forced_out_readings > 0 and status.forced_out_ranges
        assert agent.snapshot["buffer"]["forced_out_readings"] == status.forced_out_readings
        metrics = render_metrics(agent.snapshot)
        assert f"altaviz_edge_forced_out_readings_total {status.forced_out_readings}" in metrics
    finally:
        agent.models.close()
        agent.buffer.close()
