"""The reading schema (v1): one row per compressor per poll, units in the names.

Every sensor value has a companion `<name>_quality` code. A value whose quality
is not OK may be null; a quality rule downstream never nulls or drops a value.
"""

from __future__ import annotations

import math
from enum import IntEnum, IntFlag

SCHEMA_VERSION = 1

#: Sensor columns, in the order panels, features and the portal use them.
SENSOR_FIELDS: tuple[str, ...] = (
    "vibration_mms",  # mm/s RMS, frame vibration
    "discharge_temp_f",  # °F, final-stage discharge temperature
    "suction_pressure_psi",  # psig
    "discharge_pressure_psi",  # psig
    "horsepower_consumption",  # bhp at the driver
    "gas_flow_mcf",  # Mcf/d (thousand standard cubic feet per day)
)

SENSOR_UNITS: dict[str, str] = {
    "vibration_mms": "mm/s",
    "discharge_temp_f": "°F",
    "suction_pressure_psi": "psig",
    "discharge_pressure_psi": "psig",
    "horsepower_consumption": "bhp",
    "gas_flow_mcf": "Mcf/d",
}


class Quality(IntEnum):
    """Per-value quality code, stored as int8 next to each sensor value."""

    OK = 0
    STALE = 1  # the panel answered but the value has not changed past its stale limit
    COMM_ERROR = 2  # no answer from the panel (timeout, socket error)
    DEVICE_EXCEPTION = 3  # the panel answered with a Modbus exception
    OUT_OF_RANGE = 4  # outside the register map's physical range
    NOT_A_NUMBER = 5  # NaN or infinity decoded from the register


class ReadingFlag(IntFlag):
    """Reading-level flags, stored as an int32 bitmask."""

    NONE = 0
    CLOCK_JUMP = 1  # the gateway clock jumped since the previous poll
    SIMULATED = 2  # produced by the simulator, not a real panel
    LATE = 4  # stamped by a source clock far behind the gateway clock


class OperatingState:
    """Operating modes as the compliance rules name them (Subpart W §98.233(p))."""

    RUNNING = "running"
    STARTUP = "startup"
    STANDBY_PRESSURIZED = "standby_pressurized"
    SHUTDOWN_DEPRESSURIZED = "shutdown_depressurized"
    UNKNOWN = "unknown"

    ALL: tuple[str, ...] = (
        RUNNING,
        STARTUP,
        STANDBY_PRESSURIZED,
        SHUTDOWN_DEPRESSURIZED,
        UNKNOWN,
    )


def quality_field(sensor: str) -> str:
    return f"{sensor}_quality"


QUALITY_FIELDS: tuple[str, ...] = tuple(quality_field(s) for s in SENSOR_FIELDS)

#: The columns of a reading row, in schema order: (name, type, nullable). The Arrow schema
#: (`shared.reading_table.READING_SCHEMA`) and the edge buffer's DuckDB table both follow it.
READING_FIELDS: tuple[tuple[str, str, bool], ...] = (
    ("station_id", "string", False),
    ("compressor_id", "string", False),
    ("seq", "int64", False),
    ("timestamp", "timestamp_us_utc", False),
    ("operating_state", "string", False),
    *((s, "float32", True) for s in SENSOR_FIELDS),
    *((q, "int8", False) for q in QUALITY_FIELDS),
    ("reading_flags", "int32", False),
)

READING_COLUMNS: tuple[str, ...] = tuple(name for name, _, _ in READING_FIELDS)


def normalize_value(value: float | None, quality: Quality) -> tuple[float | None, Quality]:
    """Make (value, quality) consistent: NaN/inf never travel as numbers, null is never OK."""
    if value is None:
        return None, quality if quality != Quality.OK else Quality.COMM_ERROR
    if not math.isfinite(value):
        return None, Quality.NOT_A_NUMBER
    return value, quality
