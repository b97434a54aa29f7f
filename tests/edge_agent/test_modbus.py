"""Modbus acquisition against real pymodbus servers on loopback."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from pymodbus.constants import ExcCodes

from edge_agent.modbus.options import parse_options
from edge_agent.modbus.source import ClockWatch, ModbusSource, load_maps
from shared.errors import ConfigError
from shared.messages import PanelState
from shared.register_map import find_register_map
from shared.schema import SENSOR_FIELDS, OperatingState, Quality, ReadingFlag
from shared.sources import RawReading, load_source
from tests.edge_agent.panels import PanelServer, SilentServer

REPO = Path(__file__).resolve().parents[2]

HEALTHY = {
    "operating_state": "running",
    "vibration_mms": 3.12,
    "discharge_temp_f": 215.3,
    "suction_pressure_psi": 65.1,
    "discharge_pressure_psi": 1050.2,
    "horsepower_consumption": 1200.0,
    "gas_flow_mcf": 9000.5,
}


def _panel(port: int, compressor: str = "C01", **extra: Any) -> dict[str, Any]:
    return {
        "compressor_id": compressor,
        "register_map": extra.pop("register_map", "standard-scaled"),
        "host": "127.0.0.1",
        "port": port,
        "poll_interval_s": 0.1,
        "timeout_s": 0.3,
        "retries": 1,
        "backoff_s": 0.05,
        "reconnect_max_s": 0.5,
        **extra,
    }


def _source(*panels: dict[str, Any]) -> ModbusSource:
    options = parse_options({"poll_interval_s": 0.05, "panels": list(panels)})
    return ModbusSource(options, load_maps(options.panels, None))


def _collect(
    source: ModbusSource, until: Callable[[list[RawReading]], bool], timeout: float = 10
) -> list[RawReading]:
    readings: list[RawReading] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        readings.extend(source.poll())
        if until(readings):
            return readings
        time.sleep(0.05)
    raise AssertionError(f"condition not met; got {len(readings)} reading(s)")


def _of(readings: list[RawReading], compressor: str) -> list[RawReading]:
    return [r for r in readings if r.compressor_id == compressor]


@pytest.mark.parametrize("map_name", ["standard-scaled", "float32-cdab"])
def test_panel_values_decode_with_quality_ok(map_name: str) -> None:
    with PanelServer(find_register_map(map_name), HEALTHY) as panel:
        source = _source(_panel(panel.port, register_map=map_name))
        try:
            readings = _collect(source, lambda r: len(r) >= 3)
        finally:
            source.close()
    reading = readings[-1]
    assert reading.operating_state == OperatingState.RUNNING
    assert reading.timestamp.tzinfo is not None
    for sensor in SENSOR_FIELDS:
        assert reading.quality[sensor] == Quality.OK
        assert reading.values[sensor] == pytest.approx(HEALTHY[sensor], abs=0.06)
    assert source.panel_status()["C01"].state == PanelState.OK


def test_silent_panel_gives_comm_error_readings_not_a_crash() -> None:
    with SilentServer() as silent, PanelServer(find_register_map("standard-scaled"), HEALTHY) as ok:
        source = _source(_panel(silent.port, "C01"), _panel(ok.port, "C02"))
        try:
            readings = _collect(source, lambda r: len(_of(r, "C01")) >= 3, timeout=15)
        finally:
            source.close()
    dead = _of(readings, "C01")
    assert all(r.quality[s] == Quality.COMM_ERROR for r in dead for s in SENSOR_FIELDS)
    assert all(r.values.get(s) is None for r in dead for s in SENSOR_FIELDS)
    # The healthy panel on its own connection was never held up by the dead one.
    assert len(_of(readings, "C02")) > len(dead)
    status = source.panel_status()
    assert status["C01"].state == PanelState.COMM_ERROR and "no answer" in (
        status["C01"].last_error or ""
    )
    assert status["C02"].state == PanelState.OK


def test_exception_response_is_a_flagged_value_and_recovery_follows() -> None:
    with PanelServer(find_register_map("standard-scaled"), HEALTHY) as panel:
        panel.refuse = ExcCodes.DEVICE_FAILURE
        source = _source(_panel(panel.port))
        try:
            refused = _collect(source, lambda r: len(r) >= 2)
            assert all(
                r.quality[s] == Quality.DEVICE_EXCEPTION for r in refused for s in SENSOR_FIELDS
            )
            assert source.panel_status()["C01"].state == PanelState.DEVICE_EXCEPTION
            panel.refuse = None
            _collect(source, lambda r: any(x.quality["vibration_mms"] == Quality.OK for x in r))
            assert source.panel_status()["C01"].state == PanelState.OK
        finally:
            source.close()


def test_unmapped_register_is_a_device_exception() -> None:
    # The panel only has 4 registers: the map's later points answer ILLEGAL_ADDRESS.
    with PanelServer(find_register_map("standard-scaled"), {}, size=4) as panel:
        source = _source(_panel(panel.port))
        try:
            readings = _collect(source, lambda r: len(r) >= 1)
        finally:
            source.close()
    assert readings[0].quality["gas_flow_mcf"] == Quality.DEVICE_EXCEPTION


def test_nan_not_available_and_out_of_range_are_flagged() -> None:
    floats = {**HEALTHY, "vibration_mms": None, "discharge_temp_f": 650.0}
    ints = {**HEALTHY, "vibration_mms": None}
    with (
        PanelServer(find_register_map("float32-cdab"), floats) as float_panel,
        PanelServer(find_register_map("standard-scaled"), ints) as int_panel,
    ):
        source = _source(
            _panel(float_panel.port, "C01", register_map="float32-cdab"),
            _panel(int_panel.port, "C02"),
        )
        try:
            readings = _collect(source, lambda r: bool(_of(r, "C01")) and bool(_of(r, "C02")))
        finally:
            source.close()
    nan_reading, na_reading = _of(readings, "C01")[0], _of(readings, "C02")[0]
    assert nan_reading.quality["vibration_mms"] == Quality.NOT_A_NUMBER
    assert nan_reading.values["vibration_mms"] is None
    assert nan_reading.quality["discharge_temp_f"] == Quality.OUT_OF_RANGE
    assert nan_reading.values["discharge_temp_f"] == pytest.approx(650.0)
    assert na_reading.quality["vibration_mms"] == Quality.NOT_A_NUMBER


def test_panel_that_restarts_is_polled_again() -> None:
    panel = PanelServer(find_register_map("standard-scaled"), HEALTHY).start()
    source = _source(_panel(panel.port))
    try:
        _collect(source, lambda r: len(r) >= 2)
        panel.stop()
        _collect(source, lambda r: any(x.quality["vibration_mms"] == Quality.COMM_ERROR for x in r))
        panel.start()
        _collect(
            source, lambda r: any(x.quality["vibration_mms"] == Quality.OK for x in r), timeout=15
        )
    finally:
        source.close()
        panel.stop()


def test_clock_jump_is_detected_and_flagged(monkeypatch: pytest.MonkeyPatch) -> None:
    watch = ClockWatch(threshold_s=2.0)
    _, first = watch.now()
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + 3600)
    _, jumped = watch.now()
    _, after = watch.now()
    assert (first, jumped, after) == (ReadingFlag.NONE, ReadingFlag.CLOCK_JUMP, ReadingFlag.NONE)
    assert watch.jumps == 1


def test_modbus_is_an_installed_source_plugin() -> None:
    with PanelServer(find_register_map("standard-scaled"), HEALTHY) as panel:
        source = load_source("modbus", station_id="S1", options={"panels": [_panel(panel.port)]})
        try:
            assert isinstance(source, ModbusSource)
        finally:
            source.close()


def test_bad_options_are_one_config_error() -> None:
    with pytest.raises(ConfigError, match="tcp panel needs `host`"):
        parse_options({"panels": [{"compressor_id": "C01", "register_map": "standard-scaled"}]})
    with pytest.raises(ConfigError, match="register map 'nope'"):
        load_maps(parse_options({"panels": [_panel(502, register_map="nope")]}).panels, None)


def test_wrong_typed_register_map_stops_the_agent_with_one_clear_error(tmp_path: Path) -> None:
    maps = tmp_path / "maps"
    maps.mkdir()
    bad = yaml.safe_load((REPO / "config/register_maps/standard-scaled.yaml").read_text())
    bad["points"][1]["type"] = "float64"  # not a Modbus register type
    (maps / "bad.yaml").write_text(yaml.safe_dump(bad))
    config = tmp_path / "edge.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "buffer": {"path": str(tmp_path / "buffer.duckdb")},
                "http": {"enabled": False},
                "source": {
                    "kind": "modbus",
                    "options": {"maps_dir": str(maps), "panels": [_panel(502, register_map="bad")]},
                },
            }
        )
    )
    result = subprocess.run(
        [sys.executable, "-m", "edge_agent", "run", "--config", str(config)],
        capture_output=True, text=True, cwd=REPO, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "bad.yaml" in lines[0] and "vibration_mms" in lines[0] and "type" in lines[0]


def test_a_frozen_value_is_flagged_stale() -> None:
    with PanelServer(find_register_map("standard-scaled"), HEALTHY) as panel:
        source = _source(_panel(panel.port, stale_after_s=0.3))
        try:
            readings = _collect(
                source, lambda r: any(x.quality["vibration_mms"] == Quality.STALE for x in r)
            )
        finally:
            source.close()
    assert readings[0].quality["vibration_mms"] == Quality.OK
    stale = next(r for r in readings if r.quality["vibration_mms"] == Quality.STALE)
    assert stale.values["vibration_mms"] == pytest.approx(3.12)


def test_rtu_panel_over_a_serial_line() -> None:
    from tests.edge_agent.panels import PtyBridge, RtuPanelServer

    with (
        PtyBridge() as line,
        RtuPanelServer(
            line.server_port, find_register_map("standard-scaled"), HEALTHY, device_id=7
        ),
    ):
        options = {
            "compressor_id": "C01",
            "register_map": "standard-scaled",
            "transport": "rtu",
            "serial_port": line.client_port,
            "baudrate": 19200,
            "device_id": 7,
            "poll_interval_s": 0.1,
            "timeout_s": 0.5,
        }
        source = _source(options)
        try:
            readings = _collect(
                source, lambda r: any(x.quality["vibration_mms"] == Quality.OK for x in r)
            )
        finally:
            source.close()
    reading = next(r for r in readings if r.quality["vibration_mms"] == Quality.OK)
    assert reading.values["gas_flow_mcf"] == pytest.approx(9000.5)
    assert reading.operating_state == OperatingState.RUNNING
