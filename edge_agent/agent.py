"""The agent loop: poll the source, store, score, cut batches, send, settle acks.

One thread owns the buffer (DuckDB allows one writer). Network callbacks, model
preparation and HTTP requests run elsewhere and only hand events or read snapshots.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import suppress
from datetime import timedelta
from typing import Any

import psutil

from edge_agent import reconfigure, storage_faults
from edge_agent.alarms import AlarmStore, AlarmTracker
from edge_agent.buffer import Buffer, BufferStats
from edge_agent.gateway import STORAGE_ERRORS, ClockSkew, StorageGuard
from edge_agent.http import LocalHttp
from edge_agent.model_control import ModelControl
from edge_agent.remote_config import ConfigControl, Effective
from edge_agent.scoring import Scorer
from edge_agent.sender import Sender
from edge_agent.settings import EdgeSettings
from edge_agent.site import LastValues, SiteAlarms
from edge_agent.snapshot import snapshot_document, station_status
from edge_agent.status import write_status_file
from edge_agent.systemd import Notifier
from edge_agent.uplink import (
    AckReceived,
    ConfigReceived,
    Connected,
    Disconnected,
    Event,
    OfferReceived,
    Published,
    Uplink,
)
from shared.messages import Alarm, PanelStatus, StationStatus, encode_message
from shared.sources import RawReading, ReadingSource, load_source

log = logging.getLogger(__name__)

_TICK_S = 0.05
#: Batches are cut and sent when something happened, and at least this often (age, timeouts).
_SEND_CHECK_S = 0.2
_ALARM_RETRY_S = 5.0
_HOUSEKEEPING_S = 2.0
_PURGE_INTERVAL_S = 60.0
_STATUS_FILE_INTERVAL_S = 2.0


class Agent:
    def __init__(
        self,
        settings: EdgeSettings,
        *,
        source: ReadingSource | None = None,
        uplink: Uplink | None = None,
    ) -> None:
        #: The configuration the hub pushed last (verified again), else the file's.
        self.config = ConfigControl(settings.remote_config, settings)
        settings = self.config.running.settings
        self.settings = settings
        self.buffer = Buffer(
            settings.buffer.path,
            station_id=settings.station_id,
            memory_limit_mb=settings.buffer.memory_limit_mb,
            threads=settings.buffer.threads,
        )
        self.alarm_store = AlarmStore(self.buffer.connection)
        self.tracker = AlarmTracker(org_id=settings.org_id, station_id=settings.station_id)
        self.tracker.restore(self.alarm_store.open_episodes())
        self.site = SiteAlarms(settings.annunciation, self.alarm_store)
        self.storage = StorageGuard(settings.buffer.hold_readings, last_seq=self.buffer.last_seq())
        self.clock = ClockSkew(settings.clock.max_skew_s)
        self.notifier = Notifier()
        self.last_values = LastValues()
        self.scorer = Scorer(self.config.running.thresholds, self.tracker)
        self.models = ModelControl(settings.model, self.scorer)
        self.source = source or load_source(
            settings.source.kind,
            station_id=settings.station_id,
            options=settings.source.options,
            resume_after=self.buffer.newest_reading_time(),
        )
        self.uplink = uplink or Uplink(
            settings.mqtt, org_id=settings.org_id, station_id=settings.station_id
        )
        self.sender = Sender(self.buffer, self.uplink, settings)
        self.stop_event = threading.Event()
        self._alarm_inflight: dict[int, int] = {}  # MQTT message id -> outbox id
        self._calls: queue.Queue[Any] = queue.Queue()
        self._next_poll = 0.0
        self._next_housekeeping = 0.0
        self._next_status_file = 0.0
        self._next_status = 0.0
        self._next_purge = 0.0
        self._next_cap = 0.0
        self._next_send_check = 0.0
        self._next_alarm_retry = 0.0
        self._dirty = True  # something happened that may let a batch be cut or sent
        self.process = psutil.Process()
        #: Buffer state as of the last housekeeping, safe to read from other threads.
        self.stats: BufferStats = self.buffer.stats()
        self._snapshot: dict[str, Any] = {}
        self.http: LocalHttp | None = None
        if settings.http.enabled:
            try:
                self.http = LocalHttp(
                    settings.http.host, settings.http.port, lambda: self._snapshot
                )
            except OSError as exc:
                log.error("local HTTP endpoint not started on port %d: %s", settings.http.port, exc)
        self._refresh_snapshot()

    # -- compatibility with callers of the thin agent ---------------------------

    @property
    def snapshot(self) -> dict[str, Any]:
        """The latest status document (safe to read from any thread)."""
        return self._snapshot

    @property
    def sent_batches(self) -> int:
        return self.sender.counters.sent_batches

    @property
    def acked_batches(self) -> int:
        return self.sender.counters.acked_batches

    # -- life cycle -------------------------------------------------------------

    def run(self, *, max_seconds: float | None = None) -> None:
        deadline = time.monotonic() + max_seconds if max_seconds else None
        self.uplink.start()
        self.site.start()
        if self.http is not None:
            self.http.start()
        running = self.models.running
        log.info(
            "agent started: station %s/%s, buffer %s, %d reading(s) stored, model %s%s",
            self.settings.org_id,
            self.settings.station_id,
            self.settings.buffer.path,
            self.stats.readings_stored,
            running.label if running else "none",
            f", http {self.http.address}" if self.http else "",
        )
        self.notifier.ready(self._one_line())
        try:
            while not self.stop_event.is_set():
                self._guarded(self.step)
                self.notifier.tick(self._one_line())
                if deadline is not None and time.monotonic() >= deadline:
                    break
                self._wait_for_event(self._idle_time())
            self._guarded(lambda: self._drain(self.settings.uplink.drain_on_stop_s))
        finally:
            self.close()

    def _guarded(self, work: Callable[[], object]) -> None:
        """Do one piece of the loop's work; a buffer write that fails must not stop the agent."""
        try:
            work()
        except STORAGE_ERRORS as exc:
            storage_faults.failed(self, exc)

    def _idle_time(self) -> float:
        """Sleep until the next scheduled work; network events wake the loop earlier."""
        due = min(self._next_poll, self._next_send_check, self._next_housekeeping)
        return min(_SEND_CHECK_S, max(0.0, due - time.monotonic()))

    def _drain(self, timeout_s: float) -> None:
        """Clean stop: close the open batch and give in-flight batches a moment to be acked."""
        if timeout_s <= 0 or not self.uplink.connected or self.storage.failing:
            return
        self.sender.cut(force_partial=True)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and self.uplink.connected:
            self._drain_events()
            self.sender.send()
            self._publish_alarms()
            if not self.sender.inflight and not self._alarm_inflight:
                break
            self._wait_for_event(_TICK_S)
        self._drain_events()

    def _one_line(self) -> str:
        """The STATUS line `systemctl status` shows."""
        stats = self.stats
        return (
            f"link {'up' if self.uplink.connected else 'down'}, backlog "
            f"{stats.pending_readings + stats.unbatched_readings}, alarms {self.tracker.active}"
            + (f", BUFFER {self.storage.state}" if self.storage.failing else "")
        )

    def close(self) -> None:
        self.notifier.stopping()
        with suppress(*STORAGE_ERRORS):  # an unreadable buffer: the stats read last stand
            self.stats = self.buffer.stats()
        lost = self.storage.abandon()
        if lost:
            log.error("%d reading(s) held in memory REFUSED at stop: the buffer cannot be written",
                      lost)  # fmt: skip
        self._refresh_snapshot(online=False)
        self.uplink.stop(self._station_status(online=False))
        try:
            write_status_file(self.settings.status_file, self._snapshot)
        except OSError as exc:
            log.error("status file not written at stop: %s", exc)
        if self.http is not None:
            self.http.stop()
        self.site.stop()
        self.models.close()
        self.source.close()
        self.buffer.close()
        log.info(
            "agent stopped: last seq %d, %d batch(es) awaiting ack",
            self.stats.last_seq,
            self.stats.pending_batches,
        )

    def stop(self) -> None:
        self.stop_event.set()

    def call_soon(self, fn: Any) -> None:
        """Run `fn(agent)` on the agent thread (the buffer's single writer) at the next turn."""
        self._calls.put(fn)

    # -- one turn of the loop ---------------------------------------------------

    def step(self) -> None:
        now = time.monotonic()
        while not self._calls.empty():
            self._calls.get_nowait()(self)
        if now >= self._next_poll:
            self._next_poll = now + self.source.poll_interval_s
            self._acquire()
        self._drain_events()
        self._guarded(self._take_site_acks)
        self.models.tick()
        if self._dirty or now >= self._next_send_check:
            self._dirty = False
            self._next_send_check = now + _SEND_CHECK_S
            if not self.buffer.released:  # a full disk must not keep the rest of the turn away
                self._guarded(self._cut_and_send)
        if now >= self._next_alarm_retry:
            self._next_alarm_retry = now + _ALARM_RETRY_S
            self._guarded(self._publish_alarms)
        if now >= self._next_housekeeping:
            self._next_housekeeping = now + _HOUSEKEEPING_S
            self._housekeeping(now)

    def _take_site_acks(self) -> None:
        for outbox_id, alarm in self.site.take_acks(
            org_id=self.settings.org_id, station_id=self.settings.station_id
        ):
            self._publish_alarm(outbox_id, encode_message(alarm))

    def _cut_and_send(self) -> None:
        self.sender.cut()
        self.sender.send()

    def _acquire(self) -> None:
        self.store(self.source.poll())

    def store(self, readings: Sequence[RawReading]) -> None:
        if not readings and not self.storage.held:
            return
        self.last_values.update(readings)
        if not self.storage.due():
            self.storage.postpone(readings)
            return
        if self.buffer.released and not storage_faults.reopened(self, readings):
            return
        batch = self.storage.hold(readings)
        try:
            stored = self.buffer.append_readings(batch)
        except STORAGE_ERRORS as exc:
            storage_faults.failed(self, exc, batch)
            return
        if stored is not None:
            self.storage.committed(int(stored.seq[0]), batch)
        if self.storage.succeeded():
            storage_faults.recovered(self)
        self.sender.on_stored()
        self._dirty = True
        if stored is None or not self.settings.scoring.enabled:
            return
        result = self.scorer.score(stored)
        for alarm in result.alarms:
            self._raise(alarm)
        if result.alarms:
            self.site.refresh()
        self.models.after_scoring(result)

    def _raise(self, alarm: Alarm) -> None:
        outbox_id = self.alarm_store.record(alarm)
        level = logging.WARNING if alarm.event == "raised" else logging.INFO
        log.log(level, "alarm %s: %s", alarm.event.value, alarm.message)
        self._publish_alarm(outbox_id, encode_message(alarm))

    def _publish_alarms(self) -> None:
        if not self.uplink.connected or self.buffer.released:
            return
        waiting = set(self._alarm_inflight.values())
        for outbox_id, payload in self.alarm_store.unpublished(limit=100):
            if outbox_id not in waiting:
                self._publish_alarm(outbox_id, payload)

    def _publish_alarm(self, outbox_id: int, payload: bytes) -> None:
        mid = self.uplink.publish(self.uplink.alarms_topic, payload)
        if mid is not None:
            self._alarm_inflight[mid] = outbox_id

    def _housekeeping(self, now: float) -> None:
        reconfigure.watch(self)
        if not self.buffer.released:  # else the stats read last stand in the status
            self._guarded(lambda: self._buffer_housekeeping(now))
        self._refresh_snapshot()
        if now >= self._next_status_file or self.models.changed:
            self._next_status_file = now + _STATUS_FILE_INTERVAL_S
            try:
                write_status_file(self.settings.status_file, self._snapshot)
            except OSError as exc:  # a full or read-only disk must not stop the agent
                storage_faults.failed(self, exc)
        if now >= self._next_status or self.models.changed:
            self._next_status = now + self.settings.uplink.status_interval_s
            self.models.changed = False
            self.uplink.publish_status(self._station_status(online=True))

    def _buffer_housekeeping(self, now: float) -> None:
        buffer_settings = self.settings.buffer
        if now >= self._next_cap:
            self._next_cap = now + buffer_settings.cap_check_interval_s
            self._enforce_cap()
        if now >= self._next_purge:
            self._next_purge = now + _PURGE_INTERVAL_S
            retention = timedelta(hours=buffer_settings.acked_retention_hours)
            deleted = self.buffer.purge_acked(retention=retention)
            if deleted:
                log.info("deleted %d acknowledged reading(s) past retention", deleted)
        self.stats = self.buffer.stats()

    def _enforce_cap(self) -> None:
        report = self.buffer.enforce_cap(self.settings.buffer.max_bytes)
        if report.early_purged_readings:
            log.warning(
                "disk cap %d bytes: deleted %d acknowledged reading(s) before their retention",
                self.settings.buffer.max_bytes,
                report.early_purged_readings,
            )
        if report.forced_out_readings:
            log.error(
                "DISK CAP %d bytes: FORCED OUT %d UNACKNOWLEDGED reading(s), seq ranges %s; "
                "these will never reach the hub",
                self.settings.buffer.max_bytes,
                report.forced_out_readings,
                list(report.forced_out_ranges),
            )
            self.models.changed = True  # publish status (the hub hears of it) at once

    # -- events -------------------------------------------------------------------

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
        self._dirty = True
        self._guarded(lambda: self._dispatch(event))

    def _dispatch(self, event: Event) -> None:
        if isinstance(event, Connected):
            self._alarm_inflight.clear()
            last_report = self.config.store.last_report
            if last_report is not None and not self.config.reports:
                self.config.reports.append(last_report)  # the hub may have missed it
            self._next_status = 0.0
            self._next_alarm_retry = 0.0
            self.sender.on_connected()  # last: it reads the buffer, which may be failing
        elif isinstance(event, Disconnected):
            self.sender.on_disconnected()
            self._alarm_inflight.clear()
        elif isinstance(event, AckReceived):
            self.clock.on_hub_time(event.ack.at)
            self.sender.on_ack(event.ack)
        elif isinstance(event, Published):
            outbox_id = self._alarm_inflight.pop(event.mid, None)
            if outbox_id is not None:
                self.alarm_store.mark_published(outbox_id)
        elif isinstance(event, OfferReceived):
            self.models.on_offer(event.offer)
        elif isinstance(event, ConfigReceived):
            reconfigure.on_document(self, event.payload)

    # -- remote configuration (edge_agent.reconfigure) ----------------------------

    def reconfigure(self, effective: Effective) -> None:
        """Run another configuration between two polls; readings already taken are kept."""
        reconfigure.swap(self, effective)

    def poll_now(self) -> None:
        self._next_poll = 0.0

    # -- status ---------------------------------------------------------------------

    def panels(self) -> dict[str, PanelStatus]:
        panels = getattr(self.source, "panel_status", None)
        return panels() if callable(panels) else {}

    def _station_status(self, *, online: bool) -> StationStatus:
        return station_status(self, online=online)

    def _refresh_snapshot(self, *, online: bool = True) -> None:
        """Build the status document (the file, /status, /metrics, /health and / read it)."""
        self._snapshot = snapshot_document(self, online=online)
