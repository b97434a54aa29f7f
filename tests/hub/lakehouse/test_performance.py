"""Performance Columns on a tiny minute frame agree with the pure formulas (shared.performance)."""

from __future__ import annotations

import pytest
from delta.tables import DeltaTable
from pyspark.sql import functions as F
from pyspark.sql import types as T

from hub.lakehouse.performance import (
    PERFORMANCE_COLUMNS,
    hourly_performance_columns,
    performance_columns,
)
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


@pytest.mark.spark
def test_hourly_figures_use_running_means_and_need_most_of_the_hour_running(spark) -> None:  # type: ignore[no-untyped-def]
    names = ["hour", "n_running_minutes", "stages", "suction_pressure_psi_running_mean",
             "discharge_pressure_psi_running_mean", "discharge_temp_f_running_mean",
             "horsepower_consumption_running_mean", "gas_flow_mcf_running_mean",
             "suction_pressure_psi_mean"]  # fmt: skip
    rows = [
        (0, 60, 1, 85.3, 285.3, 270.0, 70.0, 1000.0, 10.0),  # the hand-worked example
        (1, perf.MIN_RUNNING_MINUTES_PER_HOUR - 1, 1, 85.3, 285.3, 270.0, 70.0, 1000.0, 10.0),
        (2, 60, None, 85.3, 285.3, 270.0, 70.0, 1000.0, 10.0),  # no fleet entry: no stages
    ]
    frame = spark.createDataFrame(rows, names)
    columns = hourly_performance_columns(stages=F.col("stages").cast("double"))
    got = {r.hour: r for r in frame.withColumns(columns).collect()}
    ratio_3 = perf.isentropic_discharge_temp_f(perf.DEFAULT_STAGE_INLET_TEMP_F, 3.0)
    assert got[0].stage_compression_ratio == pytest.approx(3.0)  # running means, not means
    assert got[0].ideal_discharge_temp_f == pytest.approx(ratio_3)
    assert got[0].adiabatic_efficiency is not None
    for hour in (1, 2):
        assert all(getattr(got[hour], name) is None for name in PERFORMANCE_COLUMNS)


@pytest.mark.spark
def test_a_lake_of_an_earlier_version_gains_the_new_columns(spark, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """ensure_tables on an existing hourly table without the performance columns adds them
    (nullable), keeps its rows, and then takes rows with them."""
    from hub.lakehouse.io import Lake
    from hub.lakehouse.tables import HOURLY

    lake = Lake(spark, str(tmp_path / "lake"))
    older = T.StructType([f for f in HOURLY.schema.fields if f.name not in PERFORMANCE_COLUMNS])
    DeltaTable.createIfNotExists(spark).location(lake.path(HOURLY)).addColumns(older).partitionedBy(
        *HOURLY.partition_by
    ).execute()
    lake.ensure_tables()
    found = lake.read(HOURLY).schema
    assert all(found[name].nullable for name in PERFORMANCE_COLUMNS)
    assert found["adiabatic_efficiency"].metadata.get("comment", "").startswith("gas hp")
    lake.ensure_tables()  # nothing left to add: a no-op
    assert lake.read(HOURLY).columns == found.fieldNames()
