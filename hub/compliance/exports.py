"""Files an operator files or keeps: Subpart W summary CSV, e-GGRT-layout JSON and XML,
PHMSA annual-report data CSV (PDFs are in `pdf`). Each lists every input's basis
(measured, estimated or missing), so nothing is silently zero.
"""

from __future__ import annotations

import csv
import json
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hub.compliance.annual_report import AnnualField
from hub.compliance.report import FacilityResult, as_json

SUMMARY_COLUMNS = (
    "facility_id", "reporting_year", "rule_version", "source", "unit", "detail", "basis",
    "gas_scf", "ch4_t", "co2_t", "co2e_t", "equation", "citation", "note",
)  # fmt: skip
#: e-GGRT's Subpart W reporting form groups emissions by "emission source type".
EGGRT_SOURCE_TYPES = {
    "pneumatic_devices": "Natural Gas Pneumatic Device Venting [98.233(a)]",
    "blowdown_vent_stacks": "Blowdown Vent Stacks [98.233(i)]",
    "centrifugal_compressor_venting": "Centrifugal Compressor Venting [98.233(o)]",
    "reciprocating_compressor_venting": "Reciprocating Compressor Venting [98.233(p)]",
}
LAYOUT_NOTE = (
    "Layout follows the public structure of e-GGRT's Subpart W reporting form (facility, "
    "industry segment, emission source types, CH4 and CO2 in metric tons, calculation method); "
    "it is not the official e-GGRT XML schema."
)


def _name(result: FacilityResult, suffix: str) -> str:
    return f"subpart-w-{result.inputs.facility.id}-{result.rules.reporting_year}{suffix}"


def summary_csv(result: FacilityResult, out_dir: Path) -> Path:
    """One row per line plus a TOTAL row; missing lines have empty numbers and a note."""
    path = out_dir / _name(result, ".csv")
    data = as_json(result)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=SUMMARY_COLUMNS)
        writer.writeheader()
        common = {"facility_id": result.inputs.facility.id, "reporting_year": data["reporting_year"],
                  "rule_version": data["rule_version"]["id"]}  # fmt: skip
        for line in data["lines"]:
            writer.writerow({**common, **{k: line[k] for k in SUMMARY_COLUMNS if k in line}})
        totals = data["totals"]
        writer.writerow({**common, "source": "TOTAL", "basis": "complete" if totals["complete"] else "incomplete",
                         "ch4_t": totals["ch4_t"], "co2_t": totals["co2_t"], "co2e_t": totals["co2e_t"],
                         "note": f"threshold {data['threshold']['co2e_t']:,.0f} t CO2e: {data['threshold']['status']}"})  # fmt: skip
    return path


def eggrt_document(result: FacilityResult) -> dict[str, Any]:
    data = as_json(result)
    facility = result.inputs.facility
    sources = []
    for key, label in EGGRT_SOURCE_TYPES.items():
        lines = [x for x in data["lines"] if x["source"] == key]
        if not lines:
            continue
        sources.append({
            "EmissionSourceType": label,
            "CH4EmissionsMetricTons": data["totals"]["by_source"][key]["ch4_t"],
            "CO2EmissionsMetricTons": data["totals"]["by_source"][key]["co2_t"],
            "Lines": [{"Unit": x["unit"], "Detail": x["detail"], "InputBasis": x["basis"],
                       "CH4MetricTons": x["ch4_t"], "CO2MetricTons": x["co2_t"],
                       "CalculationMethod": x["equation"], "Citation": x["citation"], "Note": x["note"]}
                      for x in lines],
        })  # fmt: skip
    return {
        "LayoutNote": LAYOUT_NOTE,
        "FacilitySiteDetails": {"FacilityName": facility.name or facility.id, "FacilityId": facility.id,
                                "OperatorName": facility.operator},
        "ReportingYear": data["reporting_year"],
        "RuleVersion": data["rule_version"],
        "IndustrySegment": facility.segment,
        "GlobalWarmingPotentials": data["gwp"],
        "EmissionSources": sources,
        "TotalCO2eMetricTons": data["totals"]["co2e_t"],
        "MissingInputs": data["missing_inputs"],
        "InputsBasis": data["inputs_basis"],
    }  # fmt: skip


def eggrt_json(result: FacilityResult, out_dir: Path) -> Path:
    path = out_dir / _name(result, "-eggrt.json")
    path.write_text(json.dumps(eggrt_document(result), indent=2))
    return path


def _xml(parent: ET.Element, name: str, value: Any) -> None:
    if isinstance(value, dict):
        node = ET.SubElement(parent, name)
        for key, item in value.items():
            _xml(node, key, item)
    elif isinstance(value, list):
        node = ET.SubElement(parent, name)
        for item in value:
            _xml(node, name[:-1] if name.endswith("s") else "Item", item)
    else:
        ET.SubElement(parent, name).text = "" if value is None else str(value)


def eggrt_xml(result: FacilityResult, out_dir: Path) -> Path:
    path = out_dir / _name(result, "-eggrt.xml")
    root = ET.Element("SubpartWReport")
    for key, value in eggrt_document(result).items():
        _xml(root, key, value)
    ET.indent(root)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
    return path


def phmsa_annual_csv(
    fields: Sequence[AnnualField], out_dir: Path, *, org_id: str, year: int
) -> Path:
    path = out_dir / f"phmsa-annual-{org_id}-{year}.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["part", "field", "value", "source"])
        for row in fields:
            writer.writerow([row.part, row.field, row.value, row.source])
    return path


def write_facility_exports(result: FacilityResult, out_dir: Path) -> list[Path]:
    """The Subpart W summary CSV and PDF and the e-GGRT-layout JSON and XML."""
    from hub.compliance.pdf import facility_pdf

    out_dir.mkdir(parents=True, exist_ok=True)
    return [
        summary_csv(result, out_dir),
        facility_pdf(result, out_dir),
        eggrt_json(result, out_dir),
        eggrt_xml(result, out_dir),
    ]
