"""Modbus panels, read from another process by independent clients (issue 3 acceptance).

`altaviz-sim serve-modbus` runs as a subprocess with time frozen at one instant;
Debian's `mbpoll` and a pymodbus client read the registers and must find the
values the simulator reports for that instant, within the register resolution.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest
import yaml

from shared.fleet import DEFAULT_FLEET_PATH, Fleet, load_fleet
from shared.register_map import decode_block, find_register_map, read_plan
from shared.schema import SENSOR_FIELDS, Quality
from simulator.engine import Chunk, Simulation
from simulator.scenario import load_scenario
from simulator.schedule import STATE_NAMES
from tests.support.services import free_port, require

FROZEN_AT = "2026-07-09T15:30:00Z"
MBPOLL_TIMEOUT_S = "0.5"

SCENARIO = {
    "name": "panels",
    "seed": 5,
    "start": FROZEN_AT,
    "duration": "1d",
    "resolution_s": 1,
    "equipment_faults": [
        {
            "compressor": "COMP-002",
            "mode": "valve_leak",
            "onset": "2026-07-08T00:00:00Z",
            "failure": "2026-07-12T00:00:00Z",
        }
    ],
    "sensor_faults": [
        # PB-MIDLAND unit 3 stops answering; unit 1's discharge temperature transmitter fails (NaN).
        {
            "kind": "dropout",
            "compressor": "COMP-006",
            "start": "2026-07-09T15:00:00Z",
            "end": "2026-07-09T16:00:00Z",
        },
        {
            "kind": "dropout",
            "compressor": "COMP-004",
            "sensor": "discharge_temp_f",
            "start": "2026-07-09T15:00:00Z",
            "end": "2026-07-09T16:00:00Z",
        },
    ],
    "operating_events": [
        {
            "compressor": "COMP-009",
            "state": "standby_pressurized",
            "start": "2026-07-09T15:00:00Z",
            "end": "2026-07-09T18:00:00Z",
        }
    ],
    "panel_faults": [
        {
            "station": "HV-CARTHAGE",
            "compressors": ["COMP-008"],
            "behaviour": "exception",
            "exception_code": 4,
        }
    ],
}


@dataclass
class Panels:
    fleet: Fleet
    sim: Simulation
    expected: Chunk
    process: subprocess.Popen[str]

    def port(self, station_id: str) -> int:
        return self.fleet.station(station_id).panel.port

    def row(self, compressor_id: str) -> int:
        return int(np.flatnonzero(self.expected.idx == self.sim.units.index_of(compressor_id))[0])


@pytest.fixture(scope="module")
def panels(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Panels]:
    folder = tmp_path_factory.mktemp("panels")
    document = yaml.safe_load(DEFAULT_FLEET_PATH.read_text(encoding="utf-8"))
    for station in document["organisations"][0]["stations"]:
        station["panel"]["port"] = free_port()
    fleet_path = folder / "fleet.yaml"
    fleet_path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    scenario_path = folder / "panels.yaml"
    scenario_path.write_text(yaml.safe_dump(SCENARIO), encoding="utf-8")
    command = [
        sys.executable, "-m", "simulator", "serve-modbus",
        "--fleet", str(fleet_path), "--scenario", str(scenario_path),
        "--speed", "0", "--start", FROZEN_AT, "--duration", "120",
        "--timeout-unit", "BN-FTWORTH:2",
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        _wait_for_serving(process)
        fleet = load_fleet(fleet_path)
        sim = Simulation(fleet, load_scenario(scenario_path))
        instant = int(datetime.fromisoformat(FROZEN_AT.replace("Z", "+00:00")).timestamp())
        expected = sim.chunk(np.array([instant], dtype=np.int64), step_s=1)
        yield Panels(fleet, sim, expected, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_for_serving(process: subprocess.Popen[str]) -> None:
    assert process.stdout is not None
    deadline = time.monotonic() + 30
    seen = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        seen.append(line)
        if "serving" in line:
            return
    raise AssertionError("serve-modbus did not start:\n" + "".join(seen))


def mbpoll(
    port: int, unit_id: int, *, table: str, first: int, count: int = 1, extra: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    """Run Debian's mbpoll once (0-based addresses); `extra` options or values to write go last."""
    require(shutil.which("mbpoll") is not None, "mbpoll (Debian package mbpoll)")
    command = [
        "mbpoll", "-m", "tcp", "-p", str(port), "-a", str(unit_id), "-0", "-r", str(first),
        "-c", str(count), "-t", table, "-1", "-q", "-o", MBPOLL_TIMEOUT_S, "127.0.0.1", *extra,
    ]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, timeout=20, check=False)


