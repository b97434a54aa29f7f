"""The contract between a reading source (Modbus panels, the simulator) and the edge agent.

A source returns `RawReading`s; the agent gives them their per-station sequence
numbers and stores them. Sources are plugins registered under the
`altaviz.sources` entry-point group, so the edge agent never imports the
simulator and a gateway without it still runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from importlib.metadata import entry_points
from typing import Any, Protocol, runtime_checkable

import pyarrow as pa

from shared.errors import ConfigError
from shared.schema import (
    QUALITY_FIELDS,
    READING_SCHEMA,
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


def readings_to_table(
    readings: Iterable[RawReading], *, station_id: str, first_seq: int
) -> pa.Table:
    """Build reading rows, numbering them from `first_seq` in the order given."""
    rows = list(readings)
    columns: dict[str, list[Any]] = {name: [] for name in READING_SCHEMA.names}
    for offset, reading in enumerate(rows):
        columns["station_id"].append(station_id)
        columns["compressor_id"].append(reading.compressor_id)
        columns["seq"].append(first_seq + offset)
        columns["timestamp"].append(reading.timestamp)
        columns["operating_state"].append(reading.operating_state)
        for sensor, qcol in zip(SENSOR_FIELDS, QUALITY_FIELDS, strict=True):
            value, quality = normalize_value(
                reading.values.get(sensor), Quality(reading.quality.get(sensor, Quality.OK))
            )
            columns[sensor].append(value)
            columns[qcol].append(int(quality))
        columns["reading_flags"].append(int(reading.flags))
    return pa.Table.from_pydict(columns, schema=READING_SCHEMA)
