"""Each performance formula against a hand-worked example (docs/maintenance.md, "Performance").

The example: a single stage from 100 psia to 300 psia (85.3 -> 285.3 psig), suction 80 °F
(539.67 °R), k = 1.3, Z = 1, 1 MMscfd; a 10 in bore with a 2.5 in rod.
"""

from __future__ import annotations

import numpy as np
import pytest

from shared import performance as perf


def test_stage_compression_ratio_uses_absolute_pressures_and_equal_stages() -> None:
    assert perf.stage_compression_ratio(85.3, 285.3, 1) == pytest.approx(3.0)
    # 3 stages, 60 -> 1000 psig: (1014.7 / 74.7) ** (1/3) = 13.5837 ** (1/3) = 2.3860
    assert perf.stage_compression_ratio(60.0, 1000.0, 3) == pytest.approx(2.3860, abs=1e-4)


def test_isentropic_discharge_temperature() -> None:
    # 539.67 °R x 3 ** (0.3/1.3) = 539.67 x 1.28855 = 695.39 °R = 235.72 °F
    ideal_f = perf.isentropic_discharge_temp_f(80.0, 3.0, gas_k=1.3)
    assert ideal_f == pytest.approx(235.72, abs=0.02)
    # measured 270 °F: 34.3 °F above ideal; temperature efficiency 155.72 / 190 = 0.8196
    assert perf.discharge_temp_excess_f(270.0, ideal_f) == pytest.approx(34.28, abs=0.02)
    assert perf.temperature_efficiency(80.0, ideal_f, 270.0) == pytest.approx(0.8196, abs=1e-3)


def test_isentropic_gas_horsepower_and_adiabatic_efficiency() -> None:
    # 0.0857 x 4.3333 x 1.0 x 539.67 x 0.28855 x 1 MMscfd = 57.83 hp
    hp = perf.isentropic_gas_hp(1.0, 80.0, 3.0, 1, gas_k=1.3, gas_z=1.0)
    assert hp == pytest.approx(57.83, abs=0.02)
    assert perf.isentropic_gas_hp(2.0, 80.0, 3.0, 2, gas_k=1.3, gas_z=1.0) == pytest.approx(4 * hp)
    # 70 bhp at the driver, 95 % mechanical: 66.5 gas hp delivered; 57.83 / 66.5 = 0.8696
    assert perf.adiabatic_efficiency(hp, 70.0, 0.95) == pytest.approx(0.8696, abs=1e-3)
    assert perf.mmscfd_from_mcfd(9000.0) == 9.0


def test_gas_rod_load() -> None:
    # A_HE = 78.540 in², A_CE = 78.540 - 4.909 = 73.631 in²
    head_end, crank_end = perf.piston_areas_in2(10.0, 2.5)
    assert (head_end, crank_end) == (
        pytest.approx(78.540, abs=1e-3),
        pytest.approx(73.631, abs=1e-3),
    )
    compression, tension = perf.gas_rod_load_lbf(85.3, 285.3, 10.0, 2.5)
    # 285.3 x 78.540 - 85.3 x 73.631 = 22407.5 - 6280.7 = 16126.8 lbf
    assert compression == pytest.approx(16126.8, abs=0.5)
    # 285.3 x 73.631 - 85.3 x 78.540 = 21006.9 - 6699.5 = 14307.4 lbf
    assert tension == pytest.approx(14307.4, abs=0.5)


def test_final_stage_suction_is_the_last_interstage_pressure() -> None:
    # 2 stages, 100 psia -> 900 psia: r = 3, the last stage takes 300 psia = 285.3 psig
    assert perf.final_stage_suction_psig(85.3, 885.3, 2) == pytest.approx(285.3)


def test_the_same_formulas_work_on_arrays() -> None:
    ratios = perf.stage_compression_ratio(np.array([85.3, 85.3]), np.array([285.3, 885.3]), 1)
    assert ratios == pytest.approx([3.0, 9.0])
