"""Reading sources for tests: a finite, deterministic stream."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.schema import OperatingState, ReadingFlag
from shared.sources import RawReading


class FiniteSource:
    """Yields `per_poll` readings per poll until `total` readings have been produced."""

    def __init__(
        self,
        *,
        total: int,
        per_poll: int = 100,
        compressors: int = 3,
        start: datetime | None = None,
        poll_interval_s: float = 0.01,
    ) -> None:
        self.total = total
        self.per_poll = per_poll
        self.compressors = [f"C{n:02d}" for n in range(1, compressors + 1)]
        self.poll_interval_s = poll_interval_s
        self.produced = 0
        self._start = start or datetime(2026, 1, 1, tzinfo=UTC)

    def poll(self) -> list[RawReading]:
        readings = []
        while self.produced < self.total and len(readings) < self.per_poll:
            n = self.produced
            compressor = self.compressors[n % len(self.compressors)]
            at = self._start + timedelta(seconds=n // len(self.compressors))
            readings.append(
                RawReading(
                    compressor_id=compressor,
                    timestamp=at,
                    values={
                        "vibration_mms": 3.0 + (n % 7) * 0.01,
                        "discharge_temp_f": 215.0 + (n % 11) * 0.1,
                        "suction_pressure_psi": 65.0,
                        "discharge_pressure_psi": 1050.0,
                        "horsepower_consumption": 1200.0,
                        "gas_flow_mcf": 9000.0,
                    },
                    operating_state=OperatingState.RUNNING,
                    flags=ReadingFlag.SIMULATED,
                )
            )
            self.produced += 1
        return readings

    @property
    def exhausted(self) -> bool:
        return self.produced >= self.total

    def close(self) -> None:
        pass
