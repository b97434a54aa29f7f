"""Equipment faults: each signature appears after onset and not before (issue 3 acceptance).

Every test compares a run with the fault against the same run without it
(same seed): the noise is a function of unit and instant, so before the onset
the two runs must report exactly the same values.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from shared.schema import SENSOR_FIELDS
from simulator.engine import Chunk, Simulation
from simulator.schedule import RUNNING, SHUTDOWN, STARTUP
from tests.simulator.support import simulation, unit, whole_run

ONSET_DAY, FAILURE_DAY, REPAIR_DAY = 2, 6, 6.5
COMPRESSOR = "COMP-002"  # Eagle Ford, three stages


def run_pair(
    mode: str, *, compressor: str = COMPRESSOR, resolution_s: int = 300
) -> tuple[Simulation, Chunk, Chunk]:
    fault = {
        "compressor": compressor,
        "mode": mode,
        "onset": f"+{ONSET_DAY}d",
        "failure": f"+{FAILURE_DAY}d",
        "repair": f"+{int(REPAIR_DAY * 24)}h",
    }
    faulty = simulation(duration="8d", resolution_s=resolution_s, equipment_faults=[fault])
    healthy = simulation(duration="8d", resolution_s=resolution_s)
    u = unit(faulty, compressor)
    return faulty, whole_run(faulty, [u]), whole_run(healthy, [u])


def phases(sim: Simulation, chunk: Chunk) -> tuple[np.ndarray, np.ndarray]:
    """Masks: before onset; the last quarter of the progression (well into the fault)."""
    days = (chunk.t - sim.scenario.start_s) / 86400.0
    before = days < ONSET_DAY
    late = (days >= ONSET_DAY + 0.75 * (FAILURE_DAY - ONSET_DAY)) & (days < FAILURE_DAY)
    return before, late


def reported(chunk: Chunk, sensor: str) -> np.ndarray:
    return chunk.reported.values[sensor][0]


def assert_identical_before_onset(sim: Simulation, faulty: Chunk, healthy: Chunk) -> None:
    before, _ = phases(sim, faulty)
    for sensor in SENSOR_FIELDS:
        np.testing.assert_array_equal(
            reported(faulty, sensor)[before], reported(healthy, sensor)[before], err_msg=sensor
        )
    np.testing.assert_array_equal(
        faulty.physics.methane_vent_scfh[0, before], healthy.physics.methane_vent_scfh[0, before]
    )
    assert (faulty.physics.load.mode_code[0, before] == -1).all()


def valve_leak(sim: Simulation, faulty: Chunk, healthy: Chunk) -> None:
    _, late = phases(sim, faulty)
    temp_rise = (
        reported(faulty, "discharge_temp_f")[late] - reported(healthy, "discharge_temp_f")[late]
    )
    flow_share = reported(faulty, "gas_flow_mcf")[late] / reported(healthy, "gas_flow_mcf")[late]
    assert temp_rise.mean() > 25.0
    assert flow_share.mean() < 0.85

    # efficiency (flow per horsepower) falls too
    def efficiency(chunk: Chunk) -> np.ndarray:
        return (
            reported(chunk, "gas_flow_mcf")[late] / reported(chunk, "horsepower_consumption")[late]
        )

    assert (efficiency(faulty) / efficiency(healthy)).mean() < 0.85


def bearing_wear(sim: Simulation, faulty: Chunk, healthy: Chunk) -> None:
    _, late = phases(sim, faulty)
    growth = reported(faulty, "vibration_mms") - reported(healthy, "vibration_mms")
    assert growth[late].mean() > 2.0
    # the growth accelerates: the second half of the progression adds more than the first
    days = (faulty.t - sim.scenario.start_s) / 86400.0
    mid = ONSET_DAY + 0.5 * (FAILURE_DAY - ONSET_DAY)
    first = growth[(days >= mid - 0.25) & (days < mid)].mean()
    last = growth[(days >= FAILURE_DAY - 0.25) & (days < FAILURE_DAY)].mean()
    assert last > 4 * first
    # and it reaches the protection trip level at the failure
    trip = sim.units["vib_trip"][unit(sim, COMPRESSOR)]
    assert (
        reported(faulty, "vibration_mms")[(days >= FAILURE_DAY - 0.05) & (days < FAILURE_DAY)].max()
        > 0.95 * trip
    )


def cooler_fouling(sim: Simulation, faulty: Chunk, healthy: Chunk) -> None:
    _, late = phases(sim, faulty)
    rise = reported(faulty, "discharge_temp_f") - reported(healthy, "discharge_temp_f")
    assert rise[late].mean() > 25.0
    # worse on hot afternoons
    ambient = faulty.physics.ambient_f[0]
    hot, cool = (
        late & (ambient > np.percentile(ambient[late], 75)),
        late & (ambient < np.percentile(ambient[late], 25)),
    )
    assert rise[hot].mean() > rise[cool].mean() + 8.0
    assert np.corrcoef(rise[late], ambient[late])[0, 1] > 0.5


def rod_packing_leak(sim: Simulation, faulty: Chunk, healthy: Chunk) -> None:
    _, late = phases(sim, faulty)
    share = faulty.physics.methane_vent_scfh[0, late] / healthy.physics.methane_vent_scfh[0, late]
    assert share.mean() > 10.0
    assert (
        faulty.physics.methane_vent_scfh[0, late] >= healthy.physics.methane_vent_scfh[0, late]
    ).all()


def driver_problem(sim: Simulation, faulty: Chunk, healthy: Chunk) -> None:
    _, late = phases(sim, faulty)
    swing = (
        reported(faulty, "horsepower_consumption") / reported(healthy, "horsepower_consumption")
        - 1.0
    )
    assert swing[late].std() > 0.03  # horsepower oscillates
    assert abs(swing[late].mean()) < 0.02  # around its healthy level


SIGNATURES: dict[str, Callable[[Simulation, Chunk, Chunk], None]] = {
    "valve_leak": valve_leak,
    "bearing_wear": bearing_wear,
    "cooler_fouling": cooler_fouling,
    "rod_packing_leak": rod_packing_leak,
    "driver_problem": driver_problem,
}


@pytest.mark.parametrize("mode", list(SIGNATURES))
def test_signature_appears_after_onset_and_not_before(mode: str) -> None:
    sim, faulty, healthy = run_pair(mode, resolution_s=60 if mode == "driver_problem" else 300)
    assert_identical_before_onset(sim, faulty, healthy)
    SIGNATURES[mode](sim, faulty, healthy)


@pytest.mark.parametrize("mode", list(SIGNATURES))
def test_failure_trips_the_unit_down_until_repair(mode: str) -> None:
    sim, faulty, _ = run_pair(mode)
    days = (faulty.t - sim.scenario.start_s) / 86400.0
    state = faulty.physics.state[0]
    assert (state[days < FAILURE_DAY] == RUNNING).all()
    assert (state[(days >= FAILURE_DAY) & (days < REPAIR_DAY)] == SHUTDOWN).all()
    assert state[(days >= REPAIR_DAY) & (days < REPAIR_DAY + 0.01)][0] == STARTUP
    assert (state[days >= REPAIR_DAY + 0.05] == RUNNING).all()
    # labels: severity 0 -> 1 over the progression, time to failure counts down to 0
    load = faulty.physics.load
    progressing = (days >= ONSET_DAY) & (days < FAILURE_DAY)
    assert np.all(np.diff(load.active_severity[0, progressing]) >= 0)
    assert np.all(np.diff(load.time_to_failure_s[0, progressing]) < 0)
    assert (load.mode_code[0, days >= REPAIR_DAY] == -1).all()
    # the trip blows the unit down: one blowdown event at the failure
    blowdowns = [b for b in sim.blowdowns() if b.compressor_id == COMPRESSOR]
    assert [b.time_s for b in blowdowns] == [sim.scenario.start_s + FAILURE_DAY * 86400]
    assert blowdowns[0].reason == f"trip: {mode}" and 5_000 < blowdowns[0].vented_scf < 60_000


def test_flow_never_rises_during_a_valve_leak() -> None:
    sim, faulty, healthy = run_pair("valve_leak", resolution_s=60)
    days = (faulty.t - sim.scenario.start_s) / 86400.0
    leaking = (days >= ONSET_DAY) & (days < FAILURE_DAY)
    for source in ("truth", "reported"):
        if source == "truth":
            leak, ok = faulty.physics.gas_flow_mcf[0], healthy.physics.gas_flow_mcf[0]
        else:
            leak, ok = reported(faulty, "gas_flow_mcf"), reported(healthy, "gas_flow_mcf")
        assert (leak[leaking] <= ok[leaking]).all(), source
    # relative to the healthy unit the flow only ever falls as the leak grows
    share = faulty.physics.gas_flow_mcf[0, leaking] / healthy.physics.gas_flow_mcf[0, leaking]
    assert np.all(np.diff(share) <= 1e-12)


def test_prototype_story_maps_onto_the_default_fleet() -> None:
    from simulator.engine import Simulation as Sim
    from simulator.scenario import load_scenario
    from tests.simulator.support import default_fleet

    sim = Sim(default_fleet(), load_scenario("prototype-7day"))
    faults = {f.compressor_id: f for f in sim.schedule.faults}
    start = sim.scenario.start_s
    assert (
        faults["COMP-003"].onset == start + 3 * 86400
        and start + 6 * 86400 <= faults["COMP-003"].failure < start + 7 * 86400
    )
    assert (
        faults["COMP-007"].onset == start + 5 * 86400
        and faults["COMP-007"].failure >= sim.scenario.end_s
    )
    chunk = sim.chunk(
        np.array([start + 5 * 86400 + 6 * 3600, start + 6 * 86400 + 12 * 3600]),
        np.array([unit(sim, "COMP-003"), unit(sim, "COMP-007")]),
    )
    assert chunk.physics.state[0, 1] == SHUTDOWN  # COMP-003 tripped on day 6
    assert chunk.physics.state[1, 1] == RUNNING  # COMP-007 still degrading
    assert chunk.physics.load.active_severity[1, 1] > chunk.physics.load.active_severity[1, 0] > 0
