"""Compressor performance as Spark Columns over minute or hour aggregates. Pure.

The formulas are `shared.performance`'s, applied to Columns (they use only arithmetic,
so there is one definition for gold, the portal and the simulator). Inputs are the
`<sensor><means>` columns of an aggregate (`_mean`, or `_running_mean` for an hour) and
the unit's number of stages; a value is null where the unit was not running (all the
minute, or `perf.MIN_RUNNING_MINUTES_PER_HOUR` of the hour) or an input is missing or
not physical. Gold's hourly table adds them with `hourly_performance_columns()`.
"""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F

from shared import performance as perf

#: The columns `performance_columns` returns, each with its unit in its name.
PERFORMANCE_COLUMNS = (
    "stage_compression_ratio",
    "ideal_discharge_temp_f",
    "discharge_temp_excess_f",
    "isentropic_gas_hp",
    "adiabatic_efficiency",
)


def performance_columns(
    *,
    stages: Column | None = None,
    running: Column | None = None,
    inlet_temp_f: float = perf.DEFAULT_STAGE_INLET_TEMP_F,
    gas_k: float = perf.DEFAULT_GAS_K,
    gas_z: float = perf.DEFAULT_GAS_Z,
    mechanical_efficiency: float = perf.DEFAULT_MECHANICAL_EFFICIENCY,
    means: str = "_mean",
) -> dict[str, Column]:
    """Name -> Column of each performance figure of a compressor-minute.

    `stages` defaults to a `stages` column (join the assets first); `running` defaults to
    "every reading of the minute was in the running state" (n_running == n_readings).
    """
    stages = F.col("stages").cast("double") if stages is None else stages
    if running is None:
        running = (F.col("n_running") == F.col("n_readings")) & (F.col("n_readings") > 0)
    suction_psig = F.col(f"suction_pressure_psi{means}")
    discharge_psig = F.col(f"discharge_pressure_psi{means}")
    measured_f = F.col(f"discharge_temp_f{means}")
    brake_hp = F.col(f"horsepower_consumption{means}")
    flow_mmscfd = perf.mmscfd_from_mcfd(F.col(f"gas_flow_mcf{means}"))

    ratio = perf.stage_compression_ratio(suction_psig, discharge_psig, stages)
    ideal_f = perf.isentropic_discharge_temp_f(F.lit(inlet_temp_f), ratio, gas_k)
    gas_hp = perf.isentropic_gas_hp(flow_mmscfd, F.lit(inlet_temp_f), ratio, stages, gas_k, gas_z)
    compressing = (
        running
        & (perf.psia_from_psig(suction_psig) > 0)
        & (discharge_psig > suction_psig)
        & (stages >= 1)
    )
    powered = compressing & (brake_hp > 0) & (flow_mmscfd > 0)
    return {
        "stage_compression_ratio": F.when(compressing, ratio),
        "ideal_discharge_temp_f": F.when(compressing, ideal_f),
        "discharge_temp_excess_f": F.when(
            compressing, perf.discharge_temp_excess_f(measured_f, ideal_f)
        ),
        "isentropic_gas_hp": F.when(powered, gas_hp),
        "adiabatic_efficiency": F.when(
            powered, perf.adiabatic_efficiency(gas_hp, brake_hp, mechanical_efficiency)
        ),
    }


def hourly_performance_columns(*, stages: Column) -> dict[str, Column]:
    """The figures of a compressor-hour from its running means (the minutes the unit ran),
    null for an hour it ran fewer than `perf.MIN_RUNNING_MINUTES_PER_HOUR` minutes."""
    return performance_columns(
        stages=stages,
        running=F.col("n_running_minutes") >= perf.MIN_RUNNING_MINUTES_PER_HOUR,
        means="_running_mean",
    )
