"""Physical plausibility of healthy units (issue 3 acceptance)."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from simulator.engine import Chunk, Simulation
from simulator.schedule import RUNNING
from tests.simulator.support import scenario, simulation, unit, whole_run

#: Stated tolerance: measured discharge temperature vs. the compression relation
#: evaluated on the unit's true pressures and inlet temperature (sensor noise
#: sd 0.3 °F, register resolution 0.1 °F).
DISCHARGE_TEMP_TOLERANCE_F = 1.5
#: Using the *measured* pressures instead (what an analyst would do).
DISCHARGE_TEMP_TOLERANCE_MEASURED_F = 2.5
GPSA_TOLERANCE = 0.15
GPSA_F = {1: 1.00, 2: 1.08, 3: 1.10}
VIBRATION_BAND = (0.6, 1.25)  # x vibration_base_mms while running


@cache
def healthy_year() -> tuple[Simulation, Chunk]:
    """The default fleet, healthy, hourly through a year (all seasons, all hours)."""
    sim = simulation(start="2026-01-01T00:00:00Z", duration="365d", resolution_s=3600, seed=3)
    return sim, whole_run(sim)


def compression_relation(
    t1_f: np.ndarray, ps_psig: np.ndarray, pd_psig: np.ndarray, *, stages: int, k: float, eta: float
) -> np.ndarray:
    """T2 = T1 + (T1 * r^((k-1)/k) - T1) / eta, absolute temperatures, r per stage."""
    t1_r = t1_f + 459.67
    ratio = ((pd_psig + 14.7) / (ps_psig + 14.7)) ** (1.0 / stages)
    t2s_r = t1_r * ratio ** ((k - 1.0) / k)
    return t1_r + (t2s_r - t1_r) / eta - 459.67


def test_discharge_temperature_follows_the_compression_relation() -> None:
    sim, chunk = healthy_year()
    truth, reported = chunk.physics, chunk.reported.values
    for row, u in enumerate(chunk.idx):
        compressor = sim.fleet.compressor(sim.units.compressor_ids[u])[1]
        station = sim.units.stations[int(sim.units.station_index[u])]
        running = truth.state[row] == RUNNING
        assert running.all()
        expected = compression_relation(
            truth.stage_inlet_temp_f[row],
            truth.suction_pressure_psi[row],
            truth.discharge_pressure_psi[row],
            stages=compressor.stages,
            k=station.line.gas_k,
            eta=compressor.characteristics.value("isentropic_efficiency"),
        )
        error = np.abs(reported["discharge_temp_f"][row] - expected)
        assert error.max() <= DISCHARGE_TEMP_TOLERANCE_F, compressor.id
        measured = compression_relation(
            truth.stage_inlet_temp_f[row],
            reported["suction_pressure_psi"][row],
            reported["discharge_pressure_psi"][row],
            stages=compressor.stages,
            k=station.line.gas_k,
            eta=compressor.characteristics.value("isentropic_efficiency"),
        )
        assert (
            np.abs(reported["discharge_temp_f"][row] - measured).max()
            <= DISCHARGE_TEMP_TOLERANCE_MEASURED_F
        )
        # Single-stage units compress suction gas; later stages get cooler-outlet gas.
        if compressor.stages == 1:
            np.testing.assert_allclose(truth.stage_inlet_temp_f[row], truth.suction_temp_f[row])
        else:
            assert (truth.stage_inlet_temp_f[row] > truth.ambient_f[row]).all()


def test_horsepower_is_within_15_percent_of_the_gpsa_estimate() -> None:
    sim, chunk = healthy_year()
    reported = chunk.reported.values
    for row, u in enumerate(chunk.idx):
        stages = int(sim.units["stages"][u])
        ratio = (
            (reported["discharge_pressure_psi"][row] + 14.7)
            / (reported["suction_pressure_psi"][row] + 14.7)
        ) ** (1.0 / stages)
        mmscfd = reported["gas_flow_mcf"][row] / 1000.0
        gpsa = 22.0 * ratio * stages * mmscfd * GPSA_F[stages]
        share = reported["horsepower_consumption"][row] / gpsa
        assert share.min() >= 1 - GPSA_TOLERANCE and share.max() <= 1 + GPSA_TOLERANCE, (
            sim.units.compressor_ids[u],
            share.min(),
            share.max(),
        )
        # and a unit never draws more than its driver's rating
        assert reported["horsepower_consumption"][row].max() <= sim.units["rated_hp"][u]


def test_healthy_vibration_stays_in_its_band_at_every_resolution() -> None:
    sim, chunk = healthy_year()
    per_second = simulation(duration="6h", resolution_s=1, seed=5)
    fine = whole_run(per_second, [0, 6, 9])
    for run, data in ((sim, chunk), (per_second, fine)):
        for row, u in enumerate(data.idx):
            base = run.units["vib_base"][u]
            share = data.reported.values["vibration_mms"][row] / base
            assert VIBRATION_BAND[0] <= share.min() and share.max() <= VIBRATION_BAND[1], (
                run.units.compressor_ids[u]
            )
    # units differ: each has its own base level
    assert len(set(np.round(sim.units["vib_base"], 2))) >= 8


def test_ambient_is_texan_daily_and_seasonal() -> None:
    sim, chunk = healthy_year()
    midland = chunk.physics.ambient_f[unit(sim, "COMP-004")]
    hours = (chunk.t // 3600) % 24
    months = chunk.t.astype("datetime64[s]").astype("datetime64[M]").astype(int) % 12
    july, january = midland[months == 6], midland[months == 0]
    assert 75 < july.mean() < 90 and 35 < january.mean() < 55
    assert july.max() < 112 and january.min() > 0
    # afternoons (21-23 UTC ~ 15-17 local) are warmer than dawns (11-13 UTC)
    assert (
        midland[np.isin(hours, [21, 22, 23])].mean()
        > midland[np.isin(hours, [11, 12, 13])].mean() + 12
    )


def test_demand_cycles_move_pressures_and_flow() -> None:
    sim = simulation(duration="14d", resolution_s=600, seed=9)
    chunk = whole_run(sim, [unit(sim, "COMP-001")])
    flow = chunk.physics.gas_flow_mcf[0]
    suction = chunk.physics.suction_pressure_psi[0]
    hours = ((chunk.t + int(-97.9 / 15 * 3600)) // 3600) % 24
    evening, morning = np.isin(hours, [17, 18, 19]), np.isin(hours, [5, 6, 7])
    assert flow[evening].mean() > flow[morning].mean()  # more demand, more speed, more flow
    assert (
        suction[evening].mean() < suction[morning].mean()
    )  # the unit draws the gathering line down
    weekday = ((chunk.t // 86400 + 3) % 7)[None, :][0]
    assert flow[np.isin(weekday, [1, 2, 3])].mean() > flow[np.isin(weekday, [5, 6])].mean()


def test_flow_comes_from_speed_and_volumetric_efficiency() -> None:
    sim, chunk = healthy_year()
    row = unit(sim, "COMP-001")
    truth = chunk.physics
    # At similar suction conditions, flow is proportional to speed.
    ps, ts = truth.suction_pressure_psi[row], truth.suction_temp_f[row]
    normalized = truth.gas_flow_mcf[row] / ((ps + 14.7) / (ts + 459.67))
    correlation = np.corrcoef(normalized, truth.speed_rpm[row])[0, 1]
    assert correlation > 0.95


@pytest.mark.parametrize("state", ["standby_pressurized", "shutdown_depressurized"])
def test_stopped_units_settle_or_blow_down(state: str) -> None:
    sim = simulation(
        duration="12h",
        operating_events=[{"compressor": "COMP-001", "state": state, "start": "+2h", "end": "+6h"}],
    )
    chunk = whole_run(sim, [0])
    truth = chunk.physics
    minutes = (chunk.t - sim.scenario.start_s) // 60
    stopped = (minutes >= 150) & (minutes < 360)
    assert (truth.horsepower_consumption[0, stopped] == 0).all() and (
        truth.gas_flow_mcf[0, stopped] == 0
    ).all()
    assert (truth.vibration_mms[0, stopped] < 0.2).all()
    if state == "standby_pressurized":
        # suction and discharge settle out between the line pressures
        assert (truth.suction_pressure_psi[0, stopped] > 200).all()
        np.testing.assert_allclose(
            truth.suction_pressure_psi[0, stopped],
            truth.discharge_pressure_psi[0, stopped],
            rtol=0.01,
        )
    else:
        assert (truth.discharge_pressure_psi[0, stopped] < 1.0).all()
    # discharge temperature cools towards ambient, then the startup warms it up again
    assert (
        truth.discharge_temp_f[0, minutes == 359] < truth.discharge_temp_f[0, minutes == 119] - 50
    )
    states = truth.state[0]
    assert (
        states[minutes == 365] == 2 and states[minutes == 400] == RUNNING
    )  # startup, then running
    assert (
        truth.discharge_temp_f[0, minutes == 420] > truth.discharge_temp_f[0, minutes == 365] + 30
    )


def test_methane_vents_by_operating_mode_and_fuel_follows_horsepower() -> None:
    sim = simulation(
        duration="12h",
        operating_events=[
            {
                "compressor": "COMP-001",
                "state": "standby_pressurized",
                "start": "+2h",
                "end": "+4h",
            },
            {
                "compressor": "COMP-002",
                "state": "shutdown_depressurized",
                "start": "+2h",
                "end": "+4h",
            },
        ],
    )
    chunk = whole_run(sim, [0, 1])
    truth = chunk.physics
    minutes = (chunk.t - sim.scenario.start_s) // 60
    running, stopped = minutes < 100, (minutes > 150) & (minutes < 230)
    assert (truth.methane_vent_scfh[:, running] > 0).all()
    # standby-pressurized adds blowdown-valve leakage; depressurized leaves only isolation-valve leakage
    assert truth.methane_vent_scfh[0, stopped].mean() > truth.methane_vent_scfh[0, running].mean()
    assert truth.methane_vent_scfh[1, stopped].mean() < truth.methane_vent_scfh[1, running].mean()
    heat_rate = sim.fleet.compressor("COMP-001")[1].driver.heat_rate_btu_per_bhp_h
    np.testing.assert_allclose(
        truth.fuel_scfh[0], truth.horsepower_consumption[0] * heat_rate / 1020.0, rtol=1e-9
    )
    assert (truth.fuel_scfh[:, stopped] == 0).all()


def test_scenario_helper_defaults_are_sane() -> None:
    assert scenario().duration == 86400
