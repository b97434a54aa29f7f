"""Gateway reality: a buffer that cannot be written (disk full, read-only) and clocks that disagree.

Storage: when the DuckDB buffer refuses a write, what is already buffered stays (nothing
is deleted to make room); new readings are held in memory, oldest first, up to
`buffer.hold_readings`, and written as soon as the buffer takes writes again. Past
that limit new readings are refused, counted and reported; the station's horn/beacon
(annunciation) and /health say so meanwhile. A read-only file system (ext4 remounts
itself so after an error) or a database DuckDB invalidated is closed by the agent, so
the partition can be checked and mounted again, and reopened once it takes writes.
A file system that fails under a commit may lose the last commits it acknowledged, or
keep one it reported failed: on reopening, the file's last seq is checked against the
agent's, and the difference is written again from memory or dropped from the held ones.

Clocks: the agent's UTC clock is compared with the hub's (each ack carries the hub's
time) and with each panel's (a panel exposing its clock). A skew beyond
`clock.max_skew_s` is flagged in the status, /health and the local page.
"""

from __future__ import annotations

import errno
import logging
import statistics
import time
from collections import deque
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import duckdb

from edge_agent.errors import BufferError_
from shared.messages import PanelStatus
from shared.sources import RawReading

log = logging.getLogger(__name__)

#: What a failed buffer write raises (DuckDB's own errors, the file system's).
STORAGE_ERRORS = (duckdb.Error, OSError, BufferError_)
_RETRY_S = 5.0
#: Commits this recent are kept in memory: a failing file system may lose them (ext4
#: commits its journal every 5 s) though DuckDB was told they were durable.
_IN_DOUBT_S = 10.0


def storage_state_of(exc: BaseException) -> str:
    text = str(exc)
    code = getattr(exc, "errno", None)
    if code == errno.ENOSPC or "No space left" in text or "disk is full" in text.lower():
        return "disk_full"
    if code == errno.EROFS or "Read-only file system" in text or "read-only" in text.lower():
        return "read_only"
    return "write_error"


