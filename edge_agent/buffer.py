"""The durable store-and-forward buffer: one DuckDB file, one writer.

Readings get their per-station sequence number here, in the same transaction
that stores them. Batches are contiguous sequence ranges recorded *before* they
are published, so a batch re-sent after a crash or reconnect has the same id and
the same rows. Nothing unacknowledged is ever deleted.

Rows come in as NumPy (`ReadingRows`) and leave as Parquet written by DuckDB itself
(`encode_batch`): the agent process never loads Arrow.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from edge_agent.errors import BufferError_
from shared.batch_meta import BATCH_ROW_ORDER, BatchMeta
from shared.ids import make_batch_id
from shared.schema import READING_COLUMNS, READING_FIELDS, SENSOR_FIELDS
from shared.sources import RawReading, ReadingRows, readings_to_rows

if TYPE_CHECKING:
    import pyarrow as pa

log = logging.getLogger(__name__)

_DUCKDB_TYPES = {
    "string": "VARCHAR",
    "int64": "BIGINT",
    "timestamp_us_utc": "TIMESTAMPTZ",
    "float32": "FLOAT",
    "int8": "TINYINT",
    "int32": "INTEGER",
}


def _quoted(column: str) -> str:
    return f'"{column}"' if column == "timestamp" else column


# seq is unique by construction (one writer): no index, half the disk.
_READING_COLUMNS_DDL = ",\n".join(
    f"    {_quoted(name)} {_DUCKDB_TYPES[kind]}{'' if nullable else ' NOT NULL'}"
    for name, kind, nullable in READING_FIELDS
)

_DDL = f"""
CREATE TABLE IF NOT EXISTS readings (
{_READING_COLUMNS_DDL}
);
CREATE TABLE IF NOT EXISTS batches (
    batch_id VARCHAR PRIMARY KEY,
    first_seq BIGINT NOT NULL,
    last_seq BIGINT NOT NULL,
    row_count INTEGER NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    state VARCHAR NOT NULL,          -- pending | acked | rejected
    attempts INTEGER NOT NULL DEFAULT 0,
    last_sent_at TIMESTAMPTZ,
    acked_at TIMESTAMPTZ,
    reason VARCHAR
);
CREATE TABLE IF NOT EXISTS agent_state (
    key VARCHAR PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO agent_state VALUES
    ('next_seq', 1), ('batched_through_seq', 0), ('newest_reading_us', -1),
    ('forced_out_readings', 0), ('early_purged_readings', 0)
    ON CONFLICT DO NOTHING;
-- Every range of unacknowledged readings the disk cap forced out: never silent.
CREATE TABLE IF NOT EXISTS forced_out (
    first_seq BIGINT NOT NULL,
    last_seq BIGINT NOT NULL,
    row_count BIGINT NOT NULL,
    forced_at TIMESTAMPTZ NOT NULL
);
"""

_SELECT_COLUMNS = ", ".join(_quoted(c) for c in READING_COLUMNS)
#: NumPy has no null float: a NaN sensor value in `ReadingRows` is a null value.
_INCOMING_COLUMNS = ", ".join(
    f"CASE WHEN isnan({c}) THEN NULL ELSE {c} END" if c in SENSOR_FIELDS else _quoted(c)
    for c in READING_COLUMNS
)


class BatchState:
    PENDING = "pending"
    ACKED = "acked"
    REJECTED = "rejected"
    FORCED_OUT = "forced_out"  # the disk cap deleted its rows before an ack


@dataclass(frozen=True)
class CapReport:
    """What one enforcement of the disk cap did."""

    usage_bytes: int
    early_purged_readings: int = 0  # acknowledged rows deleted before their retention ended
    forced_out_readings: int = 0  # UNACKNOWLEDGED rows deleted: data loss, reported loudly
    forced_out_ranges: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class BatchRecord:
    batch_id: str
    first_seq: int
    last_seq: int
    row_count: int
    created_at: datetime
    state: str = BatchState.PENDING
    attempts: int = 0


@dataclass(frozen=True)
class BufferStats:
    last_seq: int
    readings_stored: int
    unbatched_readings: int
    pending_batches: int
    pending_readings: int
    rejected_batches: int
    oldest_pending_at: datetime | None
    forced_out_readings: int = 0
    early_purged_readings: int = 0
    usage_bytes: int = 0


def invalidates(exc: BaseException) -> bool:
    """A fatal DuckDB error (a checkpoint the disk refused) invalidates the open database:
    it refuses all further work until the file is opened again."""
    return isinstance(exc, duckdb.FatalException)


class Buffer:
    """Owns the DuckDB connection; call it from one thread only."""

    def __init__(
        self, path: Path, *, station_id: str, memory_limit_mb: int = 256, threads: int = 1
    ) -> None:
        self.path = path
        self.station_id = station_id
        self._memory_limit_mb = memory_limit_mb
        self._threads = threads
        self._cache: dict[str, int] = {}
        #: Bumped whenever a batch is recorded: pending batches only ever appear then.
        self.batches_recorded = 0
        #: True from `release()` until `reopen()` succeeds: every query fails meanwhile.
        self.released = False
        path.parent.mkdir(parents=True, exist_ok=True)
        self._con: duckdb.DuckDBPyConnection
        self._open()

    def _open(self) -> None:
        try:
            self._con = duckdb.connect(str(self.path))
        except duckdb.Error as exc:
            raise BufferError_(f"cannot open buffer {self.path}: {exc}") from None
        for stale in self.path.parent.glob(f"{self.path.name}.batch-*.parquet"):
            stale.unlink(missing_ok=True)  # a payload being written when the agent died
        self._sql("SET TimeZone = 'UTC'")
        # A gateway's memory and cores are shared with polling and scoring.
        self._sql(f"SET memory_limit = '{self._memory_limit_mb}MB'")
        self._sql(f"SET threads = {self._threads}")
        for statement in _DDL.split(";"):
            if statement.strip():
                self._sql(statement)

    def close(self) -> None:
        self._con.close()

    def release(self) -> None:
        """Let go of the file (read-only, or invalidated by DuckDB) until `reopen()`.

        A file system the kernel remounted read-only stays so until it is unmounted,
        checked and mounted again, which an open file prevents. Committed rows stay in
        the file; the cached counters go (the file is read again when reopened).
        """
        if self.released:
            return
        self.released = True
        self._cache.clear()
        with suppress(duckdb.Error):
            self._con.close()

    def reopen(self) -> None:
        """Open the released file again, as it was at its last commit; never create it."""
        if not self.released:
            return
        if not self.path.exists():  # an unmounted file system shows its empty mount point
            raise BufferError_(f"buffer {self.path} is missing (is its file system mounted?)")
        try:
            self._open()
        except (duckdb.Error, OSError):
            with suppress(duckdb.Error):
                self._con.close()
            raise
        self.released = False

    def set_threads(self, threads: int) -> None:
        self._sql(f"SET threads = {int(threads)}")
        self._threads = int(threads)

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        """For stores that share the file and the single writer (alarms)."""
        return self._con

    def _sql(self, sql: str, params: list[object] | None = None) -> list[tuple[Any, ...]]:
        """Run one statement and drain its result (DuckDB refuses new work on an unread result)."""
        return self._con.execute(sql, params).fetchall()

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self._sql("BEGIN TRANSACTION")
        try:
            yield
        except BaseException:
            self._cache.clear()  # counters changed inside the transaction are void
            self._sql("ROLLBACK")
            raise
        try:
            self._sql("COMMIT")
        except duckdb.Error:
            # A full or read-only disk fails the commit itself: DuckDB has rolled back, and the
            # cached counters must go with it (else the next append leaves a seq gap).
            self._cache.clear()
            with suppress(duckdb.Error):
                self._sql("ROLLBACK")
            raise

    def _one(self, sql: str, params: list[object] | None = None) -> tuple[Any, ...]:
        rows = self._sql(sql, params)
        return rows[0] if rows else ()

    def _state(self, key: str) -> int:
        # The buffer is the only writer: counters are cached and kept in step with the file.
        cached = self._cache.get(key)
        if cached is None:
            cached = self._cache[key] = int(
                self._one("SELECT value FROM agent_state WHERE key = ?", [key])[0]
            )
        return cached

    def _set_state(self, key: str, value: int) -> None:
        self._sql("UPDATE agent_state SET value = ? WHERE key = ?", [value, key])
        self._cache[key] = value

    # -- writing readings -------------------------------------------------

    def append(self, readings: Sequence[RawReading]) -> tuple[int, int] | None:
        """Store readings with the next sequence numbers; return the (first, last) seq."""
        rows = self.append_readings(readings)
        if rows is None:
            return None
        return int(rows.seq[0]), int(rows.seq[-1])

    def append_readings(self, readings: Sequence[RawReading]) -> ReadingRows | None:
        """Store readings with the next sequence numbers; return the rows as stored."""
        if not readings:
            return None
        with self._transaction():
            first = self._state("next_seq")
            rows = readings_to_rows(readings, station_id=self.station_id, first_seq=first)
            self._insert("incoming_readings", rows.columns(), _INCOMING_COLUMNS)
            self._advance(len(rows), int(rows.timestamp_us.max()))
        return rows

    def append_table(self, table: pa.Table) -> tuple[int, int] | None:
        """Store Arrow reading rows (tools, tests); any `seq` is replaced by the next numbers."""
        if table.num_rows == 0:
            return None
        import pyarrow as pa
        import pyarrow.compute as pc

        with self._transaction():
            first = self._state("next_seq")
            seqs = pa.array(range(first, first + table.num_rows), pa.int64())
            if "seq" in table.column_names:
                table = table.set_column(table.column_names.index("seq"), "seq", seqs)
            else:
                table = table.append_column("seq", seqs)
            self._insert("incoming_table", table, _SELECT_COLUMNS)
            newest = pc.max(table.column("timestamp").cast(pa.timestamp("us", "UTC")))
            self._advance(table.num_rows, newest.cast(pa.int64()).as_py())
        return first, first + table.num_rows - 1

    def _advance(self, count: int, newest_us: int | None) -> None:
        """Move the sequence counter and the newest-reading time past new rows (same transaction)."""
        self._set_state("next_seq", self._state("next_seq") + count)
        if newest_us is not None and newest_us > self._state("newest_reading_us"):
            self._set_state("newest_reading_us", newest_us)

    def last_seq(self) -> int:
        return self._state("next_seq") - 1

    def reading_keys(self, first_seq: int, last_seq: int) -> list[tuple[str, datetime]]:
        """(compressor, time) of the stored readings `first_seq..last_seq`, in seq order."""
        rows = self._sql(
            'SELECT compressor_id, "timestamp" FROM readings WHERE seq BETWEEN ? AND ? ORDER BY seq',
            [first_seq, last_seq],
        )
        return [(str(compressor), at) for compressor, at in rows]

    def newest_reading_time(self) -> datetime | None:
        """The newest reading time ever stored (kept after acknowledged rows are purged)."""
        micros = self._state("newest_reading_us")
        return (
            None
            if micros < 0
            else datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=micros)
        )

    def _insert(self, name: str, source: object, select: str) -> None:
        self._con.register(name, source)
        try:
            self._sql(f"INSERT INTO readings ({_SELECT_COLUMNS}) SELECT {select} FROM {name}")
        finally:
            self._con.unregister(name)

    # -- batches ------------------------------------------------------------

    def batched_through(self) -> int:
        return self._state("batched_through_seq")

    def unbatched_count(self) -> int:
        return self._state("next_seq") - 1 - self._state("batched_through_seq")

    def cut_batches(
        self, *, max_rows: int, close_partial: bool, through_seq: int | None = None
    ) -> list[BatchRecord]:
        """Record batches over unbatched readings (up to `through_seq`), oldest first.

        Full batches of `max_rows` are always cut; the remainder only when
        `close_partial` (the caller's age rule says the oldest reading waited enough).
        """
        cut: list[BatchRecord] = []
        with self._transaction():
            batched_through = self._state("batched_through_seq")
            last_seq = self._state("next_seq") - 1
            if through_seq is not None:
                last_seq = min(last_seq, through_seq)
            now = datetime.now(UTC)
            while last_seq - batched_through >= max_rows or (
                close_partial and last_seq > batched_through
            ):
                last = min(last_seq, batched_through + max_rows)
                record = self._record_batch(batched_through + 1, last, now)
                if record is not None:
                    cut.append(record)
                batched_through = last
            self._set_state("batched_through_seq", batched_through)
        return cut

    def _record_batch(self, first: int, last: int, created_at: datetime) -> BatchRecord | None:
        count, lo, hi = self._one(
            "SELECT count(*), min(seq), max(seq) FROM readings WHERE seq BETWEEN ? AND ?",
            [first, last],
        )
        if not count:
            return None
        record = BatchRecord(
            batch_id=make_batch_id(self.station_id, lo, hi),
            first_seq=lo,
            last_seq=hi,
            row_count=int(count),
            created_at=created_at,
        )
        self._sql(
            "INSERT INTO batches (batch_id, first_seq, last_seq, row_count, created_at, state) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [record.batch_id, lo, hi, record.row_count, created_at, BatchState.PENDING],
        )
        self.batches_recorded += 1
        return record

    def split_batch(self, record: BatchRecord) -> list[BatchRecord]:
        """Replace a pending batch by two halves (used when its payload is too large)."""
        if record.row_count < 2:
            return [record]
        middle = record.first_seq + (record.last_seq - record.first_seq) // 2
        with self._transaction():
            self._sql("DELETE FROM batches WHERE batch_id = ?", [record.batch_id])
            halves = [
                self._record_batch(record.first_seq, middle, record.created_at),
                self._record_batch(middle + 1, record.last_seq, record.created_at),
            ]
        return [h for h in halves if h is not None]

    _BATCH_COLUMNS = "batch_id, first_seq, last_seq, row_count, created_at, state, attempts"

    def pending_batches(
        self, *, after_first_seq: int = 0, through_first_seq: int | None = None, limit: int = 100
    ) -> list[BatchRecord]:
        """Pending batches oldest first, with first_seq in (after_first_seq, through_first_seq]."""
        upper = through_first_seq if through_first_seq is not None else 2**62
        rows = self._sql(
            f"SELECT {self._BATCH_COLUMNS} FROM batches "
            "WHERE state = ? AND first_seq > ? AND first_seq <= ? ORDER BY first_seq LIMIT ?",
            [BatchState.PENDING, after_first_seq, upper, limit],
        )
        return [BatchRecord(*row) for row in rows]

    def get_batch(self, batch_id: str) -> BatchRecord | None:
        row = self._one(f"SELECT {self._BATCH_COLUMNS} FROM batches WHERE batch_id = ?", [batch_id])
        return BatchRecord(*row) if row else None

    def encode_batch(self, meta: BatchMeta, *, compression_level: int) -> bytes:
        """The wire payload of the batch `meta` names: Parquet (zstd) written by DuckDB.

        The format `shared.batch.decode_batch` reads: rows `first_seq..last_seq` in
        `BATCH_ROW_ORDER`, the identity in the key-value metadata. Parquet format version 1
        encodings only (PLAIN, dictionary, RLE): version 2 lets DuckDB fall back to
        BYTE_STREAM_SPLIT for floats, which Spark's reader cannot read, and the hub lands
        these bytes as received. Quantized panel values repeat, so dictionary pages keep a
        large batch at about 9 bytes per reading.
        """
        kv = ", ".join(
            f"{_sql_string(key.decode())}: {_sql_string(value.decode())}"
            for key, value in meta.to_kv().items()
        )
        spool = self.path.with_name(f"{self.path.name}.batch-{os.getpid()}.parquet")
        options = (
            f"FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL {int(compression_level)}, "
            f"PARQUET_VERSION V1, KV_METADATA {{{kv}}}"
        )
        try:
            self._sql(
                f"COPY (SELECT {_SELECT_COLUMNS} FROM readings WHERE seq BETWEEN ? AND ? "
                f"ORDER BY {', '.join(BATCH_ROW_ORDER)}) TO {_sql_string(str(spool))} ({options})",
                [meta.first_seq, meta.last_seq],
            )
            return spool.read_bytes()
        finally:
            spool.unlink(missing_ok=True)

    def mark_sent(self, batch_id: str) -> None:
        self._sql(
            "UPDATE batches SET attempts = attempts + 1, last_sent_at = ? WHERE batch_id = ?",
            [datetime.now(UTC), batch_id],
        )

    def mark_acked(self, batch_id: str) -> bool:
        """Record the hub's durable ack; False if the batch is unknown or already settled."""
        rows = self._sql(
            "UPDATE batches SET state = ?, acked_at = ? WHERE batch_id = ? AND state = ? "
            "RETURNING batch_id",
            [BatchState.ACKED, datetime.now(UTC), batch_id, BatchState.PENDING],
        )
        return bool(rows)

    def mark_rejected(self, batch_id: str, reason: str) -> bool:
        """The hub quarantined this batch: keep its rows, stop sending it, remember why."""
        rows = self._sql(
            "UPDATE batches SET state = ?, reason = ? WHERE batch_id = ? AND state = ? "
            "RETURNING batch_id",
            [BatchState.REJECTED, reason, batch_id, BatchState.PENDING],
        )
        return bool(rows)

    # -- housekeeping -------------------------------------------------------

    def purge_acked(self, *, retention: timedelta) -> int:
        """Delete readings of batches acknowledged longer than `retention` ago."""
        cutoff = datetime.now(UTC) - retention
        with self._transaction():
            (deleted,) = self._one(
                "DELETE FROM readings USING batches "
                "WHERE batches.state = ? AND batches.acked_at < ? "
                "AND readings.seq BETWEEN batches.first_seq AND batches.last_seq",
                [BatchState.ACKED, cutoff],
            )
            self._sql(
                "DELETE FROM batches WHERE state = ? AND acked_at < ?", [BatchState.ACKED, cutoff]
            )
        return int(deleted)

    def stats(self) -> BufferStats:
        pending, pending_rows, oldest = self._one(
            "SELECT count(*), coalesce(sum(row_count), 0), min(created_at) FROM batches "
            "WHERE state = ?",
            [BatchState.PENDING],
        )
        (rejected,) = self._one(
            "SELECT count(*) FROM batches WHERE state = ?", [BatchState.REJECTED]
        )
        (stored,) = self._one("SELECT count(*) FROM readings")
        return BufferStats(
            forced_out_readings=self._state("forced_out_readings"),
            early_purged_readings=self._state("early_purged_readings"),
            usage_bytes=self.usage_bytes(),
            last_seq=self._state("next_seq") - 1,
            readings_stored=int(stored),
            unbatched_readings=self.unbatched_count(),
            pending_batches=int(pending),
            pending_readings=int(pending_rows),
            rejected_batches=int(rejected),
            oldest_pending_at=oldest,
        )

    # -- the disk cap -------------------------------------------------------

    def usage_bytes(self) -> int:
        """Bytes the buffer occupies: used blocks (freed blocks are reused) plus the WAL."""
        row = self._one("SELECT total_blocks - free_blocks, block_size FROM pragma_database_size()")
        wal = self.path.with_name(self.path.name + ".wal")
        wal_bytes = wal.stat().st_size if wal.exists() else 0
        return int(row[0]) * int(row[1]) + wal_bytes

    def enforce_cap(self, cap_bytes: int, *, headroom: float = 0.1) -> CapReport:
        """Bring the buffer under `cap_bytes`: acknowledged rows go first, then the oldest rest.

        Deleting rows the hub has not acknowledged is data loss; it is counted per
        range (table `forced_out`), in the stats, and logged at ERROR by the caller.
        """
        # Checkpoint first: rows in the WAL or in optimistic writes are not yet counted.
        usage = self._checkpoint_usage()
        if usage <= cap_bytes:
            return CapReport(usage_bytes=usage)
        target = int(cap_bytes * (1 - headroom))
        early = forced_rows = 0
        forced: list[tuple[int, int]] = []
        for _attempt in range(16):  # deleted rows free blocks per row group: bounded
            if usage <= cap_bytes:
                break
            rows = self._rows_to_free(usage - target)
            if rows <= 0:
                break
            purged = self._purge_acked_oldest(rows)
            if purged:
                early += purged
            else:  # nothing acknowledged is left: now it is data loss
                freed = self._force_out_oldest(rows)
                if freed is None:
                    break
                forced.append(freed[:2])
                forced_rows += freed[2]
            usage = self._checkpoint_usage()
        return CapReport(
            usage_bytes=usage,
            early_purged_readings=early,
            forced_out_readings=forced_rows,
            forced_out_ranges=tuple(forced),
        )

    def forced_out_ranges(self, *, limit: int = 20) -> list[tuple[int, int]]:
        rows = self._sql(
            "SELECT first_seq, last_seq FROM forced_out ORDER BY first_seq DESC LIMIT ?", [limit]
        )
        return [(int(a), int(b)) for a, b in reversed(rows)]

    def _checkpoint_usage(self) -> int:
        self._sql("CHECKPOINT")
        return self.usage_bytes()

    def _rows_to_free(self, excess_bytes: int) -> int:
        (stored,) = self._one("SELECT count(*) FROM readings")
        if not stored:
            return 0
        per_row = max(1.0, self.usage_bytes() / int(stored))
        return max(1, int(excess_bytes / per_row) + 1)

    def _purge_acked_oldest(self, rows: int) -> int:
        """Delete up to `rows` acknowledged readings (oldest batches first), whatever their age."""
        with self._transaction():
            batches = self._sql(
                "SELECT batch_id, first_seq, last_seq, row_count FROM batches WHERE state = ? "
                "ORDER BY first_seq",
                [BatchState.ACKED],
            )
            deleted = 0
            for batch_id, first, last, count in batches:
                if deleted >= rows:
                    break
                self._sql("DELETE FROM readings WHERE seq BETWEEN ? AND ?", [first, last])
                self._sql("DELETE FROM batches WHERE batch_id = ?", [batch_id])
                deleted += int(count)
            if deleted:
                self._set_state(
                    "early_purged_readings", self._state("early_purged_readings") + deleted
                )
        return deleted

    def _force_out_oldest(self, rows: int) -> tuple[int, int, int] | None:
        """Delete the oldest `rows` unacknowledged readings (whole batches); return the range."""
        with self._transaction():
            oldest = self._one("SELECT min(seq) FROM readings")
            if not oldest or oldest[0] is None:
                return None
            first = int(oldest[0])
            last = first + rows - 1
            # Never split a recorded batch: extend to the end of the batch `last` falls in.
            covering = self._one(
                "SELECT max(last_seq) FROM batches WHERE first_seq <= ? AND last_seq >= ?",
                [last, first],
            )
            if covering and covering[0] is not None:
                last = max(last, int(covering[0]))
            (count,) = self._one(
                "SELECT count(*) FROM readings WHERE seq BETWEEN ? AND ?", [first, last]
            )
            self._sql("DELETE FROM readings WHERE seq BETWEEN ? AND ?", [first, last])
            self._sql(
                "UPDATE batches SET state = ?, reason = 'disk cap' "
                "WHERE first_seq >= ? AND last_seq <= ? AND state IN (?, ?)",
                [BatchState.FORCED_OUT, first, last, BatchState.PENDING, BatchState.REJECTED],
            )
            if last > self._state("batched_through_seq"):
                # Unbatched readings went too: batching continues after them.
                self._set_state("batched_through_seq", min(last, self._state("next_seq") - 1))
            self._sql(
                "INSERT INTO forced_out VALUES (?, ?, ?, ?)",
                [first, last, count, datetime.now(UTC)],
            )
            self._set_state("forced_out_readings", self._state("forced_out_readings") + int(count))
        return first, last, int(count)


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
