from __future__ import annotations

import random
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pyarrow.parquet as pq
import pytest

from edge_agent.buffer import BatchRecord, BatchState, Buffer
from edge_agent.errors import BufferError_
from shared.batch import decode_batch, encode_batch
from shared.batch_meta import BatchMeta
from shared.errors import BatchMetadataError
from shared.schema import SENSOR_FIELDS, OperatingState, Quality, ReadingFlag
from shared.sources import RawReading
from tests.support.factories import reading_rows, readings, stored_readings
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


def test_a_released_buffer_reopens_where_its_last_commit_left_it(tmp_path: Path) -> None:
    buffer = _buffer(tmp_path)
    source = FiniteSource(total=300, per_poll=100)
    assert buffer.append(source.poll()) == (1, 100)
    buffer.release()  # a read-only file system: the agent lets go of the file
    with pytest.raises(duckdb.Error):
        buffer.append(source.poll())
    moved = buffer.path.rename(tmp_path / "elsewhere.duckdb")  # as if its file system were gone
    with pytest.raises(BufferError_, match="is missing"):
        buffer.reopen()
    assert not buffer.path.exists() and buffer.released, "reopen created an empty buffer"
    moved.rename(buffer.path)
    buffer.reopen()
    assert buffer.append(source.poll()) == (101, 200)
    assert buffer.stats().readings_stored == 200
    buffer.close()


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
    seqs = stored_readings(buffer, pending[1].first_seq, pending[1].last_seq).column("seq")
    assert seqs.to_pylist() == list(range(1001, 2001))


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
from tests.support.factories import reading_rows, readings, stored_readings
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


def _awkward_readings(n: int, *, seed: int = 7) -> list[RawReading]:
    """Noisy values (no dictionary helps), NaN, inf, missing values and non-OK codes."""
    rng = random.Random(seed)
    start = datetime(2026, 3, 1, tzinfo=UTC)
    out = []
    for i in range(n):
        values: dict[str, float | None] = {s: rng.uniform(0, 2000) for s in SENSOR_FIELDS}
        quality: dict[str, Quality] = {}
        if i % 17 == 0:
            values["vibration_mms"] = float("nan")
        if i % 19 == 0:
            values["gas_flow_mcf"] = float("inf")
        if i % 23 == 0:
            values["discharge_temp_f"] = None
            quality["discharge_temp_f"] = Quality.DEVICE_EXCEPTION
        if i % 29 == 0:
            quality["suction_pressure_psi"] = Quality.STALE
        out.append(
            RawReading(
                compressor_id=f"C{(i * 7) % 5:02d}",  # compressors interleaved out of order
                timestamp=start + timedelta(milliseconds=1000 * i + rng.randrange(1000)),
                values=values,
                quality=quality,
                operating_state=OperatingState.ALL[i % len(OperatingState.ALL)],
                flags=ReadingFlag.CLOCK_JUMP if i % 31 == 0 else ReadingFlag.NONE,
            )
        )
    return out


def _meta(record: BatchRecord, **overrides: object) -> BatchMeta:
    fields: dict[str, object] = {
        "org_id": "org-a",
        "station_id": "STATION-1",
        "batch_id": record.batch_id,
        "first_seq": record.first_seq,
        "last_seq": record.last_seq,
        "row_count": record.row_count,
        "producer": "altaviz-edge/test",
    }
    fields.update(overrides)
    return BatchMeta(**fields)  # type: ignore[arg-type]


