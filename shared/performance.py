"""Reciprocating compressor performance: pure formulas with their units in their names.

Every function uses only arithmetic operators, so the one definition works on floats,
NumPy arrays, pandas Series and Spark Columns alike (gold calls it through
`hub/lakehouse/performance.py`, the portal and the simulator with floats or arrays).
Sources and a hand-worked example of each formula: docs/maintenance.md, "Performance".

Conventions: pressures as the panels report them are gauge (psig) and become absolute
(psia) with `ATMOSPHERE_PSI`; temperatures are °F and become absolute (°R) with
`RANKINE_OFFSET_F`. A multi-stage unit is taken as equal ratio per stage with
intercooling back to the same stage inlet temperature (GPSA, Section 13).
"""

from __future__ import annotations

import math
from typing import Any

#: A float, a NumPy array, a pandas Series or a Spark Column: anything with + - * / **.
Quantity = Any

#: Standard atmosphere used by the panels' gauge readings and the simulator, psi.
ATMOSPHERE_PSI = 14.7
#: °R = °F + 459.67.
RANKINE_OFFSET_F = 459.67
#: hp·day/(MMscf·°R): 3.03 x P_base / T_base = 3.03 x 14.7 psia / 520 °R (GPSA Section 13),
#: the same constant the simulator's physics uses.
HP_PER_MMSCFD_PER_RANKINE = 0.0857
#: Specific heat ratio and compressibility of pipeline natural gas when none is configured.
DEFAULT_GAS_K = 1.28
DEFAULT_GAS_Z = 0.97
#: Stage inlet temperature when no suction/interstage temperature is measured (the panels
#: report only the final discharge temperature): a cooler outlet ~20 °F above a Texas
#: ambient. An assumption, so the portal judges each unit against its own baseline.
DEFAULT_STAGE_INLET_TEMP_F = 90.0
#: Gas horsepower reaches the crankshaft through the frame's mechanical losses.
DEFAULT_MECHANICAL_EFFICIENCY = 0.95
#: An hour counts toward performance (gold's hourly figures, the portal's baselines) when
#: the unit ran at least this many of its minutes: start-up and shut-down are not steady.
MIN_RUNNING_MINUTES_PER_HOUR = 50


def psia_from_psig(pressure_psig: Quantity) -> Quantity:
    return pressure_psig + ATMOSPHERE_PSI


def rankine_from_f(temp_f: Quantity) -> Quantity:
    return temp_f + RANKINE_OFFSET_F


def overall_compression_ratio(suction_psig: Quantity, discharge_psig: Quantity) -> Quantity:
    """Absolute discharge over absolute suction pressure (dimensionless)."""
    return psia_from_psig(discharge_psig) / psia_from_psig(suction_psig)


def stage_compression_ratio(
    suction_psig: Quantity, discharge_psig: Quantity, stages: Quantity
) -> Quantity:
    """Ratio per stage with equal work per stage: r = (Pd/Ps)^(1/N), absolute pressures."""
    return overall_compression_ratio(suction_psig, discharge_psig) ** (1.0 / stages)


def isentropic_discharge_temp_f(
    inlet_temp_f: Quantity, stage_ratio: Quantity, gas_k: Quantity = DEFAULT_GAS_K
) -> Quantity:
    """Ideal (isentropic) discharge temperature of a stage: T2s = T1 x r^((k-1)/k), in °F."""
    exponent = (gas_k - 1.0) / gas_k
    return rankine_from_f(inlet_temp_f) * stage_ratio**exponent - RANKINE_OFFSET_F


def discharge_temp_excess_f(measured_temp_f: Quantity, ideal_temp_f: Quantity) -> Quantity:
    """Measured minus ideal discharge temperature, °F: grows as valves or rings leak."""
    return measured_temp_f - ideal_temp_f


def temperature_efficiency(
    inlet_temp_f: Quantity, ideal_temp_f: Quantity, measured_temp_f: Quantity
) -> Quantity:
    """Isentropic efficiency from temperatures: (T2s - T1)/(T2 - T1), dimensionless."""
    return (ideal_temp_f - inlet_temp_f) / (measured_temp_f - inlet_temp_f)


def isentropic_gas_hp(
    flow_mmscfd: Quantity,
    inlet_temp_f: Quantity,
    stage_ratio: Quantity,
    stages: Quantity,
    gas_k: Quantity = DEFAULT_GAS_K,
    gas_z: Quantity = DEFAULT_GAS_Z,
) -> Quantity:
    """Ideal gas horsepower of all stages, hp:
    N x 0.0857 x k/(k-1) x Z x T1[°R] x (r^((k-1)/k) - 1) x Q[MMscfd]."""
    exponent = (gas_k - 1.0) / gas_k
    per_mmscfd = (
        HP_PER_MMSCFD_PER_RANKINE
        / exponent
        * gas_z
        * rankine_from_f(inlet_temp_f)
        * (stage_ratio**exponent - 1.0)
    )
    return per_mmscfd * flow_mmscfd * stages


def adiabatic_efficiency(
    isentropic_hp: Quantity,
    brake_hp: Quantity,
    mechanical_efficiency: Quantity = DEFAULT_MECHANICAL_EFFICIENCY,
) -> Quantity:
    """Ideal gas horsepower over the gas horsepower actually delivered (brake hp x η_mech)."""
    return isentropic_hp / (brake_hp * mechanical_efficiency)


def mmscfd_from_mcfd(flow_mcfd: Quantity) -> Quantity:
    return flow_mcfd / 1000.0


def piston_areas_in2(bore_in: float, rod_diameter_in: float) -> tuple[float, float]:
    """(head-end area, crank-end area) in in²: π/4·D² and π/4·(D² - d²)."""
    head_end = math.pi / 4.0 * bore_in**2
    return head_end, head_end - math.pi / 4.0 * rod_diameter_in**2


def gas_rod_load_lbf(
    cylinder_suction_psig: Quantity,
    cylinder_discharge_psig: Quantity,
    bore_in: float,
    rod_diameter_in: float,
) -> tuple[Quantity, Quantity]:
    """(compression, tension) gas rod load of a cylinder, lbf, with gauge pressures (the
    distance piece is at atmosphere, so atmospheric pressure cancels over the rod's area):
    compression = Pd·A_HE - Ps·A_CE; tension = Pd·A_CE - Ps·A_HE."""
    head_end, crank_end = piston_areas_in2(bore_in, rod_diameter_in)
    compression = cylinder_discharge_psig * head_end - cylinder_suction_psig * crank_end
    tension = cylinder_discharge_psig * crank_end - cylinder_suction_psig * head_end
    return compression, tension


def final_stage_suction_psig(
    suction_psig: Quantity, discharge_psig: Quantity, stages: Quantity
) -> Quantity:
    """Suction of the last stage with equal ratios: Ps_abs x r^(N-1), back to psig."""
    ratio = stage_compression_ratio(suction_psig, discharge_psig, stages)
    return psia_from_psig(suction_psig) * ratio ** (stages - 1) - ATMOSPHERE_PSI
