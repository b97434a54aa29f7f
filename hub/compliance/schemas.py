"""The calculator's inputs file (YAML or JSON), validated; see docs/compliance.md for a sample.

Quantities carry their unit ("250 psig", "3.2 scfh", {value: 600, unit: ft3}); a bare
number where a unit is needed is refused. Hours per operating mode are per compressor;
a mode left out is a "missing input" line in the result, never taken as zero.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from hub.compliance.errors import InputError, UnitError
from hub.compliance.units import Quantity, parse_quantity

Segment = Literal["transmission_compression", "gathering_boosting"]
ModeName = Literal["operating", "standby_pressurized", "not_operating_depressurized"]
DeviceKind = Literal["low_bleed", "high_bleed", "intermittent_bleed"]


def _quantity(raw: Any) -> Quantity:
    try:
        return parse_quantity(raw, field="quantity")
    except UnitError as exc:
        raise ValueError(str(exc)) from None


QuantityField = Annotated[Quantity, BeforeValidator(_quantity)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


class Facility(_Strict):
    id: str = Field(min_length=1, max_length=64)
    name: str = ""
    segment: Segment
    operator: str = ""
    #: Local barometric pressure for psig -> psia (default 14.7 psia).
    atmosphere: QuantityField | None = None


class GasComposition(_Strict):
    ch4_mole_fraction: float = Field(ge=0, le=1)
    co2_mole_fraction: float = Field(ge=0, le=1)
    source: str = ""

    @model_validator(mode="after")
    def _sum(self) -> GasComposition:
        if self.ch4_mole_fraction + self.co2_mole_fraction > 1.0:
            raise ValueError("CH4 + CO2 mole fractions exceed 1")
        return self


class Measurement(_Strict):
    """An as-found vent measurement (40 CFR 98.234) in one operating mode."""

    mode: ModeName
    rate: QuantityField
    #: rod_packing, blowdown_valve_leakage, ... ; omitted = the mode's combined vent.
    source: str | None = None
    method: str = ""
    measured_on: str = ""


class Compressor(_Strict):
    id: str = Field(min_length=1, max_length=64)
    type: Literal["reciprocating", "centrifugal"]
    seal: Literal["wet", "dry"] | None = None
    hours: dict[ModeName, float] = Field(default_factory=dict)
    measurements: list[Measurement] = Field(default_factory=list)
    #: Gas analysis of this unit when it differs from the facility's.
    gas_composition: GasComposition | None = None
    #: Hours of the period with no operating-state record (a "missing input" line).
    hours_without_data: float = Field(default=0.0, ge=0)
    #: Where the hours per mode come from (shown with every line of the unit).
    hours_source: str = ""

    @model_validator(mode="after")
    def _check(self) -> Compressor:
        if self.type == "centrifugal" and self.seal is None:
            raise ValueError("a centrifugal compressor needs seal: wet or dry")
        if self.type == "reciprocating" and self.seal is not None:
            raise ValueError("seal applies to centrifugal compressors only")
        for mode, hours in self.hours.items():
            if hours < 0:
                raise ValueError(f"hours in {mode} mode are negative ({hours:g})")
        return self

    @property
    def type_key(self) -> str:
        return "reciprocating" if self.type == "reciprocating" else f"centrifugal_{self.seal}_seal"


class Blowdown(_Strict):
    """One blowdown vent stack event: a metered volume, or physical volume + P + T."""

    id: str = Field(min_length=1, max_length=128)
    at: datetime
    compressor_id: str | None = None
    #: Metered vented volume at standard conditions (scf, Mscf).
    vented: QuantityField | None = None
    #: Physical volume between isolation valves (ft3), and the gas's pressure and temperature.
    volume: QuantityField | None = None
    pressure: QuantityField | None = None
    temperature: QuantityField | None = None
    reason: str = ""
    #: Where the event and its values come from (e.g. the simulator, a maintenance record).
    source: str = ""


class PneumaticDevices(_Strict):
    kind: DeviceKind
    count: int = Field(ge=0)
    #: Hours in service in the year (default: the whole year).
    hours: float | None = Field(default=None, ge=0)
    #: A metered volume instead of the population factor.
    vented: QuantityField | None = None


class CalculatorInputs(_Strict):
    facility: Facility
    reporting_year: int | None = None
    gas_composition: GasComposition
    compressors: list[Compressor] = Field(default_factory=list)
    blowdowns: list[Blowdown] = Field(default_factory=list)
    pneumatic_devices: list[PneumaticDevices] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique(self) -> CalculatorInputs:
        ids = [c.id for c in self.compressors]
        if len(ids) != len(set(ids)):
            raise ValueError("compressor ids must be unique")
        events = [b.id for b in self.blowdowns]
        if len(events) != len(set(events)):
            raise ValueError("blowdown ids must be unique")
        return self


def validate_inputs(document: object, *, origin: str = "inputs") -> CalculatorInputs:
    """A parsed document -> CalculatorInputs, or one InputError naming the field."""
    try:
        return CalculatorInputs.model_validate(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        message = str(first["msg"]).removeprefix("Value error, ")
        more = f" (and {len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
        raise InputError(f"{origin}: {where}: {message}{more}") from None


def load_inputs(path: Path) -> CalculatorInputs:
    """Read a YAML or JSON inputs file."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        document = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise InputError(
            f"{path}: not valid {'JSON' if path.suffix == '.json' else 'YAML'}: {exc}"
        ) from None
    return validate_inputs(document, origin=str(path))


class StationMeasurement(Measurement):
    compressor_id: str = Field(min_length=1, max_length=64)


class StationProfile(_Strict):
    """What an operator supplies for a station's Subpart W calculation (portal / API)."""

    segment: Segment
    gas_composition: GasComposition
    measurements: list[StationMeasurement] = Field(default_factory=list)
    pneumatic_devices: list[PneumaticDevices] = Field(default_factory=list)
    #: Typical gas temperature for blowdowns without one (e.g. "90 degF"); null: missing.
    blowdown_temperature: QuantityField | None = None
