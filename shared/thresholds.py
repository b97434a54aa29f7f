"""The one definition of each sensor's warning and critical limits (config/thresholds.yaml `sensors:`).

The edge's threshold rules name these limits (`limit: warning`) instead of repeating
numbers, the hub's gold tables derive each sensor's status from them
(hub/lakehouse/sensor_status.py) and the portal draws its gauges with them, so a
limit changed in the file changes everywhere at once.

A sensor's status: `critical` at or past its critical limit, `warning` at or past its
warning limit, else `normal` (`unknown` with no value; always `normal` for a sensor
without limits). "Past" is above for `direction: above`, below for `direction: below`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from shared.errors import ConfigError
from shared.schema import SENSOR_FIELDS
from shared.settings import read_yaml

#: The shipped file (overridden by ALTAVIZ_THRESHOLDS_FILE).
DEFAULT_THRESHOLDS_FILE = Path(__file__).resolve().parents[1] / "config" / "thresholds.yaml"
STATUSES = ("normal", "warning", "critical")
Status = Literal["normal", "warning", "critical", "unknown"]


class SensorLimit(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    direction: Literal["above", "below"] = "above"
    warning: float
    critical: float

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        worse = (
            self.critical >= self.warning
            if self.direction == "above"
            else self.critical <= self.warning
        )
        if not worse:
            raise ValueError(f"critical must be past warning ({self.direction})")
        return self

    def level(self, name: str) -> float:
        return self.warning if name == "warning" else self.critical

    def status(self, value: float | None) -> Status:
        if value is None or value != value:  # None or NaN
            return "unknown"
        past = (lambda a, b: a >= b) if self.direction == "above" else (lambda a, b: a <= b)
        if past(value, self.critical):
            return "critical"
        if past(value, self.warning):
            return "warning"
        return "normal"


class SensorLimits(BaseModel):
    """Limits of the sensors that have them (sensor name -> limit)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sensors: dict[str, SensorLimit]

    @model_validator(mode="after")
    def _known(self) -> Self:
        unknown = sorted(set(self.sensors) - set(SENSOR_FIELDS))
        if unknown:
            raise ValueError(f"unknown sensor(s) {unknown}; see shared.schema.SENSOR_FIELDS")
        return self

    def get(self, sensor: str) -> SensorLimit | None:
        return self.sensors.get(sensor)

    def status(self, sensor: str, value: float | None) -> Status:
        limit = self.sensors.get(sensor)
        if limit is None:
            return "unknown" if value is None or value != value else "normal"
        return limit.status(value)


def thresholds_path(path: Path | None = None) -> Path:
    if path is not None:
        return path
    return Path(os.environ.get("ALTAVIZ_THRESHOLDS_FILE") or DEFAULT_THRESHOLDS_FILE)


def parse_sensor_limits(document: Any, *, source: str) -> SensorLimits:
    """The `sensors:` section of a thresholds document; a bad one is one ConfigError."""
    section = (document or {}).get("sensors", {}) if isinstance(document, dict) else None
    if not isinstance(section, dict):
        raise ConfigError(f"{source}: sensors: must be a mapping of sensor -> limits")
    try:
        return SensorLimits(sensors=section)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "sensors"
        raise ConfigError(f"{source}: {where}: {first['msg']}") from None


def load_sensor_limits(path: Path | None = None) -> SensorLimits:
    """The sensor limits of the thresholds file (`path`, else the shipped or configured one)."""
    source = thresholds_path(path)
    return parse_sensor_limits(read_yaml(source), source=str(source))


def sensor_status(sensor: str, value: float | None, limits: SensorLimits | None = None) -> Status:
    """normal / warning / critical (unknown: no value) of one sensor value."""
    return (limits or load_sensor_limits()).status(sensor, value)
