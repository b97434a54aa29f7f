"""The estimator's cited engineering factors (rules/emission_factors.yaml), loaded and validated.

GWPs and gas densities are not repeated here: they come from the Subpart W rules
(rules/subpart_w.yaml) for the reporting year, so each constant lives in one file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hub.compliance import rules
from hub.compliance.errors import InputError

DEFAULT_PATH = Path(__file__).resolve().parent / "rules" / "emission_factors.yaml"
LB_TO_KG = 0.45359237

Status = Literal["confirmed", "verify", "default"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Cited(_Strict):
    value: float
    citation: str
    status: Status
    modes: list[str] = Field(default_factory=list)


class EngineType(_Strict):
    type: Literal["two_stroke_lean_burn", "four_stroke_lean_burn", "four_stroke_rich_burn"]
    citation: str
    status: Status


class Value(_Strict):
    value: float
    status: Status


class YearValue(_Strict):
    year: int
    value: float
    status: Status


class Venting(_Strict):
    gas_co2_mole_fraction: Cited
    rod_packing_scfh_per_throw: Cited
    blowdown_valve_leak_scfh: Cited
    isolation_valve_leak_scfh: Cited


class Fuel(_Strict):
    higher_heating_value_mmbtu_per_scf: Cited
    co2_kg_per_mmbtu: Cited
    n2o_kg_per_mmbtu: Cited
    ch4_kg_per_mmbtu_table_c2: Cited


class WasteCharge(_Strict):
    usd_per_tonne_ch4: list[YearValue]
    waste_intensity_threshold: dict[str, Value]
    effective_status: str


class EmissionFactors(_Strict):
    version: int
    checked_on: str
    natural_gas_fuel: Fuel
    engine_ch4_lb_per_mmbtu: dict[str, Cited]
    engine_types: dict[str, EngineType]
    reciprocating_compressor_venting: Venting
    methane_waste_emissions_charge: WasteCharge

    def gwp(self, reporting_year: int) -> rules.Gwp:
        """Table A-1 GWPs in force for a reporting year (from the Subpart W rules)."""
        return rules.subpart_w(reporting_year).gwp

    def gas_density_kg_per_scf(self, reporting_year: int) -> rules.Density:
        """Eq. W-36 densities in force for a reporting year (from the Subpart W rules)."""
        return rules.subpart_w(reporting_year).version.density_kg_per_scf

    def engine_ch4_kg_per_mmbtu(self, driver_model: str | None) -> tuple[float, str]:
        """(kg CH4 per MMBtu, citation) for a driver model; 4-stroke lean-burn when unknown."""
        engine = self.engine_types.get(driver_model or "")
        kind = engine.type if engine is not None else "four_stroke_lean_burn"
        factor = self.engine_ch4_lb_per_mmbtu[kind]
        note = "" if engine is not None else f" (driver {driver_model!r} unknown: assumed {kind})"
        return factor.value * LB_TO_KG, factor.citation + note


def load_emission_factors(path: Path | None = None) -> EmissionFactors:
    path = path or DEFAULT_PATH
    try:
        document = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc}") from None
    try:
        return EmissionFactors.model_validate(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InputError(f"{path}: {where}: {first['msg']}") from None
