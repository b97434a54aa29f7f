"""Performance Columns on a tiny minute frame agree with the pure formulas (shared.performance)."""

from __future__ import annotations

import pytest

from hub.lakehouse.performance import PERFORMANCE_COLUMNS, performance_columns
from shared import performance as perf


@pytest.mark.spark
def test_performance_columns_match_the_pure_formulas_and_skip_idle_minutes(spark) -> None:  # type: ignore[no-untyped-def]
    names = ["minute", "n_readings", "n_running", "stages", "suction_pressure_psi_mean",
             "discharge_pressure_psi_mean", "discharge_temp_f_mean",
             "horsepower_consumption_mean", "gas_flow_mcf_mean"]  # fmt: skip
    rows = [
        (0, 60, 60, 1, 85.3, 285.3, 270.0, 70.0, 1000.0),  # the hand-worked example
        (1, 60, 30, 1, 85.3, 285.3, 270.0, 70.0, 1000.0),  # stopped part of the minute
        (2, 60, 60, 1, 85.3, 285.3, 270.0, 0.0, 1000.0),  # no power reading: ratio only
    ]
    frame = spark.createDataFrame(rows, names)
    got = {
        r.minute: r
        for r in frame.withColumns(performance_columns(inlet_temp_f=80.0, gas_k=1.3, gas_z=1.0))
        .select("minute", *PERFORMANCE_COLUMNS)
        .collect()
    }
    ideal_f = perf.isentropic_discharge_temp_f(80.0, 3.0, 1.3)
    hp = perf.isentropic_gas_hp(1.0, 80.0, 3.0, 1, 1.3, 1.0)
    assert got[0].stage_compression_ratio == pytest.approx(3.0)
    assert got[0].ideal_discharge_temp_f == pytest.approx(ideal_f)
    assert got[0].discharge_temp_excess_f == pytest.approx(270.0 - ideal_f)
    assert got[0].isentropic_gas_hp == pytest.approx(hp)
    assert got[0].adiabatic_efficiency == pytest.approx(hp / (70.0 * 0.95))
    assert all(getattr(got[1], name) is None for name in PERFORMANCE_COLUMNS)
    assert got[2].stage_compression_ratio == pytest.approx(3.0)
    assert got[2].isentropic_gas_hp is None and got[2].adiabatic_efficiency is None
