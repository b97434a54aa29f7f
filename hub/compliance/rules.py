"""The rules as data: Subpart W versions by reporting year, PHMSA entries by event date.

`rules/subpart_w.yaml` and `rules/phmsa.yaml` hold every constant with its citation and
the years or dates it is in force; nothing is inlined in the calculations. A year or a
date without an entry is a `NoRulesError`, never a silent fallback to another version.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from hub.compliance.errors import ComplianceError, NoRulesError

RULES_DIR = Path(__file__).parent / "rules"
Status = Literal["confirmed", "verify"]
MODES: tuple[str, ...] = ("operating", "standby_pressurized", "not_operating_depressurized")
DEVICE_KINDS: tuple[str, ...] = ("low_bleed", "high_bleed", "intermittent_bleed")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Cited(_Strict):
    citation: str
    status: Status


class Threshold(Cited):
    co2e_t: float


class Gwp(Cited):
    from_year: int
    to_year: int | None
    co2: float
    ch4: float
    n2o: float


class StandardConditions(Cited):
    temperature_f: float
    pressure_psia: float


class Density(Cited):
    ch4: float
    co2: float


class CompressorType(Cited):
    modes: dict[str, list[str]]

    @field_validator("modes")
    @classmethod
    def _known_modes(cls, modes: dict[str, list[str]]) -> dict[str, list[str]]:
        unknown = set(modes) - set(MODES)
        if unknown:
            raise ValueError(f"unknown operating mode(s) {sorted(unknown)}; modes are {MODES}")
        return modes


class Blowdowns(Cited):
    equation: str


class DeviceFactors(Cited):
    low_bleed: float | None
    high_bleed: float | None
    intermittent_bleed: float | None

    def factor(self, kind: str) -> float | None:
        value: float | None = getattr(self, kind)
        return value


class Pneumatics(Cited):
    factors_scfh_per_device: dict[str, DeviceFactors]


class SubpartWVersion(_Strict):
    id: str
    from_year: int
    to_year: int
    title: str
    pending: str | None = None
    segments: dict[str, Cited]
    standard_conditions: StandardConditions
    density_kg_per_scf: Density
    compressor_types: dict[str, CompressorType]
    reporter_emission_factor: Cited
    blowdown_vent_stacks: Blowdowns
    pneumatic_devices: Pneumatics


class SubpartWFile(_Strict):
    checked_on: str
    threshold: Threshold
    global_warming_potentials: list[Gwp]
    versions: list[SubpartWVersion]


class SubpartWRules(_Strict):
    """Everything in force for one reporting year."""

    reporting_year: int
    version: SubpartWVersion
    gwp: Gwp
    threshold: Threshold


class IncidentCriteria(Cited):
    from_: date = Field(alias="from")
    to: date | None
    property_damage_usd: float | None
    gas_loss_mmcf: float


class Clock(Cited):
    hours: float | None = None
    days: float | None = None
    after: Literal["confirmed_discovery", "detection"]


class AnnualReport(_Strict):
    due_month_day: str
    citation: str
    forms: dict[str, str]
    status: Status


class Category(_Strict):
    days: int | None
    action: str


class ImVersion(Cited):
    from_: date = Field(alias="from")
    to: date | None
    categories: dict[str, Category]


class IntegrityManagement(_Strict):
    versions: list[ImVersion]
    discovery_days: int
    discovery_citation: str


class PhmsaFile(_Strict):
    checked_on: str
    incident_criteria: list[IncidentCriteria]
    emergency_shutdown: Cited
    clocks: dict[str, Clock]
    annual_report: AnnualReport
    integrity_management: IntegrityManagement


def _load(name: str) -> dict[str, object]:
    path = RULES_DIR / name
    try:
        document = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ComplianceError(f"cannot read the rule file {path}: {exc}") from None
    if not isinstance(document, dict):
        raise ComplianceError(f"{path}: not a mapping")
    return document


def _validated(model: type[_Strict], document: dict[str, object], name: str) -> _Strict:
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ComplianceError(f"rule file {name}: {where}: {first['msg']}") from None


@cache
def subpart_w_file() -> SubpartWFile:
    file = _validated(SubpartWFile, _load("subpart_w.yaml"), "subpart_w.yaml")
    assert isinstance(file, SubpartWFile)
    return file


@cache
def phmsa_file() -> PhmsaFile:
    file = _validated(PhmsaFile, _load("phmsa.yaml"), "phmsa.yaml")
    assert isinstance(file, PhmsaFile)
    return file


def subpart_w(reporting_year: int) -> SubpartWRules:
    """The Subpart W rule version, GWPs and threshold in force for a reporting year."""
    file = subpart_w_file()
    version = next((v for v in file.versions if v.from_year <= reporting_year <= v.to_year), None)
    loaded = ", ".join(f"RY{v.from_year}-RY{v.to_year} ({v.id})" for v in file.versions)
    if version is None:
        raise NoRulesError(
            f"no Subpart W rules are loaded for reporting year {reporting_year} (loaded: {loaded})"
        )
    gwp = next(
        (
            g
            for g in file.global_warming_potentials
            if g.from_year <= reporting_year <= (g.to_year if g.to_year is not None else 10**6)
        ),
        None,
    )
    if gwp is None:
        raise NoRulesError(f"no Table A-1 GWPs are loaded for reporting year {reporting_year}")
    return SubpartWRules(
        reporting_year=reporting_year, version=version, gwp=gwp, threshold=file.threshold
    )


def _in_force(from_: date, to: date | None, on: date) -> bool:
    return from_ <= on and (to is None or on <= to)


def incident_criteria(on: date) -> IncidentCriteria:
    """The 49 CFR 191.3 incident criteria in force on an event date."""
    for entry in phmsa_file().incident_criteria:
        if _in_force(entry.from_, entry.to, on):
            return entry
    raise NoRulesError(f"no 49 CFR 191.3 incident criteria are loaded for {on.isoformat()}")


def im_version(discovered: date) -> ImVersion:
    """The 49 CFR 192.933 remediation categories for a condition discovered on a date."""
    for entry in phmsa_file().integrity_management.versions:
        if _in_force(entry.from_, entry.to, discovered):
            return entry
    raise NoRulesError(
        f"no 49 CFR 192.933 remediation rules are loaded for {discovered.isoformat()}"
    )
