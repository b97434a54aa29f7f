"""The agent loop: poll the source, store, cut batches, send, settle acks.

One thread owns the buffer. Network callbacks arrive as events on a queue.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import threading
import time
from dataclasses import asdict
from datetime import timedelta
from pathlib import Path

from edge_agent import __version__
from edge_agent.buffer import BatchRecord, Buffer, BufferStats
from edge_agent.settings import EdgeSettings
from edge_agent.uplink import AckReceived, Connected, Disconnected, Event, Uplink
from shared.batch import BatchMeta, encode_batch
from shared.messages import AckStatus, StationStatus
from shared.sources import ReadingSource, load_source

log = logging.getLogger(__name__)

_TICK_S = 0.05
_PURGE_INTERVAL_S = 60.0
_STATS_INTERVAL_S = 0.25


class Agent:
    def __init__(
        self,
        settings: EdgeSettings,
        *,
        source: ReadingSource | None = None,
        uplink: Uplink | None = None,
    ) -> None:
        self.settings = settings
        self.buffer = Buffer(settings.buffer.path, station_id=settings.station_id)
        self.source = source or load_source(
            settings.source.kind,
            station_id=settings.station_id,
            options=settings.source.options,
            resume_after=self.buffer.newest_reading_time(),
        )
        self.uplink = uplink or Uplink(
            settings.mqtt, org_id=settings.org_id, station_id=settings.station_id
        )
        self.stop_event = threading.Event()
        self._inflight: dict[str, float] = {}  # batch id -> monotonic time sent
        self._send_cursor = 0  # first_seq of the newest batch sent on this connection
        self._unbatched_since: float | None = (
            time.monotonic() if self.buffer.unbatched_count() else None
        )
        self._next_poll = 0.0
        self._next_status = 0.0
        self._next_purge = 0.0
        self.sent_batches = 0
        self.acked_batches = 0
        #: Buffer state as of the last loop turn, safe to read from other threads.
        self.stats: BufferStats = self.buffer.stats()
        self._next_stats = 0.0

    # -- life cycle ---------------------------------------------------------

    def run(self, *, max_seconds: float | None = None) -> None:
        deadline = time.monotonic() + max_seconds if max_seconds else None
        self.uplink.start()
        log.info(
            "agent started: station %s/%s, buffer %s, %d reading(s) stored",
            self.settings.org_id,
            self.settings.station_id,
            self.settings.buffer.path,
            self.buffer.stats().readings_stored,
        )
        try:
            while not self.stop_event.is_set():
                self.step()
                if deadline is not None and time.monotonic() >= deadline:
                    break
                self._wait_for_event(_TICK_S)
            self._drain(self.settings.uplink.drain_on_stop_s)
        finally:
            self.close()

    def _drain(self, timeout_s: float) -> None:
        """Clean stop: close the open batch and give in-flight batches a moment to be acked."""
        if timeout_s <= 0 or not self.uplink.connected:
            return
        self.buffer.cut_batches(max_rows=self.settings.uplink.batch_max_rows, close_partial=True)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and self.uplink.connected:
            self._drain_events()
            self._send()
            if not self._inflight:
                break
            self._wait_for_event(_TICK_S)
        self._drain_events()

    def close(self) -> None:
        stats = self.buffer.stats()
        self.uplink.stop(self._status(stats, online=False))
        self._write_status_file(stats, online=False)
        self.source.close()
        self.buffer.close()
        log.info(
            "agent stopped: last seq %d, %d batch(es) awaiting ack",
            stats.last_seq,
            stats.pending_batches,
        )

    def stop(self) -> None:
        self.stop_event.set()

    # -- one turn of the loop --------------------------------------------

    def step(self) -> None:
        now = time.monotonic()
        if now >= self._next_poll:
            self._next_poll = now + self.source.poll_interval_s
            self._acquire()
        self._drain_events()
        self._cut_batches()
        self._send()
        if now >= self._next_stats:
            self._next_stats = now + _STATS_INTERVAL_S
            self.stats = self.buffer.stats()
        if now >= self._next_status:
            self._next_status = now + self.settings.uplink.status_interval_s
            self.uplink.publish_status(self._status(self.stats, online=True))
            self._write_status_file(self.stats, online=True)
        if now >= self._next_purge:
            self._next_purge = now + _PURGE_INTERVAL_S
            retention = timedelta(hours=self.settings.buffer.acked_retention_hours)
            deleted = self.buffer.purge_acked(retention=retention)
            if deleted:
                log.info("deleted %d acknowledged reading(s) past retention", deleted)

    def _acquire(self) -> None:
        readings = self.source.poll()
        if readings:
            self.buffer.append(readings)
            if self._unbatched_since is None:
                self._unbatched_since = time.monotonic()

    def _wait_for_event(self, timeout: float) -> None:
        try:
            event = self.uplink.events.get(timeout=timeout)
        except queue.Empty:
            return
        self._handle(event)

    def _drain_events(self) -> None:
        while True:
            try:
                event = self.uplink.events.get_nowait()
            except queue.Empty:
                return
            self._handle(event)

    def _handle(self, event: Event) -> None:
        if isinstance(event, Connected):
            # Everything unacknowledged is sent again, oldest first.
            self._inflight.clear()
            self._send_cursor = 0
        elif isinstance(event, Disconnected):
            self._inflight.clear()
            self._send_cursor = 0
        elif isinstance(event, AckReceived):
            ack = event.ack
            if ack.batch_id is None:
                log.warning("hub rejected a payload without a readable batch id: %s", ack.reason)
                return
            self._inflight.pop(ack.batch_id, None)
            if ack.status == AckStatus.DURABLE:
                if self.buffer.mark_acked(ack.batch_id):
                    self.acked_batches += 1
            elif self.buffer.mark_rejected(ack.batch_id, ack.reason or "rejected"):
                log.error("hub rejected batch %s: %s (rows kept locally)", ack.batch_id, ack.reason)

    def _cut_batches(self) -> None:
        uplink = self.settings.uplink
        aged = (
            self._unbatched_since is not None
            and time.monotonic() - self._unbatched_since >= uplink.batch_max_age_s
        )
        if self.buffer.unbatched_count() >= uplink.batch_max_rows or aged:
            self.buffer.cut_batches(max_rows=uplink.batch_max_rows, close_partial=aged)
            self._unbatched_since = time.monotonic() if self.buffer.unbatched_count() else None

    def _send(self) -> None:
        if not self.uplink.connected:
            return
        uplink = self.settings.uplink
        now = time.monotonic()
        for batch_id, sent_at in list(self._inflight.items()):
            if now - sent_at >= uplink.ack_timeout_s:
                record = self.buffer.get_batch(batch_id)
                if record is None or record.state != "pending":
                    self._inflight.pop(batch_id, None)
                else:
                    log.warning(
                        "no ack for batch %s after %.0fs; sending again",
                        batch_id,
                        uplink.ack_timeout_s,
                    )
                    self._publish(record)
        room = uplink.inflight_batches - len(self._inflight)
        if room <= 0:
            return
        for record in self.buffer.pending_batches(after_first_seq=self._send_cursor, limit=room):
            if not self._publish(record):
                return
            self._send_cursor = record.first_seq

    def _publish(self, record: BatchRecord) -> bool:
        payload = self._encode(record)
        if payload is None:
            return True  # split into smaller batches; they follow in order
        if not self.uplink.publish(self.uplink.telemetry_topic, payload):
            return False
        self.buffer.mark_sent(record.batch_id)
        self._inflight[record.batch_id] = time.monotonic()
        self.sent_batches += 1
        return True

    def _encode(self, record: BatchRecord) -> bytes | None:
        table = self.buffer.load_batch(record)
        meta = BatchMeta(
            org_id=self.settings.org_id,
            station_id=self.settings.station_id,
            batch_id=record.batch_id,
            first_seq=record.first_seq,
            last_seq=record.last_seq,
            row_count=table.num_rows,
            created_at=record.created_at.isoformat(),
            producer=f"altaviz-edge/{__version__}",
        )
        payload = encode_batch(table, meta)
        if len(payload) > self.settings.uplink.batch_max_bytes and record.row_count > 1:
            halves = self.buffer.split_batch(record)
            log.info(
                "batch %s is %d bytes; split into %d", record.batch_id, len(payload), len(halves)
            )
            self._send_cursor = min(self._send_cursor, record.first_seq - 1)
            return None
        return payload

    # -- status ---------------------------------------------------------------

    def _status(self, stats: BufferStats, *, online: bool) -> StationStatus:
        return StationStatus(
            online=online,
            agent_version=__version__,
            backlog_readings=stats.pending_readings + stats.unbatched_readings,
            unacked_batches=stats.pending_batches,
            last_seq=stats.last_seq,
        )

    def _write_status_file(self, stats: BufferStats, *, online: bool) -> None:
        """A small JSON file `altaviz-edge status` reads while the agent holds the buffer."""
        path: Path = self.settings.status_file
        document = {
            **self._status(stats, online=online).model_dump(),
            "org_id": self.settings.org_id,
            "station_id": self.settings.station_id,
            "link": "up" if self.uplink.connected else "down",
            "pid": os.getpid() if online else None,
            "buffer": {
                k: (v.isoformat() if hasattr(v, "isoformat") else v)
                for k, v in asdict(stats).items()
            },
            "sent_batches": self.sent_batches,
            "acked_batches": self.acked_batches,
        }
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(document, indent=2))
        os.replace(tmp, path)
