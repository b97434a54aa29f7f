"""The emissions estimator on a simulator run, against the run's own truth (vent and fuel)."""

from __future__ import annotations

from pathlib import Path

from hub.compliance.estimator import (
    assets_from_fleet,
    bhp_hours_from_frame,
    combustion,
    mode_hours,
    summary,
    table_c2_ch4_t,
    venting,
)
from hub.compliance.factors import load_emission_factors
from models.fleet_runs import FleetRun
from shared.fleet import load_fleet

METHANE_KG_PER_SCF = 0.0192  # for the truth comparison only; the estimator reads the data file


def emissions_lines(run: FleetRun, fleet_path: Path, factors_path: Path | None) -> list[str]:
    factors = load_emission_factors(factors_path)
    in_run = set(run.events.operating_states["compressor_id"].astype(str))
    assets = {k: a for k, a in assets_from_fleet(load_fleet(fleet_path)).items() if k in in_run}
    year = run.start.year
    readings = run.readings().select(["compressor_id", "horsepower_consumption"]).to_pandas()
    vent = venting(factors, assets, mode_hours(run.events.operating_states), run.events.blowdowns,
                   reporting_year=year)  # fmt: skip
    burn = combustion(factors, assets, bhp_hours_from_frame(readings, interval_s=run.resolution_s),
                      reporting_year=year)  # fmt: skip
    totals = summary(vent + burn)
    gwp = factors.gwp(year)
    lines = [
        f"Emissions estimator ({len(assets)} compressors, {run.start:%Y-%m-%d} .. {run.end:%Y-%m-%d}, "
        f"GWP CH4 {gwp.ch4:g} for reporting year {year}; factors {factors_path or 'hub/compliance/rules/emission_factors.yaml'})",
        f"  {'source':<22}{'CH4 t':>10}{'CO2 t':>12}{'N2O t':>9}{'CO2e t':>12}",
    ]
    for source, row in totals.iterrows():
        lines.append(
            f"  {source:<22}{row['ch4_t']:>10.2f}{row['co2_t']:>12.1f}{row['n2o_t']:>9.3f}{row['co2e_t']:>12.1f}"
        )
    lines.append(
        f"  engine CH4 with AP-42 engine factors {totals.loc['combustion', 'ch4_t']:.1f} t; "
        f"Table C-2's generic factor would give {table_c2_ch4_t(factors, burn):.2f} t"
    )
    truth = run.truth(columns=("compressor_id", "methane_vent_scfh", "fuel_scfh", "fault_mode"))
    hours = run.resolution_s / 3600.0
    vented_ch4_scf = sum(
        e.gas_scf * assets[e.compressor_id].methane_mole_fraction
        for e in vent if e.source != "blowdowns"
    )  # fmt: skip
    true_ch4_scf = float(truth["methane_vent_scfh"].sum()) * hours
    packing = truth["fault_mode"] == "rod_packing_leak"
    true_no_faults = float(truth.loc[~packing, "methane_vent_scfh"].sum()) * hours
    lines.append(
        f"  continuous vent CH4 vs truth: estimated {vented_ch4_scf * METHANE_KG_PER_SCF / 1e3:.2f} t, "
        f"truth {true_ch4_scf * METHANE_KG_PER_SCF / 1e3:.2f} t "
        f"({true_no_faults * METHANE_KG_PER_SCF / 1e3:.2f} t outside rod-packing faults, which as-found "
        "rates cannot see until the next survey)"
    )
    fuel_true_mmbtu = float(truth["fuel_scfh"].sum()) * hours * 1020.0 / 1e6
    fuel_est = (
        sum(e.gas_scf for e in burn)
        * factors.natural_gas_fuel.higher_heating_value_mmbtu_per_scf.value
    )
    lines.append(
        f"  fuel energy vs truth: estimated {fuel_est:,.0f} MMBtu, truth {fuel_true_mmbtu:,.0f} MMBtu"
    )
    true_blowdown = float(run.events.blowdowns["methane_scf"].sum())
    est_blowdown = sum(
        e.gas_scf * assets[e.compressor_id].methane_mole_fraction
        for e in vent
        if e.source == "blowdowns"
    )
    lines.append(
        f"  blowdown CH4 vs truth: estimated {est_blowdown:,.0f} scf, truth {true_blowdown:,.0f} scf"
    )
    return lines
