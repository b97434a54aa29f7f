"""Cutting batches and keeping the uplink busy: a backlog lane and a live lane.

When the link comes up, everything stored before that moment is *backlog*: it is
cut into large batches (fewer messages, better compression) and sent oldest first
with up to `inflight_batches` unacknowledged at once. Readings stored after it are
*live*: cut by rows, bytes or age as usual and sent on their own few in-flight
slots, so a day of backlog never delays the last seconds of data. While the link
is down nothing is cut: the backlog is cut at reconnect, at backlog size.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from edge_agent import __version__
from edge_agent.buffer import BatchRecord, BatchState, Buffer
from edge_agent.settings import EdgeSettings
from edge_agent.uplink import Uplink
from shared.batch_meta import BatchMeta
from shared.messages import Ack, AckStatus

log = logging.getLogger(__name__)

_BACKLOG, _LIVE = "backlog", "live"


@dataclass
class SenderCounters:
    sent_batches: int = 0
    sent_readings: int = 0
    sent_bytes: int = 0
    acked_batches: int = 0
    acked_readings: int = 0
    resent_batches: int = 0
    rejected_batches: int = 0


class Sender:
    def __init__(self, buffer: Buffer, uplink: Uplink, settings: EdgeSettings) -> None:
        self.buffer = buffer
        self.uplink = uplink
        self.settings = settings
        self.counters = SenderCounters()
        self._inflight: dict[str, tuple[float, str, int]] = {}  # id -> (sent at, lane, rows)
        self._cursor = {_BACKLOG: 0, _LIVE: 0}
        #: Last seq stored before the link came up; None while the link is down.
        self.boundary: int | None = None
        self._unbatched_since: float | None = time.monotonic() if buffer.unbatched_count() else None
        self.bytes_per_reading = 20.0  # refined from every encoded batch
        self._backlog_done = False
        #: `buffer.batches_recorded` when both lanes last found nothing to send: until a
        #: batch is recorded (or the link or a cursor changes) there is nothing to look for.
        self._idle_at: int | None = None

    # -- link and ack events -------------------------------------------------

    def on_connected(self) -> None:
        # Everything unacknowledged is sent again, oldest first.
        self._inflight.clear()
        self._idle_at = None
        # A short unbatched tail (under one live batch) is simply live data.
        unbatched = self.buffer.unbatched_count()
        small = unbatched < self.settings.uplink.batch_max_rows
        self.boundary = self.buffer.batched_through() + (0 if small else unbatched)
        self._cursor = {_BACKLOG: 0, _LIVE: self.boundary}
        self._backlog_done = False
        self.buffer.set_threads(self.settings.buffer.drain_threads)
        # Readings waited for the link, not for a batch: their age counts from now.
        self._unbatched_since = time.monotonic() if unbatched else None

    def on_disconnected(self) -> None:
        self._inflight.clear()
        self._idle_at = None
        self.boundary = None

    def on_stored(self) -> None:
        if self._unbatched_since is None:
            self._unbatched_since = time.monotonic()

    def on_ack(self, ack: Ack) -> None:
        if ack.batch_id is None:
            log.warning("hub rejected a payload without a readable batch id: %s", ack.reason)
            return
        entry = self._inflight.pop(ack.batch_id, None)
        if ack.status == AckStatus.DURABLE:
            if self.buffer.mark_acked(ack.batch_id):
                self.counters.acked_batches += 1
                if entry is not None:
                    self.counters.acked_readings += entry[2]
        elif self.buffer.mark_rejected(ack.batch_id, ack.reason or "rejected"):
            self.counters.rejected_batches += 1
            log.error("hub rejected batch %s: %s (rows kept locally)", ack.batch_id, ack.reason)

    @property
    def inflight(self) -> int:
        return len(self._inflight)

    @property
    def draining_backlog(self) -> bool:
        return self.boundary is not None and not self._backlog_done

    # -- cutting ---------------------------------------------------------------

    def _rows_for_bytes(self, rows: int) -> int:
        by_bytes = int(self.settings.uplink.batch_max_bytes * 0.8 / max(self.bytes_per_reading, 1))
        return max(1, min(rows, by_bytes))

    def cut(self, *, force_partial: bool = False) -> None:
        uplink = self.settings.uplink
        if self.boundary is None and not force_partial:
            return
        through = self.buffer.stats().last_seq if self.boundary is None else self.boundary
        if self.buffer.batched_through() < through:
            self.buffer.cut_batches(
                max_rows=self._rows_for_bytes(uplink.backlog_batch_max_rows),
                close_partial=True,
                through_seq=through,
            )
        aged = (
            self._unbatched_since is not None
            and time.monotonic() - self._unbatched_since >= uplink.batch_max_age_s
        )
        max_rows = self._rows_for_bytes(uplink.batch_max_rows)
        if force_partial or aged or self.buffer.unbatched_count() >= max_rows:
            self.buffer.cut_batches(max_rows=max_rows, close_partial=aged or force_partial)
            self._unbatched_since = time.monotonic() if self.buffer.unbatched_count() else None

    # -- sending ---------------------------------------------------------------

    def send(self) -> None:
        if not self.uplink.connected or self.boundary is None:
            return
        self._resend_timed_out()
        if self._idle_at == self.buffer.batches_recorded:
            return  # at 1 Hz this skips most checks: no query until a batch is cut
        uplink = self.settings.uplink
        found = 0
        in_lane = {_BACKLOG: 0, _LIVE: 0}
        for _, lane, _ in self._inflight.values():
            in_lane[lane] += 1
        backlog_room = uplink.inflight_batches - in_lane[_BACKLOG]
        if backlog_room > 0:
            batches = self.buffer.pending_batches(
                after_first_seq=self._cursor[_BACKLOG],
                through_first_seq=self.boundary,
                limit=backlog_room,
            )
            found += len(batches)
            self._send_lane(_BACKLOG, batches)
        backlog_busy = in_lane[_BACKLOG] > 0 or not self._backlog_done
        live_slots = uplink.live_inflight_batches if backlog_busy else uplink.inflight_batches
        live_room = live_slots - in_lane[_LIVE]
        if live_room > 0:
            batches = self.buffer.pending_batches(
                after_first_seq=max(self._cursor[_LIVE], self.boundary), limit=live_room
            )
            found += len(batches)
            self._send_lane(_LIVE, batches)
        if not found and backlog_room > 0 and live_room > 0:
            self._idle_at = self.buffer.batches_recorded

    def _send_lane(self, lane: str, batches: list[BatchRecord]) -> None:
        if lane == _BACKLOG and not batches and not self._backlog_done:
            self._backlog_done = True
            self.buffer.set_threads(self.settings.buffer.threads)
        for record in batches:
            if not self._publish(record, lane):
                return
            self._cursor[lane] = record.first_seq

    def _resend_timed_out(self) -> None:
        now = time.monotonic()
        timeout = self.settings.uplink.ack_timeout_s
        for batch_id, (sent_at, lane, _rows) in list(self._inflight.items()):
            if now - sent_at < timeout:
                continue
            record = self.buffer.get_batch(batch_id)
            if record is None or record.state != BatchState.PENDING:
                self._inflight.pop(batch_id, None)
                continue
            log.warning("no ack for batch %s after %.0fs; sending again", batch_id, timeout)
            self.counters.resent_batches += 1
            self._publish(record, lane)

    def _publish(self, record: BatchRecord, lane: str) -> bool:
        payload = self._encode(record)
        if payload is None:
            # Split into halves; they follow in order from the lane's cursor.
            self._cursor[lane] = min(self._cursor[lane], record.first_seq - 1)
            return False
        if self.uplink.publish(self.uplink.telemetry_topic, payload) is None:
            return False
        self.buffer.mark_sent(record.batch_id)
        self._inflight[record.batch_id] = (time.monotonic(), lane, record.row_count)
        self.counters.sent_batches += 1
        self.counters.sent_readings += record.row_count
        self.counters.sent_bytes += len(payload)
        return True

    def _encode(self, record: BatchRecord) -> bytes | None:
        meta = BatchMeta(
            org_id=self.settings.org_id,
            station_id=self.settings.station_id,
            batch_id=record.batch_id,
            first_seq=record.first_seq,
            last_seq=record.last_seq,
            row_count=record.row_count,
            created_at=record.created_at.isoformat(),
            producer=f"altaviz-edge/{__version__}",
        )
        payload = self.buffer.encode_batch(meta, compression_level=self.settings.uplink.zstd_level)
        # A recorded batch has at least one row.
        self.bytes_per_reading = (
            0.7 * self.bytes_per_reading + 0.3 * len(payload) / record.row_count
        )
        if len(payload) > self.settings.uplink.batch_max_bytes and record.row_count > 1:
            halves = self.buffer.split_batch(record)
            log.info(
                "batch %s is %d bytes; split into %d", record.batch_id, len(payload), len(halves)
            )
            return None
        return payload
