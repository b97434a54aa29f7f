"""The demo's acquisition path: simulated panels in accelerated, paced time, polled over Modbus.

The simulator's panels follow a clock another process paces (a segment file) and hold
each instant until every unit was asked for it (lockstep); the agent's Modbus source
stamps readings with the panel's clock register. One station answers in RTU framing
over TCP. The agent must get exactly one reading per unit per simulated interval,
with the values the simulator reports for that instant.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from edge_agent.modbus.source import ModbusSourceFactory
from shared.fleet import load_fleet
from shared.schema import Quality
from simulator.engine import Simulation
from simulator.live import ClockSegment, SharedClock
from simulator.panels import PanelServers
from simulator.scenario import load_scenario
from tests.support.services import free_port

STATIONS = ("EF-KARNES", "PB-MIDLAND")  # standard-scaled over Modbus TCP; float32 over RTU
START = datetime(2026, 7, 9, 3, 0, tzinfo=UTC)
INTERVAL_S = 60
INSTANTS = 30
SPEED = 3000.0  # an interval every 20 ms: faster than the agent polls, hence the lockstep


@pytest.fixture
def panels(tmp_path: Path) -> Iterator[tuple[Simulation, PanelServers, Path]]:
    fleet = load_fleet(None)
    scenario = load_scenario("prototype-7day").with_overrides(start=START, resolution_s=INTERVAL_S)
    sim = Simulation(fleet, scenario, stations=list(STATIONS))
    clock_file = tmp_path / "clock.json"
    start_s = START.timestamp()
    last_s = start_s + INTERVAL_S * (INSTANTS - 1)
    ClockSegment(start_s, time.time() + 1.0, SPEED, last_s).write(clock_file)
    offset = free_port() - min(fleet.station(s).panel.port for s in STATIONS)
    servers = PanelServers(
        sim,
        clock=SharedClock(clock_file),
        stations=STATIONS,
        host="127.0.0.1",
        port_offset=offset,
        step_s=INTERVAL_S,
        rtu_stations=["PB-MIDLAND"],
        lockstep_wait_s=2.0,
        update_s=0.05,
    )
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    thread = threading.Thread(target=loop.run_until_complete, args=(servers.run(stop),))
    thread.start()
    deadline = time.monotonic() + 10
    while len(servers.addresses) < len(STATIONS) and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield sim, servers, clock_file
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=10)


def test_one_reading_per_unit_per_interval_stamped_by_the_panel_clock(
    panels: tuple[Simulation, PanelServers, Path],
) -> None:
    sim, servers, _ = panels
    options = []
    for station_id in STATIONS:
        station = sim.fleet.station(station_id)
        host, port = servers.addresses[station_id]
        for unit in station.compressors:
            options.append(
                {
                    "compressor_id": unit.id,
                    "register_map": station.panel.register_map,
                    "host": host,
                    "port": port,
                    "device_id": unit.unit_id,
                    "framer": "rtu" if station_id == "PB-MIDLAND" else "socket",
                    "clock": "panel",
                    "poll_interval_s": 0.01,
                    "timeout_s": 0.5,
                }
            )
    source = ModbusSourceFactory(
        station_id="EF-KARNES", options={"poll_interval_s": 0.1, "panels": options}
    )
    readings = []
    deadline = time.monotonic() + 60
    try:
        while len(readings) < INSTANTS * len(options) and time.monotonic() < deadline:
            readings += source.poll()
            time.sleep(0.05)
        time.sleep(0.3)  # nothing more once the clock holds at its last instant
        readings += source.poll()
        status = source.panel_status()
    finally:
        source.close()

    instants = [int(START.timestamp()) + INTERVAL_S * k for k in range(INSTANTS)]
    expected = sim.chunk(np.array(instants, dtype=np.int64), step_s=INTERVAL_S)
    by_unit: dict[str, list[int]] = {}
    for reading in readings:
        by_unit.setdefault(reading.compressor_id, []).append(int(reading.timestamp.timestamp()))
    assert sorted(by_unit) == sorted(o["compressor_id"] for o in options)
    for compressor_id, stamps in by_unit.items():
        assert stamps == instants, compressor_id  # every instant once, in order, none skipped
    for reading in readings:
        row = int(np.flatnonzero(expected.idx == sim.units.index_of(reading.compressor_id))[0])
        column = instants.index(int(reading.timestamp.timestamp()))
        wanted = float(expected.reported.values["discharge_temp_f"][row, column])
        assert reading.quality["discharge_temp_f"] == Quality.OK
        assert reading.values["discharge_temp_f"] == pytest.approx(wanted, abs=0.06)
    last = datetime.fromtimestamp(instants[-1], UTC).isoformat()
    for compressor_id, panel in status.items():
        assert panel.last_ok_at == last, compressor_id  # the panel's clock, not the gateway's
        assert panel.requests >= INSTANTS, compressor_id
        assert panel.errors == 0 and panel.timeouts == 0, (compressor_id, panel)
        assert panel.latency_p95_ms is not None and panel.latency_p95_ms > 0


def test_a_restarted_agent_does_not_take_buffered_instants_again(
    panels: tuple[Simulation, PanelServers, Path],
) -> None:
    sim, servers, _ = panels
    station = sim.fleet.station("EF-KARNES")
    host, port = servers.addresses["EF-KARNES"]
    unit = station.compressors[0]
    resume = datetime.fromtimestamp(START.timestamp() + INTERVAL_S * (INSTANTS - 1), UTC)
    source = ModbusSourceFactory(
        station_id="EF-KARNES",
        resume_after=resume,
        options={
            "panels": [
                {"compressor_id": unit.id, "register_map": station.panel.register_map,
                 "host": host, "port": port, "device_id": unit.unit_id, "clock": "panel",
                 "poll_interval_s": 0.01}
            ]
        },
    )  # fmt: skip
    try:
        time.sleep(3.0)  # the clock runs to its last instant (the resume point) and holds
        readings = source.poll()
        polls = source.panel_status()[unit.id].polls
    finally:
        source.close()
    assert polls > 10
    assert readings == []


def _karnes_source(
    servers: PanelServers, sim: Simulation, *, poll_interval_s: float, resume_after: datetime | None
) -> Any:
    station = sim.fleet.station("EF-KARNES")
    host, port = servers.addresses["EF-KARNES"]
    return ModbusSourceFactory(
        station_id="EF-KARNES",
        resume_after=resume_after,
        options={
            "panels": [
                {"compressor_id": unit.id, "register_map": station.panel.register_map,
                 "host": host, "port": port, "device_id": unit.unit_id, "clock": "panel",
                 "poll_interval_s": poll_interval_s}
                for unit in station.compressors
            ]
        },
    )  # fmt: skip


def _stamps(readings: list[Any]) -> list[int]:
    return sorted({int(r.timestamp.timestamp()) for r in readings})


def test_a_stopped_agent_misses_what_its_panel_served_meanwhile(
    panels: tuple[Simulation, PanelServers, Path],
) -> None:
    """Lockstep waits for a slow gateway, not for one that is gone: once no gateway has been
    connected for the lockstep wait, the panel follows the clock, and the agent that comes
    back reads the current instant (the demo's outage drill leaves a real gap)."""
    sim, servers, _ = panels
    instants = [int(START.timestamp()) + INTERVAL_S * k for k in range(INSTANTS)]
    # Slower than the clock: the panel holds each instant for this agent (lockstep).
    first = _karnes_source(servers, sim, poll_interval_s=0.3, resume_after=None)
    before: list[Any] = []
    try:
        deadline = time.monotonic() + 20
        while len(_stamps(before)) < 3 and time.monotonic() < deadline:
            before += first.poll()
            time.sleep(0.05)
    finally:
        first.close()
    read_before = _stamps(before)
    assert read_before[:3] == instants[:3] and read_before[-1] < instants[-5], read_before
    time.sleep(2.0 + 0.5)  # the lockstep wait with no gateway; the clock holds at its end
    again = _karnes_source(
        servers, sim, poll_interval_s=0.01,
        resume_after=datetime.fromtimestamp(read_before[-1], UTC),
    )  # fmt: skip
    after: list[Any] = []
    try:
        deadline = time.monotonic() + 10
        while not after and time.monotonic() < deadline:
            after += again.poll()
            time.sleep(0.05)
        time.sleep(0.3)
        after += again.poll()
    finally:
        again.close()
    assert _stamps(after) == [instants[-1]]  # where the clock is, not where the agent left
