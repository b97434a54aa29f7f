"""Subpart W emissions of a compressor station from its inputs: one cited line per source.

Every line carries the equation, the citation, the inputs it used and its basis:
`measured` (as-found or metered), `estimated` (reporter emission factor, population
factor, engineering volume), `missing` (an input the rule needs is absent: the line has
no numbers and the totals say they are incomplete) or `not_applicable`.
Pure Python: no Spark, no database.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hub.compliance import units
from hub.compliance.errors import InputError
from hub.compliance.rules import SubpartWRules
from hub.compliance.schemas import (
    Blowdown,
    CalculatorInputs,
    Compressor,
    GasComposition,
    PneumaticDevices,
)

RECIPROCATING = "reciprocating_compressor_venting"
CENTRIFUGAL = "centrifugal_compressor_venting"
BLOWDOWNS = "blowdown_vent_stacks"
PNEUMATICS = "pneumatic_devices"
SOURCES = (RECIPROCATING, CENTRIFUGAL, BLOWDOWNS, PNEUMATICS)


@dataclass(frozen=True)
class Line:
    source: str
    unit: str
    detail: str
    basis: str
    equation: str
    citation: str
    gas_scf: float | None = None
    ch4_t: float | None = None
    co2_t: float | None = None
    co2e_t: float | None = None
    inputs: dict[str, Any] = field(default_factory=dict)
    note: str = ""

    @property
    def has_numbers(self) -> bool:
        return self.gas_scf is not None


@dataclass(frozen=True)
class GasToMass:
    """Whole-gas scf -> CH4/CO2 tonnes and CO2e (Eq. W-35 mole fractions, Eq. W-36 density)."""

    rules: SubpartWRules

    def line(self, *, gas_scf: float, composition: GasComposition, **fields: Any) -> Line:
        density = self.rules.version.density_kg_per_scf
        gwp = self.rules.gwp
        ch4_kg = gas_scf * composition.ch4_mole_fraction * density.ch4
        co2_kg = gas_scf * composition.co2_mole_fraction * density.co2
        ch4_t, co2_t = units.kg_to_tonnes(ch4_kg), units.kg_to_tonnes(co2_kg)
        mass = (
            f"; CH4 = {gas_scf:,.1f} scf x {composition.ch4_mole_fraction:g} x {density.ch4:g} kg/scf"
            f" = {ch4_kg:,.3f} kg; CO2 = {gas_scf:,.1f} scf x {composition.co2_mole_fraction:g}"
            f" x {density.co2:g} kg/scf = {co2_kg:,.3f} kg; CO2e = CO2 + {gwp.ch4:g} x CH4"
        )
        return Line(
            gas_scf=gas_scf, ch4_t=ch4_t, co2_t=co2_t, co2e_t=co2_t * gwp.co2 + ch4_t * gwp.ch4,
            **{**fields, "equation": fields["equation"] + mass},
        )  # fmt: skip


def hours_in_year(year: int) -> int:
    return 8784 if calendar.isleap(year) else 8760


def _measured_rates(
    compressor: Compressor, rules: SubpartWRules, type_modes: Mapping[str, list[str]]
) -> dict[str, tuple[float, list[str]]]:
    """Per mode: the as-found rate (scfh, sum over distinct sources) and what was measured."""
    rates: dict[str, tuple[float, list[str]]] = {}
    seen: set[tuple[str, str]] = set()
    for i, m in enumerate(compressor.measurements):
        where = f"compressors[{compressor.id}].measurements[{i}]"
        allowed = type_modes.get(m.mode)
        if allowed is None:
            raise InputError(
                f"{where}: {m.mode} is not a mode of {compressor.type_key} compressors under {rules.version.id}"
            )
        label = m.source or "combined vent"
        if m.source is not None and m.source not in allowed:
            raise InputError(
                f"{where}: {m.source} is not a {m.mode} vent source of {compressor.type_key} compressors ({', '.join(allowed)})"
            )
        if (m.mode, label) in seen:
            raise InputError(
                f"{where}: a second measurement of {label} in {m.mode} mode; give one as-found value per source"
            )
        seen.add((m.mode, label))
        rate = units.rate_scfh(m.rate, field=f"{where}.rate")
        total, labels = rates.get(m.mode, (0.0, []))
        rates[m.mode] = (total + rate, [*labels, f"{label} {rate:g} scfh"])
    return rates


def compressor_lines(inputs: CalculatorInputs, rules: SubpartWRules, mass: GasToMass) -> list[Line]:
    """Venting by operating mode: as-found rate x hours; else the reporter factor; else missing."""
    year_hours = hours_in_year(rules.reporting_year)
    measured = {}
    for c in inputs.compressors:
        ctype = rules.version.compressor_types.get(c.type_key)
        if ctype is None:
            raise InputError(
                f"compressors[{c.id}]: type {c.type_key} has no rules in {rules.version.id}"
            )
        if sum(c.hours.values()) > year_hours:
            raise InputError(
                f"compressors[{c.id}].hours: {sum(c.hours.values()):g} h is more than the {year_hours} h of {rules.reporting_year}"
            )
        measured[c.id] = _measured_rates(c, rules, ctype.modes)
    lines = []
    for c in inputs.compressors:
        ctype = rules.version.compressor_types[c.type_key]
        source = RECIPROCATING if c.type == "reciprocating" else CENTRIFUGAL
        composition = c.gas_composition or inputs.gas_composition
        if c.hours_without_data > 0:
            lines.append(Line(source=source, unit=c.id, detail="hours without data", citation=ctype.citation,
                              basis="missing", equation="E = rate x hours", inputs={"hours_source": c.hours_source},
                              note=f"{c.hours_without_data:g} h of the period have no operating-state record"))  # fmt: skip
        for mode in ("operating", "standby_pressurized", "not_operating_depressurized"):
            vents = ctype.modes.get(mode)
            hours = c.hours.get(mode)
            base: dict[str, Any] = {
                "source": source,
                "unit": c.id,
                "detail": f"{mode} mode",
                "citation": ctype.citation,
            }
            if vents is None:
                if hours:
                    lines.append(Line(**base, basis="not_applicable", equation="-", inputs={"hours": hours},
                                      note=f"{mode} is not a vent mode of {c.type_key} compressors in {rules.version.id}"))  # fmt: skip
                continue
            if hours is None:
                lines.append(Line(**base, basis="missing", equation="E = rate x hours",
                                  note=f"hours in {mode} mode not given"))  # fmt: skip
                continue
            note = ""
            if mode in measured[c.id]:
                rate, what = measured[c.id][mode]
                basis, how = "measured", "as-found " + " + ".join(what)
                named = {m.source for m in c.measurements if m.mode == mode}
                if None not in named and set(vents) - named:
                    note = f"not measured in this mode: {', '.join(sorted(set(vents) - named))}"
            else:
                peers = [measured[p.id][mode][0] for p in inputs.compressors
                         if p.type_key == c.type_key and mode in measured[p.id]]  # fmt: skip
                if not peers and hours > 0:
                    lines.append(Line(**base, basis="missing", equation="E = rate x hours", inputs={"hours": hours},
                                      note=f"no as-found measurement in {mode} mode on this unit or any {c.type_key} unit of the facility (98.234)"))  # fmt: skip
                    continue
                rate = sum(peers) / len(peers) if peers else 0.0
                basis = "estimated" if peers else "measured"
                how = (f"reporter emission factor {rate:g} scfh (mean of {len(peers)} as-found measurement(s); "
                       f"{rules.version.reporter_emission_factor.citation})") if peers else "0 h in mode"  # fmt: skip
            gas = rate * hours
            lines.append(mass.line(
                **base, basis=basis, gas_scf=gas, composition=composition,
                equation=f"E = {rate:g} scfh x {hours:g} h = {gas:,.1f} scf ({how}; sources: {', '.join(vents)})",
                inputs={"rate_scfh": rate, "hours": hours, **({"hours_source": c.hours_source} if c.hours_source else {})},
                note=note,
            ))  # fmt: skip
    return lines


def blowdown_line(
    event: Blowdown, inputs: CalculatorInputs, rules: SubpartWRules, mass: GasToMass, index: int
) -> Line:
    where = f"blowdowns[{index}]"
    if event.at.year != rules.reporting_year:
        raise InputError(
            f"{where} ({event.id}) at {event.at.isoformat()} is outside reporting year {rules.reporting_year}"
        )
    stack = rules.version.blowdown_vent_stacks
    base: dict[str, Any] = {"source": BLOWDOWNS, "unit": event.id, "detail": f"{event.at.isoformat()} {event.compressor_id or ''}".strip(),
            "citation": stack.citation, "note": event.source}  # fmt: skip
    if event.vented is not None:
        gas = units.standard_volume_scf(event.vented, field=f"{where}.vented")
        return mass.line(**base, basis="measured", gas_scf=gas, composition=inputs.gas_composition,
                         equation=f"E_s = metered {gas:,.1f} scf", inputs={"vented_scf": gas})  # fmt: skip
    absent = [
        name for name in ("volume", "pressure", "temperature") if getattr(event, name) is None
    ]
    if absent:
        where_from = f" ({event.source})" if event.source else ""
        base["note"] = f"{', '.join(absent)} of the event not given{where_from}"
        return Line(**base, basis="missing", equation=stack.equation)
    atmosphere = (
        units.pressure_psia(inputs.facility.atmosphere, field="facility.atmosphere")
        if inputs.facility.atmosphere is not None else units.DEFAULT_ATMOSPHERE_PSIA
    )  # fmt: skip
    assert event.volume is not None and event.pressure is not None and event.temperature is not None
    volume = units.actual_volume_ft3(event.volume, field=f"{where}.volume")
    p_a = units.pressure_psia(event.pressure, field=f"{where}.pressure", atmosphere_psia=atmosphere)
    t_a = units.temperature_f(event.temperature, field=f"{where}.temperature")
    std = rules.version.standard_conditions
    gas = volume * units.rankine(std.temperature_f) * p_a / (units.rankine(t_a) * std.pressure_psia)
    working = (f"E_s = {volume:g} ft3 x (459.67 + {std.temperature_f:g}) x {p_a:g} psia / "
               f"((459.67 + {t_a:g}) x {std.pressure_psia:g} psia) = {gas:,.1f} scf")  # fmt: skip
    return mass.line(**base, basis="estimated", gas_scf=gas, composition=inputs.gas_composition, equation=working,
                     inputs={"volume_ft3": volume, "pressure_psia": p_a, "temperature_f": t_a})  # fmt: skip


def pneumatic_line(
    group: PneumaticDevices,
    inputs: CalculatorInputs,
    rules: SubpartWRules,
    mass: GasToMass,
    index: int,
) -> Line:
    where = f"pneumatic_devices[{index}]"
    devices = rules.version.pneumatic_devices
    base: dict[str, Any] = {
        "source": PNEUMATICS,
        "unit": group.kind,
        "detail": f"{group.count} device(s)",
        "citation": devices.citation,
    }
    if group.vented is not None:
        gas = units.standard_volume_scf(group.vented, field=f"{where}.vented")
        return mass.line(**base, basis="measured", gas_scf=gas, composition=inputs.gas_composition,
                         equation=f"E = metered {gas:,.1f} scf", inputs={"vented_scf": gas})  # fmt: skip
    table = devices.factors_scfh_per_device.get(inputs.facility.segment)
    factor = table.factor(group.kind) if table is not None else None
    if table is None or factor is None:
        cited = table.citation if table is not None else "no table"
        return Line(**base, basis="missing", equation="E = count x EF x hours",
                    note=f"population factor for {group.kind} in {inputs.facility.segment} not loaded ({cited}); give a metered `vented` volume")  # fmt: skip
    year_hours = hours_in_year(rules.reporting_year)
    hours = group.hours if group.hours is not None else float(year_hours)
    if hours > year_hours:
        raise InputError(
            f"{where}.hours: {hours:g} h is more than the {year_hours} h of {rules.reporting_year}"
        )
    gas = group.count * factor * hours
    note = "" if group.hours is not None else "in service the whole year (hours not given)"
    return mass.line(**{**base, "citation": f"{devices.citation}; {table.citation}"}, basis="estimated", gas_scf=gas,
                     composition=inputs.gas_composition, note=note, inputs={"count": group.count, "ef_scfh": factor, "hours": hours},
                     equation=f"E = {group.count} x {factor:g} scf/h/device x {hours:g} h = {gas:,.1f} scf")  # fmt: skip


def calculate_lines(inputs: CalculatorInputs, rules: SubpartWRules) -> list[Line]:
    """Every Subpart W line of the facility for the reporting year of `rules`."""
    if inputs.facility.segment not in rules.version.segments:
        raise InputError(
            f"facility.segment {inputs.facility.segment} has no rules in {rules.version.id}"
        )
    mass = GasToMass(rules)
    lines = compressor_lines(inputs, rules, mass)
    lines += [blowdown_line(b, inputs, rules, mass, i) for i, b in enumerate(inputs.blowdowns)]
    lines += [
        pneumatic_line(p, inputs, rules, mass, i) for i, p in enumerate(inputs.pneumatic_devices)
    ]
    return lines
