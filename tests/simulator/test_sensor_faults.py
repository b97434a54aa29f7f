"""Sensor faults change what is reported, are labelled, and never touch the truth."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from shared.schema import SENSOR_FIELDS, Quality, ReadingFlag
from simulator.engine import Chunk, Simulation
from simulator.sensors import FAULT_BIT
from tests.simulator.support import simulation, unit, whole_run

WINDOW = {"start": "+2h", "end": "+4h"}


def pair(
    fault: dict[str, Any], compressor: str = "COMP-001", *, resolution_s: int = 60
) -> tuple[Simulation, Chunk, Chunk]:
    faulty = simulation(
        duration="6h", resolution_s=resolution_s, sensor_faults=[{**WINDOW, **fault}]
    )
    healthy = simulation(duration="6h", resolution_s=resolution_s)
    u = unit(faulty, compressor)
    return faulty, whole_run(faulty, [u]), whole_run(healthy, [u])


def window(sim: Simulation, chunk: Chunk) -> np.ndarray:
    minutes = (chunk.t - sim.scenario.start_s) // 60
    return (minutes >= 120) & (minutes < 240)


def assert_truth_untouched(faulty: Chunk, healthy: Chunk) -> None:
    for sensor in SENSOR_FIELDS:
        np.testing.assert_array_equal(
            getattr(faulty.physics, sensor), getattr(healthy.physics, sensor)
        )


def test_stuck_value_repeats_the_reading_at_its_start() -> None:
    sim, faulty, healthy = pair(
        {"kind": "stuck", "compressor": "COMP-001", "sensor": "discharge_temp_f"}
    )
    inside = window(sim, faulty)
    values = faulty.reported.values["discharge_temp_f"][0]
    assert len(set(values[inside].tolist())) == 1
    assert values[inside][0] == healthy.reported.values["discharge_temp_f"][0][inside][0]
    assert len(set(healthy.reported.values["discharge_temp_f"][0][inside].tolist())) > 10
    np.testing.assert_array_equal(
        values[~inside], healthy.reported.values["discharge_temp_f"][0][~inside]
    )
    assert (faulty.reported.sensor_fault_mask[0, inside] == FAULT_BIT["stuck"]).all()
    assert (faulty.reported.sensor_fault_mask[0, ~inside] == 0).all()
    assert_truth_untouched(faulty, healthy)


def test_unit_dropout_is_a_comm_error_with_unknown_state() -> None:
    sim, faulty, healthy = pair({"kind": "dropout", "compressor": "COMP-001"})
    inside = window(sim, faulty)
    assert (
        faulty.reported.unit_dropout[0, inside].all()
        and not faulty.reported.unit_dropout[0, ~inside].any()
    )
    for sensor in SENSOR_FIELDS:
        assert np.isnan(faulty.reported.values[sensor][0, inside]).all()
        assert (faulty.reported.quality[sensor][0, inside] == Quality.COMM_ERROR).all()
        assert (faulty.reported.quality[sensor][0, ~inside] == Quality.OK).all()
    assert_truth_untouched(faulty, healthy)


def test_sensor_dropout_is_not_a_number() -> None:
    sim, faulty, _ = pair(
        {"kind": "dropout", "compressor": "COMP-001", "sensor": "suction_pressure_psi"}
    )
    inside = window(sim, faulty)
    assert np.isnan(faulty.reported.values["suction_pressure_psi"][0, inside]).all()
    assert (
        faulty.reported.quality["suction_pressure_psi"][0, inside] == Quality.NOT_A_NUMBER
    ).all()
    assert not np.isnan(faulty.reported.values["discharge_pressure_psi"][0, inside]).any()


def test_spikes_are_rare_large_and_labelled_one_by_one() -> None:
    sim, faulty, healthy = pair(
        {
            "kind": "spike",
            "compressor": "COMP-001",
            "sensor": "vibration_mms",
            "rate": 0.1,
            "magnitude": 1.0,
        },
        resolution_s=10,
    )
    inside = window(sim, faulty)
    share = faulty.reported.values["vibration_mms"][0] / healthy.reported.values["vibration_mms"][0]
    spiked = np.abs(share - 1.0) > 0.3
    assert not spiked[~inside].any()
    assert 0.05 < spiked[inside].mean() < 0.15
    labelled = (faulty.reported.sensor_fault_mask[0] & FAULT_BIT["spike"]) > 0
    np.testing.assert_array_equal(labelled, spiked)
    assert_truth_untouched(faulty, healthy)


def test_drift_grows_linearly_to_its_magnitude() -> None:
    sim, faulty, healthy = pair(
        {"kind": "drift", "compressor": "COMP-001", "sensor": "discharge_temp_f", "magnitude": 12.0}
    )
    inside = window(sim, faulty)
    offset = (
        faulty.reported.values["discharge_temp_f"][0]
        - healthy.reported.values["discharge_temp_f"][0]
    )
    assert np.abs(offset[~inside]).max() == 0
    expected = 12.0 * (np.arange(inside.sum()) * 60) / 7200.0
    np.testing.assert_allclose(offset[inside], expected, atol=0.11)
    assert_truth_untouched(faulty, healthy)


def test_gateway_clock_skew_jumps_ahead_then_slews_back() -> None:
    sim = simulation(
        duration="6h",
        resolution_s=60,
        sensor_faults=[{"kind": "clock_skew", "station": "EF-KARNES", **WINDOW, "magnitude": 300}],
    )
    chunk = whole_run(sim)
    inside = window(sim, chunk)
    stamps = chunk.reported.timestamp_us
    true_us = chunk.t * 1_000_000
    karnes = np.array([s == "EF-KARNES" for s in sim.units.station_ids])
    assert (stamps[karnes][:, inside][:, 0] - true_us[inside][0] == 300_000_000).all()
    assert (stamps[~karnes] == true_us).all() and (
        stamps[karnes][:, ~inside] == true_us[~inside]
    ).all()
    assert (
        np.diff(stamps, axis=1) > 0
    ).all()  # never backwards: no duplicate (compressor, timestamp)
    jumped = (chunk.reported.flags & int(ReadingFlag.CLOCK_JUMP)) > 0
    assert jumped[karnes].sum(axis=1).tolist() == [1, 1, 1] and not jumped[~karnes].any()
    assert (
        (chunk.reported.sensor_fault_mask[karnes][:, inside] & FAULT_BIT["clock_skew"]) > 0
    ).all()


@pytest.mark.parametrize(
    ("fault", "problem"),
    [
        ({"kind": "stuck", "compressor": "COMP-001"}, "stuck names a sensor"),
        ({"kind": "clock_skew", "compressor": "COMP-001"}, "clock_skew names a station"),
        ({"kind": "drift", "compressor": "COMP-001", "sensor": "speed"}, "unknown sensor 'speed'"),
        (
            {"kind": "stuck", "compressor": "COMP-999", "sensor": "vibration_mms"},
            "not in the fleet",
        ),
        ({"kind": "clock_skew", "station": "EF-KARNES", "magnitude": 6000}, "slew back"),
    ],
)
def test_bad_sensor_faults_are_refused(fault: dict[str, Any], problem: str) -> None:
    from simulator.errors import ScenarioError

    with pytest.raises(ScenarioError, match=problem):
        simulation(sensor_faults=[{**WINDOW, **fault}])
