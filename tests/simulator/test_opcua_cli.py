"""`altaviz-sim serve-opcua`: the stations' compressors on a real OPC UA server process."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from edge_agent.opcua.source import OpcUaSourceFactory
from shared.schema import Quality
from simulator.opcua import node_ids
from tests.support.services import free_port

REPO = Path(__file__).resolve().parents[2]


def test_serve_opcua_serves_what_the_agent_reads() -> None:
    endpoint = f"opc.tcp://127.0.0.1:{free_port()}/altaviz/"
    server = subprocess.Popen(
        [sys.executable, "-m", "simulator", "--log-level", "WARNING", "serve-opcua",
         "--station", "PB-MIDLAND", "--endpoint", endpoint, "--duration", "90", "--speed", "60"],
        cwd=REPO, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        assert f"OPC UA panels on {endpoint}" in line, line
        assert "node ids like ns=2;s=" in line
        compressor = line.split("ns=2;s=")[1].split(".")[0]
        source = OpcUaSourceFactory(
            station_id="PB-MIDLAND",
            options={"endpoint": endpoint, "poll_interval_s": 0.2,
                     "panels": [{"compressor_id": compressor, "nodes": node_ids(compressor)}]},
        )  # fmt: skip
        try:
            deadline, values = time.monotonic() + 20, set()
            while time.monotonic() < deadline and len(values) < 2:
                for reading in source.poll():
                    if reading.quality["discharge_temp_f"] == Quality.OK:
                        values.add(reading.values["discharge_temp_f"])
                time.sleep(0.2)
            assert len(values) >= 2, "the simulated clock (x60) moves the values"
        finally:
            source.close()
    finally:
        server.terminate()
        assert server.wait(20) == 0
