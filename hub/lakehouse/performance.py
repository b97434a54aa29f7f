"""Compressor performance as Spark Columns over minute aggregates (features_1m). Pure.

The formulas are `shared.performance`'s, applied to Columns (they use only arithmetic,
so there is one definition for gold, the portal and the simulator). Inputs are the
`<sensor>_mean` columns of a minute aggregate and the unit's number of stages; a value
is null where the unit was not running all minute or an input is missing or not
physical. Gold adds them with `frame.withColumns(performance_columns(...))`.
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
) -> dict[str, Column]:
    """Name -> Column of each performance figure of a compressor-minute.

    `stages` defaults to a `stages` column (join the assets first); `running` defaults to
    "every reading of the minute was in the running state" (n_running == n_readings).
    """
    stages = F.col("stages").cast("double") if stages is None else stages
    if running is None:
        running = (F.col("n_running") == F.col("n_readings")) & (F.col("n_readings") > 0)
    suction_psig = F.col("suction_pressure_psi_mean")
    discharge_psig = F.col("discharge_pressure_psi_mean")
    measured_f = F.col("discharge_temp_f_mean")
    brake_hp = F.col("horsepower_consumption_mean")
    flow_mmscfd = perf.mmscfd_from_mcfd(F.col("gas_flow_mcf_mean"))

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
