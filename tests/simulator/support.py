"""Helpers for simulator tests: scenarios as data, runs as arrays."""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np

from shared.fleet import Fleet, load_fleet
from simulator.engine import Chunk, Simulation
from simulator.scenario import Scenario, load_scenario_data

START = "2026-07-06T00:00:00Z"  # a Monday in a Texas summer
DAY = 86400


@cache
def default_fleet() -> Fleet:
    return load_fleet()


def scenario(**fields: Any) -> Scenario:
    """A scenario with test defaults: one day, one-minute readings, nothing scheduled."""
    data: dict[str, Any] = {
        "name": "test",
        "seed": 11,
        "start": START,
        "duration": "1d",
        "resolution_s": 60,
    }
    data.update(fields)
    return load_scenario_data(data, source="test scenario")


def simulation(fleet: Fleet | None = None, **fields: Any) -> Simulation:
    return Simulation(fleet or default_fleet(), scenario(**fields))


def whole_run(sim: Simulation, idx: list[int] | None = None) -> Chunk:
    """Every instant of the run for units `idx` (default all) in one chunk."""
    t = np.arange(
        sim.scenario.start_s, sim.scenario.end_s, sim.scenario.resolution_s, dtype=np.int64
    )
    return sim.chunk(t, None if idx is None else np.array(idx))


def unit(sim: Simulation, compressor_id: str) -> int:
    return sim.units.index_of(compressor_id)
