"""The OPC UA source against the simulator's OPC UA panels (a real asyncua server)."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from asyncua import ua

from edge_agent.opcua.source import OpcUaSource, OpcUaSourceFactory, quality_of
from shared.errors import ConfigError
from shared.messages import PanelState
from shared.schema import SENSOR_FIELDS, OperatingState, Quality
from shared.sources import RawReading
from simulator.opcua import node_ids
from tests.edge_agent.opcua_server import OpcUaPanelServer
from tests.support.stack import wait_until

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def server() -> Iterator[OpcUaPanelServer]:
    panels = OpcUaPanelServer().start()
    yield panels
    panels.stop()


def _options(endpoint: str, compressors: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "endpoint": endpoint, "poll_interval_s": 0.1, "publishing_interval_ms": 50,
        "timeout_s": 2, "reconnect_min_s": 0.2, "reconnect_max_s": 1,
        "panels": [{"compressor_id": c, "nodes": node_ids(c)} for c in compressors],
        **extra,
    }  # fmt: skip


def _next(source: OpcUaSource, compressor: str, ok: Any, timeout: float = 20) -> RawReading:
    found: list[RawReading] = []

    def arrived() -> bool:
        found.extend(r for r in source.poll() if r.compressor_id == compressor and ok(r))
        return bool(found)

    wait_until(arrived, timeout=timeout, what=f"a matching reading of {compressor}")
    return found[-1]


@pytest.mark.parametrize("subscribe", [True, False])
def test_values_arrive_with_quality_ok_and_gateway_time(
    server: OpcUaPanelServer, subscribe: bool
) -> None:
    compressors = server.compressor_ids
    source = OpcUaSourceFactory(
        station_id="EF-KARNES", options=_options(server.endpoint, compressors, subscribe=subscribe)
    )
    try:
        reading = _next(source, compressors[0], lambda r: r.quality.get("vibration_mms") == 0)
        assert all(reading.quality[s] == Quality.OK for s in SENSOR_FIELDS), reading.quality
        assert 100 < (reading.values["discharge_temp_f"] or 0) < 400
        assert reading.operating_state in OperatingState.ALL
        assert reading.timestamp.tzinfo is not None
        status = source.panel_status()[compressors[0]]
        assert status.state == PanelState.OK and status.clock_skew_s is not None
        assert abs(status.clock_skew_s) < 60
    finally:
        source.close()


def test_status_codes_become_quality_codes(server: OpcUaPanelServer) -> None:
    compressor = server.compressor_ids[-1]
    source = OpcUaSourceFactory(
        station_id="EF-KARNES", options=_options(server.endpoint, [compressor])
    )
    codes = ua.StatusCodes
    try:
        server.set_status(compressor, "vibration_mms", codes.BadSensorFailure)
        server.set_status(compressor, "discharge_temp_f", codes.UncertainLastUsableValue, 250.0)
        server.set_status(compressor, "suction_pressure_psi", codes.BadOutOfRange, 9999.0)
        server.set_status(compressor, "gas_flow_mcf", codes.BadNoCommunication)
        reading = _next(
            source, compressor, lambda r: r.quality.get("gas_flow_mcf") == Quality.COMM_ERROR
        )
        assert reading.quality["vibration_mms"] == Quality.DEVICE_EXCEPTION
        assert reading.quality["discharge_temp_f"] == Quality.STALE
        assert reading.values["discharge_temp_f"] == 250.0
        assert reading.quality["suction_pressure_psi"] == Quality.OUT_OF_RANGE
        assert reading.quality["horsepower_consumption"] == Quality.OK
    finally:
        source.close()
    assert quality_of(ua.StatusCode(codes.BadTimeout)) == Quality.COMM_ERROR


def test_unknown_node_or_field_is_one_clear_error_at_start(server: OpcUaPanelServer) -> None:
    compressor = server.compressor_ids[0]
    options = _options(server.endpoint, [compressor])
    options["panels"][0]["nodes"]["vibration_mms"] = "ns=2;s=NO-SUCH.vibration_mms"
    with pytest.raises(ConfigError, match=r"has no node\(s\) .*vibration_mms = ns=2;s=NO-SUCH"):
        OpcUaSourceFactory(station_id="EF-KARNES", options=options)
    options["panels"][0]["nodes"] = {"vibration": "ns=2;s=X"}
    with pytest.raises(ConfigError, match=r"unknown field\(s\) \['vibration'\]"):
        OpcUaSourceFactory(station_id="EF-KARNES", options=options)


def test_server_down_is_comm_error_then_reconnects() -> None:
    panels = OpcUaPanelServer()
    compressor = panels.compressor_ids[0]
    # Down at start: not an error, the values are comm_error until the server answers.
    source = OpcUaSourceFactory(
        station_id="EF-KARNES", options=_options(panels.endpoint, [compressor], start_check_s=0.5)
    )
    try:
        reading = _next(source, compressor, lambda r: True)
        assert set(reading.quality.values()) == {Quality.COMM_ERROR}
        assert source.panel_status()[compressor].state == PanelState.COMM_ERROR
        panels.start()
        _next(source, compressor, lambda r: r.quality["vibration_mms"] == Quality.OK, timeout=60)
        panels.stop()
        _next(source, compressor, lambda r: r.quality["vibration_mms"] == Quality.COMM_ERROR)
        assert source.panel_status()[compressor].state == PanelState.COMM_ERROR
    finally:
        source.close()


def test_opcua_is_a_registered_source_of_the_edge_extra() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["entry-points"]["altaviz.sources"]["opcua"] == (
        "edge_agent.opcua.source:OpcUaSourceFactory"
    )
    assert any(d.startswith("asyncua") for d in project["optional-dependencies"]["edge"])
