"""Methane, CO2 and N2O from compressor venting and engine combustion, per compressor and source.

Venting follows the Subpart W reciprocating-compressor structure (98.233(p)): rod
packing while pressurized (operating and standby), blowdown-valve leakage in standby,
isolation-valve leakage when depressurized — each unit's leak rate per source (as-found
measurement when the asset register has one, else the cited default) times its hours
in the mode; plus every blowdown's vented volume. Combustion: brake horsepower-hours
from the readings times the driver's heat rate gives fuel energy (HHV); CO2 and N2O by
Subpart C factors; CH4 by the engine's AP-42 factor (methane slip), with the Table C-2
figure shown beside it, since applying C-2 to engines is the prototype's error.
Every constant comes from rules/emission_factors.yaml and, for GWPs and densities, from
the Subpart W rules of the reporting year. An engineering estimate over simulator runs
(`altaviz-hub compliance check-run`), not the Subpart W calculator (`subpart_w`).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from hub.compliance.factors import EmissionFactors
from shared.fleet import Fleet
from shared.schema import OperatingState

#: Simulator / reading operating states -> Subpart W compressor modes.
MODES = {
    OperatingState.RUNNING: "operating",
    OperatingState.STARTUP: "operating",
    OperatingState.STANDBY_PRESSURIZED: "standby_pressurized",
    OperatingState.SHUTDOWN_DEPRESSURIZED: "not_operating_depressurized",
}


@dataclass(frozen=True)
class CompressorAsset:
    """What the asset register knows about a unit (fleet file plus as-found measurements)."""

    compressor_id: str
    station_id: str
    throws: int
    driver_model: str | None
    heat_rate_btu_per_bhp_h: float | None
    methane_mole_fraction: float
    packing_scfh_per_throw: float | None = None  # as-found, when measured
    blowdown_valve_scfh: float | None = None
    isolation_valve_scfh: float | None = None


def assets_from_fleet(fleet: Fleet, *, packing_as_found: bool = True) -> dict[str, CompressorAsset]:
    """Assets of every compressor; the fleet's packing leak rate counts as the as-found value."""
    assets = {}
    for station, unit in fleet.compressors():
        packing = unit.characteristics.packing_leak_scfh_per_throw if packing_as_found else None
        assets[unit.id] = CompressorAsset(
            compressor_id=unit.id,
            station_id=station.id,
            throws=unit.throws,
            driver_model=unit.driver.model,
            heat_rate_btu_per_bhp_h=unit.driver.heat_rate_btu_per_bhp_h,
            methane_mole_fraction=station.line.methane_mole_fraction,
            packing_scfh_per_throw=packing,
        )
    return assets


def mode_hours(operating_states: pd.DataFrame) -> pd.DataFrame:
    """Hours per (compressor, Subpart W mode) from state intervals (`operating_state`, `duration_s`)."""
    modes = operating_states.assign(mode=operating_states["operating_state"].map(MODES))
    modes = modes[modes["mode"].notna()]
    hours = modes.groupby(["compressor_id", "mode"])["duration_s"].sum() / 3600.0
    return hours.rename("hours").reset_index()


@dataclass(frozen=True)
class SourceEstimate:
    compressor_id: str
    source: str
    gas_scf: float
    ch4_t: float
    co2_t: float
    n2o_t: float
    co2e_t: float
    method: str


def _vent(
    factors: EmissionFactors,
    asset: CompressorAsset,
    source: str,
    gas_scf: float,
    method: str,
    reporting_year: int,
) -> SourceEstimate:
    density = factors.gas_density_kg_per_scf(reporting_year)
    gwp_ch4 = factors.gwp(reporting_year).ch4
    co2_fraction = factors.reciprocating_compressor_venting.gas_co2_mole_fraction.value
    ch4_t = gas_scf * asset.methane_mole_fraction * density.ch4 * 1e-3
    co2_t = gas_scf * co2_fraction * density.co2 * 1e-3
    return SourceEstimate(
        asset.compressor_id, source, gas_scf, ch4_t, co2_t, 0.0, co2_t + ch4_t * gwp_ch4, method
    )


