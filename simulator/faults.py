"""Equipment faults: how severity grows from onset to failure, and what it does.

Severity s runs from 0 at onset to 1 at failure (when the protection trip shuts
the unit down) and stays 1 until the repair. Signatures: docs/simulator.md#faults.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from simulator import noise
from simulator.scenario import FAULT_MODES

if TYPE_CHECKING:
    from simulator.physics import NoiseKeys
    from simulator.schedule import Schedule
    from simulator.units import UnitTable

MODE_CODE = {mode: code for code, mode in enumerate(FAULT_MODES)}

# Effect sizes at severity 1.
VALVE_LEAK_EFFICIENCY_LOSS = 0.35  # isentropic efficiency seen by the discharge temperature
VALVE_LEAK_FLOW_LOSS = 0.30  # volumetric efficiency (delivered flow)
VALVE_LEAK_POWER_LOSS = 0.05
COOLER_EXTRA_F = 20.0  # extra cooler approach, plus...
COOLER_EXTRA_PER_F = 0.8  # ...per °F of ambient above 60 °F: worse on hot afternoons
PACKING_LEAK_GROWTH = 40.0  # vent multiplier 1 + 40 s^2
DRIVER_HP_SWING = 0.12  # horsepower oscillation half-amplitude
DRIVER_VIBRATION = 0.15


def severity(mode: str, tau: np.ndarray) -> np.ndarray:
    """Severity at fraction `tau` (0..1) of the way from onset to failure."""
    tau = np.clip(tau, 0.0, 1.0)
    if mode == "bearing_wear":
        return np.expm1(4.0 * tau) / np.expm1(4.0)  # accelerating
    if mode in ("valve_leak", "rod_packing_leak"):
        return tau**1.5
    return tau


@dataclass
class FaultLoad:
    """Per-mode severities of a chunk and the factors physics applies, [units, instants]."""

    severity: dict[str, np.ndarray]
    mode_code: np.ndarray  # int8, -1 = no fault
    fault_index: np.ndarray  # int32 index into schedule.faults, -1 = none
    active_severity: np.ndarray
    time_to_failure_s: np.ndarray  # float64, NaN = no pending failure
    vibration_texture: np.ndarray
    speed_oscillation: np.ndarray
    _hp_oscillation: np.ndarray

    @classmethod
    def at(
        cls, units: UnitTable, idx: np.ndarray, t: np.ndarray, schedule: Schedule, keys: NoiseKeys
    ) -> FaultLoad:
        shape = (len(idx), len(t))
        sev = {mode: np.zeros(shape) for mode in FAULT_MODES}
        mode_code = np.full(shape, -1, dtype=np.int8)
        fault_index = np.full(shape, -1, dtype=np.int32)
        ttf = np.full(shape, np.nan)
        positions = {f.fault_id: n for n, f in enumerate(schedule.faults)}
        tf = t.astype(np.float64)
        for row, u in enumerate(idx):
            for fault in schedule.faults_by_unit[u]:
                end = np.inf if fault.repair is None else fault.repair
                active = (tf >= fault.onset) & (tf < end)
                if not active.any():
                    continue
                tau = (tf[active] - fault.onset) / (fault.failure - fault.onset)
                sev[fault.mode][row, active] = severity(fault.mode, tau)
                mode_code[row, active] = MODE_CODE[fault.mode]
                fault_index[row, active] = positions[fault.fault_id]
                ttf[row, active] = np.maximum(fault.failure - tf[active], 0.0)
        active_severity = np.max(np.stack(list(sev.values())), axis=0)
        texture = noise.smooth(keys.unit("vib")[idx], t, 600.0)
        driver = sev["driver_problem"]
        if driver.any():
            period = 25.0 + 25.0 * noise.uniform(
                keys.unit("drv_period")[idx], np.zeros(1, dtype=np.int64)
            )
            phase = (
                2 * np.pi * noise.uniform(keys.unit("drv_phase")[idx], np.zeros(1, dtype=np.int64))
            )
            swing = 0.6 + 0.4 * noise.smooth(keys.unit("drv_amp")[idx], t, 300.0)
            hp_osc = (
                DRIVER_HP_SWING * driver * swing * np.sin(2 * np.pi * tf[None, :] / period + phase)
            )
        else:
            hp_osc = np.zeros(shape)
        return cls(
            severity=sev,
            mode_code=mode_code,
            fault_index=fault_index,
            active_severity=active_severity,
            time_to_failure_s=ttf,
            vibration_texture=texture,
            speed_oscillation=hp_osc / 6.0,
            _hp_oscillation=hp_osc,
        )

    @property
    def temperature_efficiency(self) -> np.ndarray:
        return 1.0 - VALVE_LEAK_EFFICIENCY_LOSS * self.severity["valve_leak"]

    @property
    def flow_factor(self) -> np.ndarray:
        return 1.0 - VALVE_LEAK_FLOW_LOSS * self.severity["valve_leak"]

    @property
    def horsepower_factor(self) -> np.ndarray:
        return (1.0 - VALVE_LEAK_POWER_LOSS * self.severity["valve_leak"]) * (
            1.0 + self._hp_oscillation
        )

    @property
    def bearing(self) -> np.ndarray:
        return self.severity["bearing_wear"]

    @property
    def vibration_factor(self) -> np.ndarray:
        return 1.0 + DRIVER_VIBRATION * self.severity["driver_problem"]

    @property
    def packing_factor(self) -> np.ndarray:
        return 1.0 + PACKING_LEAK_GROWTH * self.severity["rod_packing_leak"] ** 2

    def cooler_extra_f(self, ambient_f: np.ndarray) -> np.ndarray:
        fouling = self.severity["cooler_fouling"]
        return fouling * (COOLER_EXTRA_F + COOLER_EXTRA_PER_F * np.maximum(ambient_f - 60.0, 0.0))
