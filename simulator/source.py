"""The simulator as an edge reading source (entry point `altaviz.sources: simulated`).

Time may run accelerated: each poll advances the simulated clock by
`speed` times the wall-clock time since the previous poll and returns one reading
per compressor per `interval_s` of simulated time.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from shared.errors import ConfigError
from shared.schema import OperatingState, ReadingFlag
from shared.sources import RawReading

# Nominal operating point of a mid-size reciprocating unit; the physics model
# replaces this with per-unit line conditions.
_NOMINAL = {
    "vibration_mms": (3.0, 0.15),
    "discharge_temp_f": (215.0, 1.5),
    "suction_pressure_psi": (65.0, 0.8),
    "discharge_pressure_psi": (1050.0, 6.0),
    "horsepower_consumption": (1200.0, 12.0),
    "gas_flow_mcf": (9000.0, 60.0),
}


class SimulatedSource:
    def __init__(
        self,
        *,
        compressor_ids: Sequence[str],
        seed: int = 0,
        speed: float = 1.0,
        interval_s: float = 1.0,
        poll_interval_s: float = 1.0,
        start: datetime | None = None,
        clock: Any = time.monotonic,
    ) -> None:
        if not compressor_ids:
            raise ConfigError("source.options.compressors: at least one compressor is needed")
        if speed <= 0 or interval_s <= 0 or poll_interval_s <= 0:
            raise ConfigError("source.options: speed, interval_s and poll_interval_s must be > 0")
        self.compressor_ids = list(compressor_ids)
        self.speed = speed
        self.interval = timedelta(seconds=interval_s)
        self.poll_interval_s = poll_interval_s
        self._rng = np.random.default_rng(seed)
        self._clock = clock
        self._last_wall = clock()
        self._sim_time = (start or datetime.now(UTC)).astimezone(UTC)
        self._offsets = {
            cid: {name: self._rng.normal(0, sd * 2) for name, (_, sd) in _NOMINAL.items()}
            for cid in self.compressor_ids
        }

    @classmethod
    def from_options(
        cls,
        *,
        station_id: str,
        options: Mapping[str, Any],
        resume_after: datetime | None = None,
    ) -> SimulatedSource:
        compressors = options.get("compressors")
        if compressors is None:
            count = int(options.get("compressor_count", 3))
            compressors = [f"{station_id}-C{n:02d}" for n in range(1, count + 1)]
        start = options.get("start")
        start_at = datetime.fromisoformat(start) if isinstance(start, str) else datetime.now(UTC)
        if resume_after is not None and resume_after >= start_at:
            # Accelerated time ran ahead of the wall clock last run: continue after it.
            start_at = resume_after
        return cls(
            compressor_ids=list(compressors),
            seed=int(options.get("seed", 0)),
            speed=float(options.get("speed", 1.0)),
            interval_s=float(options.get("interval_s", 1.0)),
            poll_interval_s=float(options.get("poll_interval_s", 1.0)),
            start=start_at,
        )

    def poll(self) -> list[RawReading]:
        now = self._clock()
        target = self._sim_time + timedelta(seconds=(now - self._last_wall) * self.speed)
        self._last_wall = now
        readings: list[RawReading] = []
        while self._sim_time + self.interval <= target:
            self._sim_time += self.interval
            for cid in self.compressor_ids:
                values = {
                    name: float(mean + self._offsets[cid][name] + self._rng.normal(0, sd))
                    for name, (mean, sd) in _NOMINAL.items()
                }
                readings.append(
                    RawReading(
                        compressor_id=cid,
                        timestamp=self._sim_time,
                        values=values,
                        operating_state=OperatingState.RUNNING,
                        flags=ReadingFlag.SIMULATED,
                    )
                )
        return readings

    def close(self) -> None:
        pass


def SimulatedSourceFactory(
    *, station_id: str, options: Mapping[str, Any], resume_after: datetime | None = None
) -> SimulatedSource:
    return SimulatedSource.from_options(
        station_id=station_id, options=options, resume_after=resume_after
    )