def test_duckdb_payload_is_the_format_the_hub_decodes(tmp_path: Path) -> None:
    """The agent writes batches with DuckDB; the hub's Arrow decoder reads back exactly the stored rows."""
    buffer = _buffer(tmp_path)
    buffer.append(_awkward_readings(2000))
    (record,) = buffer.cut_batches(max_rows=5000, close_partial=True)
    payload = buffer.encode_batch(_meta(record), compression_level=9)

    decoded = decode_batch(payload, expected_org="org-a", expected_station="STATION-1")
    assert decoded.meta == _meta(record, created_at=decoded.meta.created_at)
    stored = stored_readings(buffer, record.first_seq, record.last_seq)
    assert sorted(decoded.table.to_pylist(), key=lambda r: r["seq"]) == stored.to_pylist()
    # Each compressor's series is contiguous and in sequence order.
    ids, seqs = (decoded.table.column(c).to_pylist() for c in ("compressor_id", "seq"))
    keys = list(zip(ids, seqs, strict=True))
    assert keys == sorted(keys)
    # NaN and inf never travel as numbers: null with NOT_A_NUMBER; a missing value keeps its code.
    first = next(row for row in decoded.table.to_pylist() if row["seq"] == 1)
    assert first["vibration_mms"] is None and first["vibration_mms_quality"] == Quality.NOT_A_NUMBER
    assert first["gas_flow_mcf"] is None and first["gas_flow_mcf_quality"] == Quality.NOT_A_NUMBER
    assert first["discharge_temp_f"] is None
    assert first["discharge_temp_f_quality"] == Quality.DEVICE_EXCEPTION
    # The Arrow writer (hub tools, backfill) and the DuckDB writer agree on the content.
    arrow_payload = encode_batch(stored, _meta(record))
    assert decode_batch(arrow_payload).table.equals(decoded.table)


def test_duckdb_payload_uses_only_encodings_spark_reads(tmp_path: Path) -> None:
    """Noisy floats overflow the dictionary: they must fall back to PLAIN, never BYTE_STREAM_SPLIT."""
    buffer = _buffer(tmp_path)
    buffer.append(_awkward_readings(20_000))
    (record,) = buffer.cut_batches(max_rows=50_000, close_partial=True)
    payload = buffer.encode_batch(_meta(record), compression_level=3)
    path = tmp_path / "batch.parquet"
    path.write_bytes(payload)
    metadata = pq.ParquetFile(path).metadata
    encodings = {
        encoding
        for group in range(metadata.num_row_groups)
        for column in range(metadata.num_columns)
        for encoding in metadata.row_group(group).column(column).encodings
    }
    assert "PLAIN" in encodings  # the noisy floats
    assert encodings <= {"PLAIN", "PLAIN_DICTIONARY", "RLE_DICTIONARY", "RLE", "BIT_PACKED"}
    assert metadata.row_group(0).column(0).compression == "ZSTD"
    assert not list(tmp_path.glob("buffer.duckdb.batch-*"))  # the spool file is gone


def test_a_payload_whose_rows_disagree_with_its_identity_is_refused_by_the_hub(
    tmp_path: Path,
) -> None:
    buffer = _buffer(tmp_path)
    buffer.append_table(readings(30))
    (record,) = buffer.cut_batches(max_rows=100, close_partial=True)
    payload = buffer.encode_batch(_meta(record, row_count=31), compression_level=3)
    with pytest.raises(BatchMetadataError, match="row_count=31 but the batch has 30 rows"):
        decode_batch(payload)


def test_a_payload_left_by_a_killed_agent_is_removed_on_open(tmp_path: Path) -> None:
    leftover = tmp_path / "buffer.duckdb.batch-4242.parquet"
    leftover.write_bytes(b"PAR1 half written")
    _buffer(tmp_path).close()
    assert not leftover.exists()


def test_stored_rows_are_the_rows_the_agent_scores(tmp_path: Path) -> None:
    """NumPy in, DuckDB columns out: nulls, codes, UTC times and flags survive the insert."""
    buffer = _buffer(tmp_path)
    buffer.append_table(readings(3))
    scored = buffer.append_readings(_awkward_readings(200))
    assert scored is not None and scored.seq.tolist() == list(range(4, 204))
    back = reading_rows(stored_readings(buffer, 4, 203))
    assert back.compressor_id == scored.compressor_id
    assert back.timestamp == scored.timestamp and back.operating_state == scored.operating_state
    for name in ("seq", "timestamp_us", "quality", "reading_flags"):
        assert np.array_equal(getattr(back, name), getattr(scored, name)), name
    assert np.array_equal(back.values, scored.values, equal_nan=True)
    assert np.isnan(back.values).any()  # the NaN/inf/missing values came back as nulls
