"""Semicircular SVG gauges for the six sensors, computed here so pages need no script."""

from __future__ import annotations

import math
from dataclasses import dataclass

from hub.portal.fleet.sensors import SENSORS, Sensor

RADIUS = 40.0
CX, CY = 50.0, 50.0


@dataclass(frozen=True)
class Gauge:
    sensor: Sensor
    value: float | None
    status: str
    #: SVG path data: the whole track, the value arc, the warning and critical zones.
    track: str
    value_arc: str
    warning_arc: str
    critical_arc: str


def _point(fraction: float) -> tuple[float, float]:
    angle = math.pi * (1 - fraction)
    return CX + RADIUS * math.cos(angle), CY - RADIUS * math.sin(angle)


def _arc(start: float, end: float) -> str:
    start, end = max(0.0, min(1.0, start)), max(0.0, min(1.0, end))
    if end - start <= 1e-6:
        return ""
    x1, y1 = _point(start)
    x2, y2 = _point(end)
    return f"M {x1:.2f} {y1:.2f} A {RADIUS} {RADIUS} 0 0 1 {x2:.2f} {y2:.2f}"


def _fraction(sensor: Sensor, value: float) -> float:
    return (value - sensor.gauge_min) / (sensor.gauge_max - sensor.gauge_min)


def _zones(sensor: Sensor) -> tuple[str, str]:
    if sensor.warning is None or sensor.critical is None:
        return "", ""
    warning, critical = _fraction(sensor, sensor.warning), _fraction(sensor, sensor.critical)
    if sensor.direction == "above":
        return _arc(warning, critical), _arc(critical, 1.0)
    return _arc(critical, warning), _arc(0.0, critical)


def gauge(sensor: Sensor, value: float | None) -> Gauge:
    warning_arc, critical_arc = _zones(sensor)
    value_arc = "" if value is None else _arc(0.0, _fraction(sensor, value))
    return Gauge(
        sensor=sensor,
        value=value,
        status=sensor.status(value),
        track=_arc(0.0, 1.0),
        value_arc=value_arc,
        warning_arc=warning_arc,
        critical_arc=critical_arc,
    )


def gauges(values: dict[str, float | None]) -> list[Gauge]:
    return [gauge(sensor, values.get(name)) for name, sensor in SENSORS.items()]
