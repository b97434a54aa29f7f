"""How the portal draws the six sensors: labels, units and gauge ranges (display only).

Warning and critical limits are not kept here: they come from the one threshold
definition (config/thresholds.yaml `sensors:`, shared/thresholds.py) that the edge's
rules and the gold tables read too, so the gauges line up with what the station alarms
on and what gold calls warning or critical.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.schema import SENSOR_FIELDS
from shared.thresholds import SensorLimit, SensorLimits, Status, load_sensor_limits


@dataclass(frozen=True)
class Display:
    label: str
    unit: str
    gauge_min: float
    gauge_max: float


DISPLAY: dict[str, Display] = {
    "vibration_mms": Display("Vibration", "mm/s", 0, 12),
    "discharge_temp_f": Display("Discharge temperature", "°F", 100, 340),
    "suction_pressure_psi": Display("Suction pressure", "psig", 0, 150),
    "discharge_pressure_psi": Display("Discharge pressure", "psig", 0, 1600),
    "horsepower_consumption": Display("Horsepower", "bhp", 0, 2000),
    "gas_flow_mcf": Display("Gas flow", "Mcf/d", 0, 20000),
}
assert tuple(DISPLAY) == tuple(SENSOR_FIELDS), "one display entry per sensor of the schema"


@dataclass(frozen=True)
class Sensor:
    name: str
    label: str
    unit: str
    gauge_min: float
    gauge_max: float
    #: From the one threshold definition; None: the sensor has no limits.
    limit: SensorLimit | None

    @property
    def warning(self) -> float | None:
        return self.limit.warning if self.limit else None

    @property
    def critical(self) -> float | None:
        return self.limit.critical if self.limit else None

    @property
    def direction(self) -> str:
        """ "above": high values are bad; "below": low values are bad."""
        return self.limit.direction if self.limit else "above"

    def status(self, value: float | None) -> Status:
        """normal / warning / critical (unknown: no value), as gold and the edge judge it."""
        if self.limit is None:
            return "unknown" if value is None else "normal"
        return self.limit.status(value)


def display_sensors(limits: SensorLimits) -> dict[str, Sensor]:
    return {
        name: Sensor(name, d.label, d.unit, d.gauge_min, d.gauge_max, limits.get(name))
        for name, d in DISPLAY.items()
    }


#: With the limits of the configured thresholds file (read once, when the portal starts).
SENSORS: dict[str, Sensor] = display_sensors(load_sensor_limits())
