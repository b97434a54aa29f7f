"""Clocks the workflows take their time from: never `datetime.now()` inside a workflow.

The caller passes one: the wall clock in production, the simulated data time in the
demo, a driven clock in tests. All return timezone-aware UTC datetimes.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    """The wall clock (production: data arrives in real time)."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class DrivenClock:
    """A clock a test sets and advances by hand."""

    def __init__(self, start: datetime) -> None:
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, moment: datetime) -> None:
        with self._lock:
            self._now = moment

    def advance(self, **delta: float) -> datetime:
        with self._lock:
            self._now += timedelta(**delta)
            return self._now


@dataclass(frozen=True)
class SimulatedClock:
    """Accelerated simulated time: `start` at wall instant `wall_start`, `speed` x real time."""

    start: datetime
    wall_start: float
    speed: float

    def now(self) -> datetime:
        return self.start + timedelta(seconds=(time.time() - self.wall_start) * self.speed)
