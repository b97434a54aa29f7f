"""How the portal draws the six sensors: labels, units, gauge ranges and alarm thresholds.

Thresholds mirror the edge's config/thresholds.yaml defaults (warning / critical),
so what the operations center sees lines up with what the station alarms on.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.schema import SENSOR_FIELDS


@dataclass(frozen=True)
class Sensor:
    name: str
    label: str
    unit: str
    gauge_min: float
    gauge_max: float
    warning: float | None
    critical: float | None
    #: "above": high values are bad; "below": low values are bad.
    direction: str = "above"

    def status(self, value: float | None) -> str:
        if value is None:
            return "unknown"
        worse = (lambda a, b: a >= b) if self.direction == "above" else (lambda a, b: a <= b)
        if self.critical is not None and worse(value, self.critical):
            return "critical"
        if self.warning is not None and worse(value, self.warning):
            return "warning"
        return "ok"


SENSORS: dict[str, Sensor] = {
    s.name: s
    for s in (
        Sensor("vibration_mms", "Vibration", "mm/s", 0, 12, 4.5, 7.1),
        Sensor("discharge_temp_f", "Discharge temperature", "°F", 100, 340, 260, 300),
        Sensor("suction_pressure_psi", "Suction pressure", "psig", 0, 150, 25, 20, "below"),
        Sensor("discharge_pressure_psi", "Discharge pressure", "psig", 0, 1600, 1300, 1400),
        Sensor("horsepower_consumption", "Horsepower", "bhp", 0, 2000, None, None),
        Sensor("gas_flow_mcf", "Gas flow", "Mcf/d", 0, 20000, None, None),
    )
}
assert tuple(SENSORS) == tuple(SENSOR_FIELDS), "one display entry per sensor of the schema"