def venting(
    factors: EmissionFactors,
    assets: dict[str, CompressorAsset],
    hours: pd.DataFrame,
    blowdowns: pd.DataFrame,
    *,
    reporting_year: int,
) -> list[SourceEstimate]:
    """Continuous venting by mode and blowdown events."""
    vent = factors.reciprocating_compressor_venting
    by_mode = hours.pivot_table(
        index="compressor_id", columns="mode", values="hours", aggfunc="sum"
    ).fillna(0.0)
    estimates = []
    for compressor, asset in sorted(assets.items()):
        row = by_mode.loc[compressor] if compressor in by_mode.index else pd.Series(dtype=float)
        for source, measured, default, per_throw in (
            ("rod_packing", asset.packing_scfh_per_throw, vent.rod_packing_scfh_per_throw, True),
            (
                "blowdown_valve_leak",
                asset.blowdown_valve_scfh,
                vent.blowdown_valve_leak_scfh,
                False,
            ),
            (
                "isolation_valve_leak",
                asset.isolation_valve_scfh,
                vent.isolation_valve_leak_scfh,
                False,
            ),
        ):
            rate = measured if measured is not None else default.value
            rate *= asset.throws if per_throw else 1
            mode_h = sum(float(row.get(mode, 0.0)) for mode in default.modes)
            method = "as-found rate" if measured is not None else f"default rate [{default.status}]"
            estimates.append(
                _vent(
                    factors, asset, source, rate * mode_h, f"{method} x mode hours", reporting_year
                )
            )
        events = blowdowns[blowdowns["compressor_id"] == compressor]
        estimates.append(
            _vent(
                factors,
                asset,
                "blowdowns",
                float(events["vented_scf"].sum()),
                f"{len(events)} event volume(s)",
                reporting_year,
            )
        )
    return estimates


def combustion(
    factors: EmissionFactors,
    assets: dict[str, CompressorAsset],
    bhp_hours: dict[str, float],
    *,
    reporting_year: int,
) -> list[SourceEstimate]:
    """Engine exhaust from brake horsepower-hours x heat rate (fuel energy, HHV)."""
    gwp = factors.gwp(reporting_year)
    fuel = factors.natural_gas_fuel
    estimates = []
    for compressor, asset in sorted(assets.items()):
        heat_rate = asset.heat_rate_btu_per_bhp_h
        if heat_rate is None:
            continue
        mmbtu = bhp_hours.get(compressor, 0.0) * heat_rate / 1e6
        ch4_per_mmbtu, citation = factors.engine_ch4_kg_per_mmbtu(asset.driver_model)
        ch4_t = mmbtu * ch4_per_mmbtu * 1e-3
        co2_t = mmbtu * fuel.co2_kg_per_mmbtu.value * 1e-3
        n2o_t = mmbtu * fuel.n2o_kg_per_mmbtu.value * 1e-3
        scf = mmbtu / fuel.higher_heating_value_mmbtu_per_scf.value
        co2e = co2_t + ch4_t * gwp.ch4 + n2o_t * gwp.n2o
        estimates.append(
            SourceEstimate(compressor, "combustion", scf, ch4_t, co2_t, n2o_t, co2e, citation)
        )
    return estimates


def bhp_hours_from_frame(frame: pd.DataFrame, *, interval_s: float) -> dict[str, float]:
    """Brake horsepower-hours per compressor from reading rows (a missing value counts 0)."""
    hp = frame["horsepower_consumption"].fillna(0.0).clip(lower=0.0)
    totals = hp.groupby(frame["compressor_id"]).sum() * interval_s / 3600.0
    return {str(k): float(v) for k, v in totals.items()}


def table_c2_ch4_t(factors: EmissionFactors, estimates: list[SourceEstimate]) -> float:
    """What engine CH4 would be with Table C-2's generic factor (for the comparison line)."""
    fuel = factors.natural_gas_fuel
    mmbtu = (
        sum(e.gas_scf for e in estimates if e.source == "combustion")
        * fuel.higher_heating_value_mmbtu_per_scf.value
    )
    return mmbtu * fuel.ch4_kg_per_mmbtu_table_c2.value * 1e-3


def summary(estimates: list[SourceEstimate]) -> pd.DataFrame:
    """Totals by source (tonnes)."""
    frame = pd.DataFrame([e.__dict__ for e in estimates])
    return frame.groupby("source")[["gas_scf", "ch4_t", "co2_t", "n2o_t", "co2e_t"]].sum()
