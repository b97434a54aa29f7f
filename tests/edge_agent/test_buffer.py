from __future__ import annotations

import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from edge_agent.buffer import BatchState, Buffer
from tests.support.factories import readings
from tests.support.sources import FiniteSource

REPO = Path(__file__).resolve().parents[2]


def _buffer(tmp_path: Path) -> Buffer:
    return Buffer(tmp_path / "buffer.duckdb", station_id="STATION-1")


def test_sequence_numbers_continue_across_reopen(tmp_path: Path) -> None:
    buffer = _buffer(tmp_path)
    source = FiniteSource(total=250, per_poll=100)
    assert buffer.append(source.poll()) == (1, 100)
    assert buffer.append(source.poll()) == (101, 200)
    buffer.close()
    reopened = _buffer(tmp_path)
    assert reopened.append(source.poll()) == (201, 250)
    assert reopened.stats().last_seq == 250
    assert reopened.newest_reading_time() is not None


def test_append_table_renumbers(tmp_path: Path) -> None:
    buffer = _buffer(tmp_path)
    assert buffer.append_table(readings(10, first_seq=777)) == (1, 10)
    assert buffer.append_table(readings(5)) == (11, 15)


def test_batches_are_contiguous_ranges_cut_oldest_first(tmp_path: Path) -> None:
    buffer = _buffer(tmp_path)
    buffer.append_table(readings(2500))
    full = buffer.cut_batches(max_rows=1000, close_partial=False)
    assert [(b.first_seq, b.last_seq) for b in full] == [(1, 1000), (1001, 2000)]
    assert buffer.unbatched_count() == 500
    rest = buffer.cut_batches(max_rows=1000, close_partial=True)
    assert [(b.first_seq, b.last_seq, b.row_count) for b in rest] == [(2001, 2500, 500)]
    pending = buffer.pending_batches()
    assert [b.first_seq for b in pending] == [1, 1001, 2001]
    assert buffer.load_batch(pending[1]).column("seq").to_pylist() == list(range(1001, 2001))


def test_ack_and_reject_settle_a_batch_once(tmp_path: Path) -> None:
    buffer = _buffer(tmp_path)
    buffer.append_table(readings(30))
    first, second, third = buffer.cut_batches(max_rows=10, close_partial=True)
    assert buffer.mark_acked(first.batch_id)
    assert not buffer.mark_acked(first.batch_id)  # a second ack changes nothing
    assert buffer.mark_rejected(second.batch_id, "bad_schema: ...")
    assert not buffer.mark_acked(second.batch_id)
    assert [b.batch_id for b in buffer.pending_batches()] == [third.batch_id]
    stats = buffer.stats()
    assert (stats.pending_batches, stats.rejected_batches, stats.readings_stored) == (1, 1, 30)
    assert buffer.get_batch(second.batch_id).state == BatchState.REJECTED  # type: ignore[union-attr]


def test_purge_deletes_only_acknowledged_rows_past_retention(tmp_path: Path) -> None:
    buffer = _buffer(tmp_path)
    buffer.append_table(readings(30))
    first, second, _third = buffer.cut_batches(max_rows=10, close_partial=True)
    buffer.mark_acked(first.batch_id)
    buffer.mark_rejected(second.batch_id, "quarantined")
    assert buffer.purge_acked(retention=timedelta(hours=1)) == 0  # acked just now: kept
    assert buffer.purge_acked(retention=timedelta(0)) == 10
    assert buffer.stats().readings_stored == 20  # pending and rejected rows are never deleted
    buffer.append_table(readings(1))
    assert buffer.stats().last_seq == 31  # the counter survives purges


def test_split_keeps_every_row(tmp_path: Path) -> None:
    buffer = _buffer(tmp_path)
    buffer.append_table(readings(101))
    (batch,) = buffer.cut_batches(max_rows=1000, close_partial=True)
    halves = buffer.split_batch(batch)
    assert [(h.first_seq, h.last_seq) for h in halves] == [(1, 51), (52, 101)]
    assert sum(h.row_count for h in buffer.pending_batches()) == 101


def test_committed_rows_survive_kill_9(tmp_path: Path) -> None:
    script = f"""
import os, signal
from edge_agent.buffer import Buffer
from tests.support.factories import readings
buffer = Buffer(__import__("pathlib").Path({str(tmp_path / "buffer.duckdb")!r}), station_id="STATION-1")
buffer.append_table(readings(40))
buffer.cut_batches(max_rows=25, close_partial=False)
os.kill(os.getpid(), signal.SIGKILL)
"""
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, timeout=60
    )
    assert result.returncode == -signal.SIGKILL, result.stderr
    reopened = _buffer(tmp_path)
    assert reopened.unbatched_count() == 15
    assert [(b.first_seq, b.last_seq) for b in reopened.pending_batches()] == [(1, 25)]
    assert reopened.append_table(readings(1)) == (41, 41)
