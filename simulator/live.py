"""Simulated time running live: real-time, accelerated, or frozen at one instant."""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from shared.schema import QUALITY_FIELDS, SENSOR_FIELDS
from simulator.engine import Chunk, Simulation
from simulator.schedule import STATE_NAMES

#: At most this many instants per poll, so a long pause cannot ask for a huge chunk.
MAX_INSTANTS_PER_POLL = 3600


class LiveClock:
    """Simulated seconds = start + speed x wall seconds since creation (speed 0 = frozen)."""

    def __init__(
        self, start_s: float, *, speed: float = 1.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if speed < 0:
            raise ValueError("speed must be >= 0")
        self.start_s = start_s
        self.speed = speed
        self._clock = clock
        self._wall0 = clock()

    def now_s(self) -> float:
        return self.start_s + (self._clock() - self._wall0) * self.speed


@dataclass(frozen=True)
class ClockSegment:
    """Simulated time as a straight line: `sim_s` at wall time `wall_s`, then `speed` x wall
    seconds, never past `hold_s` (the clock holds there until the next segment)."""

    sim_s: float
    wall_s: float
    speed: float
    hold_s: float | None = None

    def at(self, wall_s: float) -> float:
        now = self.sim_s + max(wall_s - self.wall_s, 0.0) * self.speed
        return now if self.hold_s is None else min(now, max(self.hold_s, self.sim_s))

    def write(self, path: Path) -> None:
        """Atomically (readers in other processes never see half a segment)."""
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(self.__dict__))
        os.replace(tmp, path)

    @classmethod
    def read(cls, path: Path) -> ClockSegment:
        return cls(**json.loads(path.read_text()))


class SharedClock:
    """Simulated time paced by another process through a segment file (`ClockSegment`).

    The owner (the demo) rewrites the file when it changes speed or holds the clock;
    every reader computes the same instant from the same segment and the shared wall
    clock, and never goes backwards.
    """

    def __init__(self, path: Path, *, reread_s: float = 0.05) -> None:
        self.path = Path(path)
        self.reread_s = reread_s
        self._segment = ClockSegment.read(self.path)
        self._read_at = time.monotonic()
        self._latest = self._segment.at(time.time())

    def now_s(self) -> float:
        if time.monotonic() - self._read_at >= self.reread_s:
            self._read_at = time.monotonic()
            # A failed read keeps the last good segment (the owner rewrites it atomically).
            with contextlib.suppress(OSError, ValueError, TypeError):
                self._segment = ClockSegment.read(self.path)
        self._latest = max(self._latest, self._segment.at(time.time()))
        return self._latest


class LiveFeed:
    """Steps a simulation through the instants of a grid as the clock reaches them."""

    def __init__(
        self,
        sim: Simulation,
        idx: np.ndarray,
        *,
        clock: LiveClock | SharedClock,
        interval_s: int,
        first_s: int,
    ) -> None:
        if interval_s <= 0:
            raise ValueError("interval_s must be > 0")
        self.sim = sim
        self.idx = idx
        self.clock = clock
        self.interval_s = interval_s
        self.next_s = first_s

    def due(self) -> np.ndarray:
        """Instants not yet emitted that the clock has reached (at most MAX_INSTANTS_PER_POLL)."""
        now = self.clock.now_s()
        if now < self.next_s:
            return np.empty(0, dtype=np.int64)
        count = min(int((now - self.next_s) // self.interval_s) + 1, MAX_INSTANTS_PER_POLL)
        return self.next_s + self.interval_s * np.arange(count, dtype=np.int64)

    def poll(self) -> Chunk | None:
        instants = self.due()
        if not len(instants):
            return None
        self.next_s = int(instants[-1]) + self.interval_s
        return self.sim.chunk(instants, self.idx, step_s=self.interval_s)


@dataclass
class Row:
    """One reported reading in plain Python types (for printing and the edge source)."""

    station_id: str
    compressor_id: str
    timestamp_us: int
    operating_state: str
    values: dict[str, float | None]
    quality: dict[str, int]
    flags: int


def rows(sim: Simulation, chunk: Chunk) -> Iterator[Row]:
    """A chunk's readings in time order, then unit order (the order a gateway polls)."""
    reported = chunk.reported
    state = chunk.physics.state
    values = {s: reported.values[s] for s in SENSOR_FIELDS}
    for j in range(len(chunk.t)):
        for row, u in enumerate(chunk.idx):
            dropped = bool(reported.unit_dropout[row, j])
            yield Row(
                station_id=sim.units.station_ids[u],
                compressor_id=sim.units.compressor_ids[u],
                timestamp_us=int(reported.timestamp_us[row, j]),
                operating_state="unknown" if dropped else STATE_NAMES[int(state[row, j])],
                values={
                    s: (None if np.isnan(v := float(values[s][row, j])) else v)
                    for s in SENSOR_FIELDS
                },
                quality={
                    q: int(reported.quality[s][row, j])
                    for s, q in zip(SENSOR_FIELDS, QUALITY_FIELDS, strict=True)
                },
                flags=int(reported.flags[row, j]),
            )