class StorageGuard:
    def __init__(self, hold_readings: int, *, last_seq: int = 0) -> None:
        self.hold_readings = hold_readings
        self.state = "ok"
        self.error: str | None = None
        self.since: str | None = None
        self.held: list[RawReading] = []
        self.refused_readings = 0
        #: Readings a failing file system lost after acknowledging them, not in memory any more.
        self.lost_readings = 0
        #: The last seq the buffer acknowledged.
        self.last_seq = last_seq
        self._recent: deque[tuple[float, int, Sequence[RawReading]]] = deque()
        self._next_try = 0.0

    @property
    def failing(self) -> bool:
        return self.state != "ok"

    def due(self) -> bool:
        """Try the buffer now? (While failing, at most every few seconds.)"""
        return not self.failing or time.monotonic() >= self._next_try

    def hold(self, readings: Sequence[RawReading]) -> list[RawReading]:
        """What to write now: the held readings first, then the new ones."""
        return [*self.held, *readings] if self.held else list(readings)

    def failed(self, readings: list[RawReading], exc: BaseException) -> None:
        state = storage_state_of(exc)
        if state != self.state:
            log.error(
                "BUFFER CANNOT BE WRITTEN (%s): %s; holding up to %d reading(s) in memory",
                state, exc, self.hold_readings,
            )  # fmt: skip
            self.since = datetime.now(UTC).isoformat()
        self.state, self.error = state, str(exc)[:300]
        self._next_try = time.monotonic() + _RETRY_S
        refused = max(0, len(readings) - self.hold_readings)
        if refused:
            self.refused_readings += refused
            log.error(
                "%d new reading(s) REFUSED: the buffer cannot be written and %d are held",
                refused, self.hold_readings,
            )  # fmt: skip
        self.held = readings[: self.hold_readings]

    def postpone(self, readings: Sequence[RawReading]) -> None:
        """Between retries: keep the new readings with the held ones (same limit)."""
        combined = self.hold(readings)
        refused = max(0, len(combined) - self.hold_readings)
        self.refused_readings += refused
        self.held = combined[: self.hold_readings]

    def trouble(self, exc: BaseException) -> None:
        """Another buffer write (a batch, an ack, an alarm) failed."""
        if not self.failing:
            self.failed([], exc)

    def succeeded(self) -> bool:
        """The buffer took a write; True if it had been failing (recovered now)."""
        if not self.failing:
            return False
        log.warning("buffer writable again after %s; held readings written", self.state)
        self.state, self.error, self.since, self.held = "ok", None, None, []
        return True

    def committed(self, first_seq: int, readings: Sequence[RawReading]) -> None:
        """The buffer acknowledged `readings` as `first_seq...`: keep them a while."""
        now = time.monotonic()
        self._recent.append((now, first_seq, readings))
        self.last_seq = first_seq + len(readings) - 1
        while now - self._recent[0][0] > _IN_DOUBT_S:
            self._recent.popleft()

    def reconcile(
        self, file_last_seq: int, keys_of: Callable[[int, int], list[tuple[str, datetime]]]
    ) -> list[RawReading]:
        """The reopened file ends at `file_last_seq`: return the acknowledged readings it lost
        (to be written again first); drop held readings a failed commit stored after all."""
        expected = self.last_seq
        if file_last_seq > expected:
            self._drop_landed(expected, file_last_seq, keys_of(expected + 1, file_last_seq))
        self.last_seq = file_last_seq
        if file_last_seq >= expected:
            return []
        lost: list[RawReading] = []
        kept: deque[tuple[float, int, Sequence[RawReading]]] = deque()
        for at, first, readings in self._recent:
            keep = max(0, file_last_seq - first + 1)
            lost.extend(readings[keep:])
            if keep:
                kept.append((at, first, readings[:keep]))
        self._recent = kept
        self.lost_readings += expected - file_last_seq - len(lost)
        log.error("the file system lost %d acknowledged reading(s), seq %d-%d; %d written again "
                  "from memory", expected - file_last_seq, file_last_seq + 1, expected,
                  len(lost))  # fmt: skip
        return lost

    def _drop_landed(
        self, expected: int, file_last_seq: int, keys: list[tuple[str, datetime]]
    ) -> None:
        landed = self.held[: file_last_seq - expected]
        if [(r.compressor_id, r.timestamp) for r in landed] != keys:
            log.error("the buffer has readings past seq %d that the agent did not write", expected)
            return
        self.held = self.held[len(landed) :]
        self.committed(expected + 1, landed)
        log.warning("%d reading(s) whose write failed were stored after all (seq %d-%d)",
                    len(landed), expected + 1, file_last_seq)  # fmt: skip

    def abandon(self) -> int:
        """The agent stops while failing: the held readings are refused (counted); how many."""
        lost, self.held = len(self.held), []
        self.refused_readings += lost
        return lost

    def document(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "error": self.error,
            "since": self.since,
            "held_readings": len(self.held),
            "refused_readings": self.refused_readings,
            "lost_readings": self.lost_readings,
            "hold_limit": self.hold_readings,
        }


class ClockSkew:
    """Agent clock minus the hub's (median of recent acks) and minus each panel's."""

    def __init__(self, max_skew_s: float) -> None:
        self.max_skew_s = max_skew_s
        self._hub: deque[float] = deque(maxlen=21)
        self._warned = False

    def on_hub_time(self, hub_at: str) -> None:
        try:
            hub = datetime.fromisoformat(hub_at)
        except ValueError:
            return
        if hub.tzinfo is None:
            hub = hub.replace(tzinfo=UTC)
        self._hub.append((datetime.now(UTC) - hub).total_seconds())

    @property
    def hub_skew_s(self) -> float | None:
        return round(statistics.median(self._hub), 2) if self._hub else None

    def document(self, panels: dict[str, PanelStatus]) -> dict[str, Any]:
        panel_skews = {
            name: float(skew)
            for name, panel in panels.items()
            if (skew := getattr(panel, "clock_skew_s", None)) is not None
        }
        problems = []
        hub = self.hub_skew_s
        if hub is not None and abs(hub) > self.max_skew_s:
            problems.append(f"agent clock {hub:+.1f} s from the hub's")
        for name, skew in sorted(panel_skews.items()):
            if abs(skew) > self.max_skew_s:
                problems.append(f"agent clock {skew:+.1f} s from panel {name}'s")
        if problems and not self._warned:
            log.warning("clock skew beyond %.1f s: %s", self.max_skew_s, "; ".join(problems))
        self._warned = bool(problems)
        return {
            "hub_skew_s": hub,
            "panel_skew_s": panel_skews,
            "max_skew_s": self.max_skew_s,
            "skewed": bool(problems),
            "problem": "; ".join(problems) or None,
        }
