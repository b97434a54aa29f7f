"""The `modbus` reading source: one poller thread per connection, readings on a queue.

Panels that share an endpoint (an RTU bus, a TCP gateway) take turns on one
connection in one thread; different endpoints poll in parallel, so a panel that
times out never delays the others. Every reading carries the gateway's UTC time;
a wall-clock jump against the monotonic clock flags the readings taken across it.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from edge_agent.modbus.link import ModbusLink
from edge_agent.modbus.options import ModbusOptions, PanelOptions, parse_options
from edge_agent.modbus.panel import Panel
from shared.messages import PanelStatus
from shared.register_map import RegisterMap, find_register_map
from shared.schema import ReadingFlag
from shared.sources import RawReading

log = logging.getLogger(__name__)


class ClockWatch:
    """Detects jumps of the gateway's wall clock (NTP step, RTC reset, an operator)."""

    def __init__(self, threshold_s: float) -> None:
        self.threshold_s = threshold_s
        self.jumps = 0
        self._lock = threading.Lock()
        self._last: tuple[float, float] | None = None

    def now(self) -> tuple[datetime, ReadingFlag]:
        with self._lock:
            wall, mono = time.time(), time.monotonic()
            flag = ReadingFlag.NONE
            if self._last is not None:
                drift = (wall - self._last[0]) - (mono - self._last[1])
                if abs(drift) > self.threshold_s:
                    self.jumps += 1
                    flag = ReadingFlag.CLOCK_JUMP
                    log.warning("gateway clock jumped by %+.1fs; readings flagged", drift)
            self._last = (wall, mono)
            return datetime.fromtimestamp(wall, UTC), flag


class _Poller(threading.Thread):
    def __init__(
        self, endpoint: str, panels: list[Panel], out: queue.Queue[RawReading], clock: ClockWatch
    ) -> None:
        super().__init__(name=f"modbus {endpoint}", daemon=True)
        self.link = ModbusLink(panels[0].options)
        self.panels = panels
        self.out = out
        self.clock = clock
        self.stopping = threading.Event()

    def run(self) -> None:
        try:
            while not self.stopping.is_set():
                panel = min(self.panels, key=lambda p: p.next_due)
                delay = panel.next_due - time.monotonic()
                if delay > 0 and self.stopping.wait(delay):
                    break
                now = time.monotonic()
                # Keep the schedule (no drift), but never try to catch up missed polls.
                panel.next_due = max(panel.next_due + panel.options.poll_interval_s, now)
                at, flags = self.clock.now()
                try:
                    reading = panel.poll(self.link, at=at, flags=flags)
                    if reading is not None:
                        self.out.put(reading)
                except Exception:  # a bug must not silently stop a station's polling
                    log.exception("panel %s: unexpected error while polling", panel.compressor_id)
                    self.stopping.wait(1.0)
        finally:
            self.link.close()


class ModbusSource:
    def __init__(
        self,
        options: ModbusOptions,
        maps: Mapping[str, RegisterMap],
        *,
        resume_after: datetime | None = None,
    ) -> None:
        self.poll_interval_s = options.poll_interval_s
        self._queue: queue.Queue[RawReading] = queue.Queue()
        self._clock = ClockWatch(options.clock_jump_s)
        by_endpoint: dict[str, list[Panel]] = {}
        for panel_options in options.panels:
            panel = Panel(
                panel_options, maps[panel_options.register_map], resume_after=resume_after
            )
            by_endpoint.setdefault(panel_options.endpoint, []).append(panel)
        self.panels = [p for group in by_endpoint.values() for p in group]
        self._pollers = [_Poller(e, g, self._queue, self._clock) for e, g in by_endpoint.items()]
        for poller in self._pollers:
            poller.start()

    @property
    def clock_jumps(self) -> int:
        return self._clock.jumps

    def poll(self) -> list[RawReading]:
        readings: list[RawReading] = []
        while True:
            try:
                readings.append(self._queue.get_nowait())
            except queue.Empty:
                return readings

    def panel_status(self) -> dict[str, PanelStatus]:
        return {p.compressor_id: p.status_now() for p in self.panels}

    def close(self) -> None:
        for poller in self._pollers:
            poller.stopping.set()
        for poller in self._pollers:
            poller.join(timeout=10)


def load_maps(panels: list[PanelOptions], maps_dir: Any) -> dict[str, RegisterMap]:
    """Every map the panels name, validated at start-up (a bad one is one ConfigError)."""
    return {
        name: find_register_map(name, maps_dir) for name in sorted({p.register_map for p in panels})
    }


def ModbusSourceFactory(
    *, station_id: str, options: Mapping[str, Any], resume_after: datetime | None = None
) -> ModbusSource:
    """Entry point `altaviz.sources: modbus` (`resume_after` matters only with panel clocks)."""
    del station_id
    parsed = parse_options(dict(options))
    return ModbusSource(
        parsed, load_maps(parsed.panels, parsed.maps_dir), resume_after=resume_after
    )