def mbpoll_values(result: subprocess.CompletedProcess[str]) -> dict[int, str]:
    assert result.returncode == 0, result.stdout + result.stderr
    return {int(a): v for a, v in re.findall(r"\[(\d+)\]:\s+(\S+)", result.stdout)}


def expected_value(panels: Panels, compressor_id: str, field: str) -> float:
    row = panels.row(compressor_id)
    if field in SENSOR_FIELDS:
        return float(panels.expected.reported.values[field][row, 0])
    return float(
        getattr(panels.expected.physics, {"ambient_temp_f": "ambient_f"}.get(field, field))[row, 0]
    )


def int16(word: int) -> int:
    return word - 0x10000 if word & 0x8000 else word


# -- mbpoll: an independent client in another process -------------------------------------


@pytest.mark.parametrize(
    "compressor_id", ["COMP-001", "COMP-002", "COMP-003", "COMP-007", "COMP-009"]
)
def test_mbpoll_reads_the_standard_map_as_documented(panels: Panels, compressor_id: str) -> None:
    station, compressor = panels.fleet.compressor(compressor_id)
    assert station.panel.register_map == "standard-scaled"
    words = {
        a: int(v, 16)
        for a, v in mbpoll_values(
            mbpoll(panels.port(station.id), compressor.unit_id, table="4:hex", first=0, count=11)
        ).items()
    }
    # The register map's documentation, applied by hand (not through shared.register_map):
    state = {0: "shutdown_depressurized", 1: "standby_pressurized", 2: "startup", 3: "running"}[
        words[0]
    ]
    assert state == STATE_NAMES[int(panels.expected.physics.state[panels.row(compressor_id), 0])]
    decoded = {
        "vibration_mms": words[1] * 0.01,
        "discharge_temp_f": int16(words[2]) * 0.1,
        "suction_pressure_psi": int16(words[3]) * 0.1,
        "discharge_pressure_psi": words[4] * 0.1,
        "horsepower_consumption": words[5] * 1.0,
        "gas_flow_mcf": ((words[6] << 16) | words[7]) * 0.1,
        "suction_temp_f": int16(words[8]) * 0.1,
        "ambient_temp_f": int16(words[9]) * 0.1,
        "speed_rpm": words[10] * 1.0,
    }
    resolution = {"vibration_mms": 0.01, "horsepower_consumption": 1.0, "speed_rpm": 1.0}
    for field, value in decoded.items():
        step = resolution.get(field, 0.1)
        assert value == pytest.approx(
            expected_value(panels, compressor_id, field), abs=step / 2 + 1e-9
        ), field
    # mbpoll's own 32-bit decoding (big-endian word order) agrees on the flow
    flow = mbpoll_values(
        mbpoll(panels.port(station.id), compressor.unit_id, table="4:int", first=6, extra=("-B",))
    )
    assert int(flow[6]) * 0.1 == pytest.approx(decoded["gas_flow_mcf"])


def test_mbpoll_decodes_the_word_swapped_float_map(panels: Panels) -> None:
    # mbpoll's float type is IEEE-754 with the low word first (CDAB): the float32-cdab map.
    values = mbpoll_values(mbpoll(panels.port("PB-MIDLAND"), 2, table="3:float", first=2, count=8))
    fields = ["vibration_mms", "discharge_temp_f", "suction_pressure_psi", "discharge_pressure_psi",
              "horsepower_consumption", "gas_flow_mcf", "suction_temp_f", "speed_rpm"]  # fmt: skip
    register_map = find_register_map("float32-cdab")
    for n, field in enumerate(fields):
        assert register_map.point(field).address == 2 + 2 * n
        expected = expected_value(panels, "COMP-005", field)
        # within the register resolution (mbpoll prints 6 significant digits)
        step = register_map.point(field).step or 0.0
        assert float(values[2 + 2 * n]) == pytest.approx(expected, rel=1e-5, abs=step / 2), field


def test_a_failed_transmitter_reads_nan(panels: Panels) -> None:
    values = mbpoll_values(mbpoll(panels.port("PB-MIDLAND"), 1, table="3:float", first=4, count=1))
    assert values[4].lower() == "nan"


