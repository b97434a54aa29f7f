"""One threshold definition: the edge rules, gold's sensor status, the portal and drift all read it."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge_agent.thresholds import load_thresholds
from hub.lakehouse.sensor_status import row_status
from hub.portal.fleet.sensors import display_sensors
from models.drift import DriftLimits
from shared.errors import ConfigError
from shared.thresholds import DEFAULT_THRESHOLDS_FILE, load_sensor_limits, sensor_status

SHIPPED = DEFAULT_THRESHOLDS_FILE


def _edited(tmp_path: Path, old: str, new: str) -> Path:
    """The shipped file with one limit changed (nothing else touched)."""
    text = SHIPPED.read_text()
    assert text.count(old) == 1
    path = tmp_path / "thresholds.yaml"
    path.write_text(text.replace(old, new))
    return path


def _consumers(path: Path) -> dict[str, object]:
    limits = load_sensor_limits(path)
    rules = {r.id: r for r in load_thresholds(path).rules}
    drift = DriftLimits.from_thresholds(path)
    portal = display_sensors(limits)["discharge_temp_f"]
    return {
        "edge warning rule": rules["high_discharge_temp"].above,
        "edge warning clears at": rules["high_discharge_temp"].clear_below,
        "edge critical rule": rules["critical_discharge_temp"].above,
        "gold status of 270 °F": row_status({"discharge_temp_f_max": 270.0}, limits)[
            "discharge_temp_f_status"
        ],
        "portal warning": portal.warning,
        "portal critical": portal.critical,
        "portal gauge at 270 °F": portal.status(270.0),
        "drift limits": (drift.warning_f, drift.critical_f),
    }


def test_every_consumer_changes_when_the_one_file_changes(tmp_path: Path) -> None:
    assert _consumers(SHIPPED) == {
        "edge warning rule": 260.0,
        "edge warning clears at": 255.0,
        "edge critical rule": 300.0,
        "gold status of 270 °F": "warning",
        "portal warning": 260.0,
        "portal critical": 300.0,
        "portal gauge at 270 °F": "warning",
        "drift limits": (260.0, 300.0),
    }
    edited = _edited(
        tmp_path,
        "discharge_temp_f:       {direction: above, warning: 260, critical: 300}",
        "discharge_temp_f:       {direction: above, warning: 240, critical: 270}",
    )
    assert _consumers(edited) == {
        "edge warning rule": 240.0,
        "edge warning clears at": 235.0,
        "edge critical rule": 270.0,
        "gold status of 270 °F": "critical",
        "portal warning": 240.0,
        "portal critical": 270.0,
        "portal gauge at 270 °F": "critical",
        "drift limits": (240.0, 270.0),
    }


def test_the_configured_file_is_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    edited = _edited(
        tmp_path,
        "suction_pressure_psi:   {direction: below, warning: 25, critical: 20}",
        "suction_pressure_psi:   {direction: below, warning: 40, critical: 30}",
    )
    assert sensor_status("suction_pressure_psi", 35.0) == "normal"
    monkeypatch.setenv("ALTAVIZ_THRESHOLDS_FILE", str(edited))
    assert sensor_status("suction_pressure_psi", 35.0) == "warning"
    assert sensor_status("suction_pressure_psi", 30.0) == "critical"
    assert sensor_status("suction_pressure_psi", None) == "unknown"
    assert sensor_status("gas_flow_mcf", 1.0) == "normal"  # no limits: never warning


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("warning: 4.5, critical: 7.1", "warning: 7.1, critical: 4.5", "critical must be past"),
        ("  vibration_mms:  ", "  vibration_mm:  ", "unknown sensor"),
        ("limit: warning        # sensors.discharge_temp_f.warning", "limit: fatal", "limit"),
    ],
)
def test_a_bad_definition_is_one_clear_error(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    path = _edited(tmp_path, old, new)
    with pytest.raises(ConfigError, match=message):
        load_thresholds(path)
