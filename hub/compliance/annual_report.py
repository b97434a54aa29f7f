"""PHMSA annual report (49 CFR 191.17) data: what the hub fills, the rest "to be supplied".

Field labels paraphrase the parts of Form PHMSA F 7100.2-1 as far as this module knows
them; the operator checks them against the current form instructions before filing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from hub.compliance import rules as rule_data
from hub.compliance.errors import InputError
from hub.compliance.phmsa import Condition, Screening

TO_BE_SUPPLIED = "to be supplied"

#: Fields the hub has no data for (pipe, not compressors): the operator supplies them.
OPERATOR_FIELDS = (
    ("Part A", "Operator identification number (OPID)"),
    ("Part A", "Commodity group and interstate / intrastate"),
    ("Part B", "Miles of pipe in high consequence areas (HCAs)"),
    ("Part D", "Miles of pipe by material and corrosion protection"),
    ("Part F/G", "Integrity assessments and repairs in the year (miles, method)"),
    ("Part H", "Miles of pipe by nominal diameter"),
    ("Part J", "Miles of pipe by decade of installation"),
    ("Part K", "Miles of pipe by percent of SMYS"),
    ("Part L", "Miles of pipe by class location"),
    ("Part M", "Failures, leaks and repairs by cause"),
    ("Part Q", "Gas gathering: Type A/B/C miles (if any)"),
    ("Part N", "Preparer and authorized signature"),
)


@dataclass(frozen=True)
class AnnualField:
    part: str
    field: str
    value: str
    source: str


def annual_report_fields(
    *,
    operator: str,
    year: int,
    stations: Sequence[str],
    compressor_count: int,
    screenings: Sequence[Screening],
    conditions: Sequence[Condition],
    form: str = "transmission",
) -> list[AnnualField]:
    """The rows of the PHMSA annual-report data export for a calendar year.

    `form`: "transmission" (F 7100.2-1: transmission and Type A/B/C gathering) or
    "gathering_type_r" (F 7100.2-3: Type R reporting-regulated gathering).
    """
    report = rule_data.phmsa_file().annual_report
    if form not in report.forms:
        raise InputError(f"form {form!r} is not one of {sorted(report.forms)}")
    month, day = (int(x) for x in report.due_month_day.split("-"))
    in_year = [s for s in screenings if s.event.occurred_at.year == year]
    hub = "hub"
    rows = [
        AnnualField("-", "Form", report.forms[form], report.citation),
        AnnualField("-", "Calendar year", str(year), hub),
        AnnualField("-", "Due", date(year + 1, month, day).isoformat(), report.citation),
        AnnualField("Part A", "Operator name", operator or TO_BE_SUPPLIED, hub if operator else TO_BE_SUPPLIED),
        AnnualField("Part A", "Compressor stations in the hub", str(len(stations)), hub),
        AnnualField("Part A", "Compressor stations (ids)", " ".join(sorted(stations)), hub),
        AnnualField("Part A", "Compressors monitored", str(compressor_count), hub),
        AnnualField("Part M", "Events screened against 49 CFR 191.3", str(len(in_year)), hub),
        AnnualField("Part M", "Reportable incidents (screened yes)", str(sum(s.reportable == "yes" for s in in_year)), hub),
        AnnualField("Part M", "Events with undetermined screening", str(sum(s.reportable == "undetermined" for s in in_year)), hub),
        AnnualField("Part F/G", "Integrity conditions discovered (192.933)", str(sum(c.discovered_on.year == year for c in conditions)), hub),
    ]  # fmt: skip
    rows += [
        AnnualField(part, label, TO_BE_SUPPLIED, TO_BE_SUPPLIED) for part, label in OPERATOR_FIELDS
    ]
    return rows
