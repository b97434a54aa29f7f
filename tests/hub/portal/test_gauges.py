"""Gauges and sensor thresholds: the compressor page's 'now' row, computed server-side."""

from __future__ import annotations

from hub.portal.fleet.gauges import gauges
from hub.portal.fleet.sensors import SENSORS
from shared.schema import SENSOR_FIELDS


def test_one_gauge_per_sensor_with_status() -> None:
    values = {
        "vibration_mms": 8.0,
        "discharge_temp_f": 270.0,
        "suction_pressure_psi": 60.0,
        "discharge_pressure_psi": None,
    }
    drawn = {g.sensor.name: g for g in gauges(values)}
    assert tuple(drawn) == SENSOR_FIELDS
    assert drawn["vibration_mms"].status == "critical"
    assert drawn["discharge_temp_f"].status == "warning"
    assert drawn["suction_pressure_psi"].status == "normal"
    assert drawn["discharge_pressure_psi"].status == "unknown"
    assert drawn["discharge_pressure_psi"].value_arc == ""
    assert drawn["vibration_mms"].value_arc.startswith("M ")
    assert drawn["vibration_mms"].critical_arc and drawn["vibration_mms"].warning_arc


def test_low_is_bad_for_suction_pressure() -> None:
    suction = SENSORS["suction_pressure_psi"]
    assert suction.status(19.0) == "critical"
    assert suction.status(24.0) == "warning"
    assert suction.status(80.0) == "normal"


def test_values_outside_the_dial_are_clamped() -> None:
    (vibration,) = [g for g in gauges({"vibration_mms": 99.0}) if g.sensor.name == "vibration_mms"]
    full = next(g for g in gauges({"vibration_mms": 12.0}) if g.sensor.name == "vibration_mms")
    assert vibration.value_arc == full.value_arc
