"""The contract between a reading source (Modbus panels, the simulator) and the edge agent.

A source returns `RawReading`s; the agent gives them their per-station sequence
numbers (`readings_to_rows`) and stores them. `ReadingRows` is plain NumPy, so the
agent process never loads Arrow (~40 MB of a gateway's memory). Sources are plugins
registered under the `altaviz.sources` entry-point group, so the edge agent never imports the
simulator and a gateway without it still runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import entry_points
from typing import Any, Protocol, runtime_checkable

import numpy as np

from shared.errors import ConfigError
from shared.schema import (
    QUALITY_FIELDS,
    SENSOR_FIELDS,
    OperatingState,
    Quality,
    ReadingFlag,
    normalize_value,
)

SOURCE_ENTRY_POINT_GROUP = "altaviz.sources"


@dataclass
class RawReading:
    compressor_id: str
    timestamp: datetime  # timezone-aware UTC
    values: Mapping[str, float | None]
    quality: Mapping[str, Quality] = field(default_factory=dict)
    operating_state: str = OperatingState.UNKNOWN
    flags: ReadingFlag = ReadingFlag.NONE


@runtime_checkable
class ReadingSource(Protocol):
    """Something the agent polls for readings."""

    #: Seconds of wall-clock time between polls.
    poll_interval_s: float

    def poll(self) -> Sequence[RawReading]:
        """Return the readings available now (possibly several per compressor)."""
        ...

    def close(self) -> None: ...


class SourceFactory(Protocol):
    def __call__(
        self, *, station_id: str, options: Mapping[str, Any], resume_after: datetime | None
    ) -> ReadingSource: ...


def load_source(
    kind: str,
    *,
    station_id: str,
    options: Mapping[str, Any],
    resume_after: datetime | None = None,
) -> ReadingSource:
    """Instantiate the source plugin registered as `kind`.

    `resume_after` is the newest reading time the agent has stored: a source with
    its own clock (simulated or replayed time) continues after it, so a restart
    never produces a second reading for the same compressor and instant.
    """
    found = {ep.name: ep for ep in entry_points(group=SOURCE_ENTRY_POINT_GROUP)}
    if kind not in found:
        known = ", ".join(sorted(found)) or "none installed"
        raise ConfigError(f"source.kind: unknown source {kind!r} (installed: {known})")
    factory: SourceFactory = found[kind].load()
    return factory(station_id=station_id, options=options, resume_after=resume_after)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class ReadingRows:
    """Numbered reading rows as NumPy columns (the v1 reading schema, one row per reading).

    `values` holds the sensor values as stored (float32 precision, in `SENSOR_FIELDS`
    order) with NaN where the value is null; `quality` the matching codes.
    """

    station_id: str
    compressor_id: list[str]
    seq: np.ndarray  # (n,) int64
    timestamp: list[datetime]  # timezone-aware UTC
    timestamp_us: np.ndarray  # (n,) int64, microseconds since the epoch
    operating_state: list[str]
    values: np.ndarray  # (n, 6) float32, NaN where null
    quality: np.ndarray  # (n, 6) int8
    reading_flags: np.ndarray  # (n,) int32

    def __len__(self) -> int:
        return len(self.seq)

    def valid_values(self) -> np.ndarray:
        """(n, 6) float64 values; a value whose quality is not OK is NaN (the feature input)."""
        return np.where(self.quality == int(Quality.OK), self.values.astype(np.float64), np.nan)

    def columns(self) -> dict[str, np.ndarray]:
        """The rows as named columns in schema order (NaN where a sensor value is null)."""
        n = len(self)
        return {
            "station_id": np.full(n, self.station_id, dtype=object),
            "compressor_id": np.array(self.compressor_id, dtype=object),
            "seq": self.seq,
            "timestamp": self.timestamp_us.astype("datetime64[us]"),
            "operating_state": np.array(self.operating_state, dtype=object),
            **{s: self.values[:, i] for i, s in enumerate(SENSOR_FIELDS)},
            **{q: self.quality[:, i] for i, q in enumerate(QUALITY_FIELDS)},
            "reading_flags": self.reading_flags,
        }


def readings_to_rows(
    readings: Iterable[RawReading], *, station_id: str, first_seq: int
) -> ReadingRows:
    """Number readings from `first_seq` in the order given; NaN/inf become null, NOT_A_NUMBER."""
    rows = list(readings)
    n = len(rows)
    values = np.full((n, len(SENSOR_FIELDS)), np.nan, dtype=np.float32)
    quality = np.zeros((n, len(SENSOR_FIELDS)), dtype=np.int8)
    stamps: list[datetime] = []
    for i, reading in enumerate(rows):
        stamps.append(_as_utc(reading.timestamp))
        for j, sensor in enumerate(SENSOR_FIELDS):
            value, code = normalize_value(
                reading.values.get(sensor), Quality(reading.quality.get(sensor, Quality.OK))
            )
            if value is not None:
                values[i, j] = value
            quality[i, j] = int(code)
    return ReadingRows(
        station_id=station_id,
        compressor_id=[r.compressor_id for r in rows],
        seq=np.arange(first_seq, first_seq + n, dtype=np.int64),
        timestamp=stamps,
        timestamp_us=np.array([_micros(t) for t in stamps], dtype=np.int64),
        operating_state=[r.operating_state for r in rows],
        values=values,
        quality=quality,
        reading_flags=np.array([int(r.flags) for r in rows], dtype=np.int32),
    )


def _as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _micros(value: datetime) -> int:
    delta = value - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
