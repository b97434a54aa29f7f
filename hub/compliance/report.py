"""A facility-year result: lines, totals by source, missing inputs, threshold, rule version."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from hub.compliance import rules as rule_data
from hub.compliance.errors import InputError
from hub.compliance.rules import SubpartWRules
from hub.compliance.schemas import CalculatorInputs
from hub.compliance.subpart_w import SOURCES, Line, calculate_lines

#: Sources a facility's threshold also counts but this calculator does not compute.
NOT_INCLUDED = (
    "stationary combustion (Subpart C; 40 CFR 98.233(z) for gathering & boosting): supply fuel use",
    "equipment leaks (40 CFR 98.233(q)/(r)), dehydrators, storage tanks, flares and other Subpart W sources",
)


@dataclass(frozen=True)
class Totals:
    ch4_t: float
    co2_t: float
    co2e_t: float


@dataclass(frozen=True)
class FacilityResult:
    inputs: CalculatorInputs
    rules: SubpartWRules
    lines: list[Line]

    @property
    def missing(self) -> list[Line]:
        return [line for line in self.lines if line.basis == "missing"]

    def totals(self, source: str | None = None) -> Totals:
        picked = [x for x in self.lines if x.has_numbers and (source is None or x.source == source)]
        return Totals(
            ch4_t=sum(x.ch4_t or 0.0 for x in picked),
            co2_t=sum(x.co2_t or 0.0 for x in picked),
            co2e_t=sum(x.co2e_t or 0.0 for x in picked),
        )

    def threshold_status(self) -> str:
        """above | below | incomplete (below so far, with inputs missing)."""
        total = self.totals().co2e_t
        if total >= self.rules.threshold.co2e_t:
            return "above"
        return "incomplete" if self.missing else "below"

    def basis_counts(self) -> dict[str, int]:
        counts = {"measured": 0, "estimated": 0, "missing": 0, "not_applicable": 0}
        for line in self.lines:
            counts[line.basis] += 1
        return counts


def calculate(inputs: CalculatorInputs, *, year: int) -> FacilityResult:
    """The facility's Subpart W result for a reporting year (rules selected by that year)."""
    if inputs.reporting_year is not None and inputs.reporting_year != year:
        raise InputError(f"the inputs are for reporting year {inputs.reporting_year}, not {year}")
    rules = rule_data.subpart_w(year)
    return FacilityResult(inputs=inputs, rules=rules, lines=calculate_lines(inputs, rules))


def _t(value: float | None) -> float | None:
    """Tonnes to the kilogram."""
    return None if value is None else round(value, 3)


def _line(line: Line) -> dict[str, Any]:
    out = asdict(line)
    for key in ("ch4_t", "co2_t", "co2e_t"):
        out[key] = _t(out[key])
    out["gas_scf"] = None if line.gas_scf is None else round(line.gas_scf, 1)
    return out


def _by_source(result: FacilityResult, source: str) -> dict[str, Any]:
    """A source's totals; null (not 0) when every line of it lacks an input."""
    lines = [x for x in result.lines if x.source == source]
    missing = sum(x.basis == "missing" for x in lines)
    if not any(x.has_numbers for x in lines):
        return {"ch4_t": None, "co2_t": None, "co2e_t": None, "missing_inputs": missing}
    totals = {k: _t(v) for k, v in asdict(result.totals(source)).items()}
    return {**totals, "missing_inputs": missing}


def as_json(result: FacilityResult) -> dict[str, Any]:
    """What `altaviz-hub compliance calculate` prints."""
    version, gwp, threshold = result.rules.version, result.rules.gwp, result.rules.threshold
    total = result.totals()
    missing = [f"{x.source} {x.unit} ({x.detail}): {x.note}" for x in result.missing]
    return {
        "facility": result.inputs.facility.model_dump(mode="json", exclude={"atmosphere"}),
        "reporting_year": result.rules.reporting_year,
        "rule_version": {"id": version.id, "title": version.title, "pending": version.pending},
        "gwp": {"co2": gwp.co2, "ch4": gwp.ch4, "n2o": gwp.n2o, "citation": gwp.citation, "status": gwp.status},
        "gas_composition": result.inputs.gas_composition.model_dump(),
        "lines": [_line(x) for x in result.lines],
        "totals": {
            "ch4_t": _t(total.ch4_t), "co2_t": _t(total.co2_t), "co2e_t": _t(total.co2e_t),
            "complete": not missing,
            "by_source": {s: _by_source(result, s) for s in SOURCES if any(x.source == s for x in result.lines)},
        },
        "inputs_basis": result.basis_counts(),
        "missing_inputs": missing,
        "threshold": {
            "co2e_t": threshold.co2e_t, "citation": threshold.citation, "status": result.threshold_status(),
            "note": "counts only the sources computed here; see not_included",
        },
        "not_included": list(NOT_INCLUDED),
    }  # fmt: skip
