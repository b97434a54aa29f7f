"""Acceptance against the simulator's Modbus panels (`altaviz-sim serve-modbus`).

Two stations' panels: EF-KARNES (scaled integers, ABCD) and PB-MIDLAND (float32,
CDAB), each a Modbus TCP gateway with one unit id per compressor. One unit never
answers and one answers with a Modbus exception: their readings are flagged, the
others read normally over the same connections, nothing crashes, and every reading
lands at the hub exactly once.
"""

from __future__ import annotations

import random
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from edge_agent.agent import Agent
from edge_agent.settings import EdgeSettings
from shared.fleet import load_fleet
from shared.schema import Quality
from shared.sources import load_source
from tests.integration.test_edge_resilience import assert_exactly_once
from tests.support.services import Mosquitto, wait_for_port
from tests.support.stack import AgentThread, hub_settings, start_ingest, wait_until

pytestmark = pytest.mark.mosquitto

REPO = Path(__file__).resolve().parents[2]
STATIONS = ("EF-KARNES", "PB-MIDLAND")


def _free_offset() -> int:
    """A port offset putting every station's panel on a free port below the ephemeral range."""
    ports = [s.panel.port for s in load_fleet(REPO / "config" / "fleet.yaml").stations()]
    rng = random.Random()
    for _ in range(50):
        offset = rng.randrange(10_000, 25_000)
        try:
            for port in ports:
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", port + offset))
        except OSError:
            continue
        return offset
    raise RuntimeError("no free ports for the simulator's panels")


@pytest.fixture
def panels(tmp_path: Path) -> Iterator[int]:
    """The simulator serving every station's panel on loopback; yields the port offset."""
    offset = _free_offset()
    log = open(tmp_path / "sim.log", "wb")  # noqa: SIM115
    sim = subprocess.Popen(
        [sys.executable, "-m", "simulator", "serve-modbus", "--host", "127.0.0.1",
         "--port-offset", str(offset), "--timeout-unit", "EF-KARNES:3",
         "--exception-unit", "PB-MIDLAND:2"],
        cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        fleet = load_fleet(REPO / "config" / "fleet.yaml")
        for station in STATIONS:
            wait_for_port(fleet.station(station).panel.port + offset, timeout=60)
        yield offset
    finally:
        sim.terminate()
        sim.wait(20)
        log.close()


def _panel_options(offset: int) -> list[dict[str, object]]:
    fleet = load_fleet(REPO / "config" / "fleet.yaml")
    options = []
    for station_id in STATIONS:
        station = fleet.station(station_id)
        for compressor in station.compressors:
            options.append(
                {
                    "compressor_id": compressor.id,
                    "register_map": station.panel.register_map,
                    "host": "127.0.0.1",
                    "port": station.panel.port + offset,
                    "device_id": compressor.unit_id,
                    "poll_interval_s": 0.5,
                    "timeout_s": 0.3,
                    "retries": 1,
                    "reconnect_max_s": 2.0,
                }
            )
    return options


def test_simulator_panels_with_a_silent_and_a_refusing_unit(
    panels: int, mosquitto: Mosquitto, tmp_path: Path
) -> None:
    hub = hub_settings(tmp_path, mosquitto.port)
    ingest = start_ingest(hub)
    settings = EdgeSettings.load(
        None,
        org_id="org-a",
        station_id="STATION-1",
        mqtt={"port": mosquitto.port, "reconnect_min_s": 0.2, "reconnect_max_s": 1},
        buffer={"path": tmp_path / "edge" / "buffer.duckdb"},
        http={"enabled": False},
        uplink={"batch_max_rows": 50, "batch_max_age_s": 0.5},
    )
    options = {"poll_interval_s": 0.2, "panels": _panel_options(panels)}
    agent = Agent(settings, source=load_source("modbus", station_id="STATION-1", options=options))
    with AgentThread(agent):
        wait_until(lambda: agent.stats.last_seq >= 60, timeout=60, what="readings from six units")
        wait_until(
            lambda: (
                agent.snapshot["panels"].get("COMP-003", {}).get("state") == "comm_error"
                and agent.snapshot["panels"].get("COMP-005", {}).get("state") == "device_exception"
            ),
            timeout=30,
            what="panel states",
        )
    ingest.stop()
    assert_exactly_once(hub.landing_dir, agent.stats.last_seq)
    landed = pq.read_table(list(hub.landing_dir.rglob("*.parquet")))
    quality: dict[str, set[int]] = {}
    for compressor in ("COMP-001", "COMP-002", "COMP-003", "COMP-004", "COMP-005", "COMP-006"):
        rows = landed.filter(pc.equal(landed.column("compressor_id"), compressor))
        assert rows.num_rows > 0, compressor
        quality[compressor] = set(rows.column("discharge_temp_f_quality").to_pylist())
    assert quality["COMP-003"] == {int(Quality.COMM_ERROR)}
    assert quality["COMP-005"] == {int(Quality.DEVICE_EXCEPTION)}
    for healthy in ("COMP-001", "COMP-002", "COMP-004", "COMP-006"):
        assert int(Quality.OK) in quality[healthy], (healthy, quality[healthy])