def test_faulty_panels_time_out_or_answer_with_exceptions(panels: Panels) -> None:
    timeout = mbpoll(panels.port("BN-FTWORTH"), 2, table="4", first=0, count=3)
    assert timeout.returncode != 0 and "timed out" in (timeout.stdout + timeout.stderr).lower()
    dropout = mbpoll(panels.port("PB-MIDLAND"), 3, table="3", first=0, count=3)
    assert dropout.returncode != 0 and "timed out" in (dropout.stdout + dropout.stderr).lower()
    exception = mbpoll(panels.port("HV-CARTHAGE"), 2, table="4", first=0, count=3)
    assert exception.returncode != 0 and "failure" in (exception.stdout + exception.stderr).lower()
    unknown = mbpoll(panels.port("HV-CARTHAGE"), 9, table="4", first=0, count=3)
    assert (
        unknown.returncode != 0 and "failed to respond" in (unknown.stdout + unknown.stderr).lower()
    )
    # the healthy unit next to the faulty one still answers
    assert (
        mbpoll_values(mbpoll(panels.port("HV-CARTHAGE"), 1, table="4", first=0, count=1))[0] == "3"
    )


def test_panels_are_read_only(panels: Panels) -> None:
    result = mbpoll(panels.port("EF-KARNES"), 1, table="4", first=1, extra=("42",))
    assert result.returncode != 0


# -- the shared register-map contract, through a pymodbus client -----------------------------


async def _read_station(
    port: int, station_map: str, unit_ids: list[int]
) -> dict[int, dict[str, Any]]:
    from pymodbus.client import AsyncModbusTcpClient

    register_map = find_register_map(station_map)
    client = AsyncModbusTcpClient("127.0.0.1", port=port, timeout=0.5, retries=0)
    await client.connect()
    found: dict[int, dict[str, Any]] = {}
    try:
        for unit_id in unit_ids:
            found[unit_id] = {}
            for block in read_plan(register_map):
                read = (
                    client.read_holding_registers
                    if block.kind == "holding"
                    else client.read_input_registers
                )
                response = await read(block.address, count=block.quantity, device_id=unit_id)
                assert not response.isError(), (unit_id, response)
                found[unit_id].update(decode_block(register_map, block, response.registers))
    finally:
        client.close()
    return found


@pytest.mark.parametrize("station_id", ["EF-KARNES", "PB-MIDLAND", "BN-FTWORTH"])
def test_shared_contract_decodes_every_point_of_every_unit(panels: Panels, station_id: str) -> None:
    station = panels.fleet.station(station_id)
    answering = [
        c
        for c in station.compressors
        if (station_id, c.unit_id) not in {("PB-MIDLAND", 3), ("BN-FTWORTH", 2)}
    ]
    found = asyncio.run(
        _read_station(
            station.panel.port, station.panel.register_map, [c.unit_id for c in answering]
        )
    )
    for compressor in answering:
        decoded = found[compressor.unit_id]
        row = panels.row(compressor.id)
        assert decoded["operating_state"] == (
            STATE_NAMES[int(panels.expected.physics.state[row, 0])],
            Quality.OK,
        )
        for field in SENSOR_FIELDS:
            value, quality = decoded[field][:2]
            expected = expected_value(panels, compressor.id, field)
            if np.isnan(expected):
                assert value is None and quality is Quality.NOT_A_NUMBER
                continue
            # the same register value the history holds for this instant, to the float32 it is stored as
            assert np.float32(value) == np.float32(expected), (compressor.id, field)
            assert quality == panels.expected.reported.quality[field][row, 0]


def test_served_values_follow_the_simulated_state(panels: Panels) -> None:
    # COMP-009 is on standby: not running, no flow, pressures settled out
    row = panels.row("COMP-009")
    assert STATE_NAMES[int(panels.expected.physics.state[row, 0])] == "standby_pressurized"
    assert panels.expected.reported.values["gas_flow_mcf"][row, 0] == 0
    # COMP-002's valve leak: hotter than its healthy neighbour COMP-001
    hot, ok = panels.row("COMP-002"), panels.row("COMP-001")
    assert (
        panels.expected.reported.values["discharge_temp_f"][hot, 0]
        > panels.expected.reported.values["discharge_temp_f"][ok, 0] + 10
    )
    assert (
        datetime.fromtimestamp(int(panels.expected.t[0]), UTC)
        .isoformat()
        .startswith("2026-07-09T15:30")
    )
