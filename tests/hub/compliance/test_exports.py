"""Exports: what an operator opens (CSV, PDF text, e-GGRT JSON/XML) lists methods,
citations and which inputs were measured, estimated or missing."""

from __future__ import annotations

import csv
import json
import xml.etree.ElementTree as ET
from pathlib import Path

from pypdf import PdfReader

from hub.compliance.annual_report import annual_report_fields
from hub.compliance.exports import phmsa_annual_csv, write_facility_exports
from hub.compliance.pdf import incident_pdf
from hub.compliance.phmsa import IncidentEvent, screen_incident
from hub.compliance.report import calculate
from hub.compliance.schemas import validate_inputs
from tests.hub.compliance.factories import facility_document, recip

HOURS = {"operating": 100.0, "standby_pressurized": 0.0, "not_operating_depressurized": 0.0}


def _result():  # type: ignore[no-untyped-def]
    document = facility_document(
        compressors=[recip("C-1", HOURS, ("operating", "10 scfh"))],
        blowdowns=[{"id": "BD-9", "at": "2025-04-01T00:00:00Z", "volume": "600 ft3"}],
    )
    return calculate(validate_inputs(document), year=2025)


def _pdf_text(path: Path) -> str:
    return " ".join(page.extract_text() for page in PdfReader(path).pages)


def test_facility_exports(tmp_path: Path) -> None:
    paths = write_facility_exports(_result(), tmp_path)
    assert [p.name for p in paths] == [
        "subpart-w-EF-KARNES-2025.csv", "subpart-w-EF-KARNES-2025.pdf",
        "subpart-w-EF-KARNES-2025-eggrt.json", "subpart-w-EF-KARNES-2025-eggrt.xml",
    ]  # fmt: skip
    rows = list(csv.DictReader(paths[0].open()))
    by_unit = {
        r["unit"]: r
        for r in rows
        if r["detail"] != "standby_pressurized mode" and "not_operating" not in r["detail"]
    }
    assert by_unit["C-1"]["basis"] == "measured" and by_unit["C-1"]["ch4_t"] == "0.015"
    assert by_unit["BD-9"]["basis"] == "missing" and by_unit["BD-9"]["ch4_t"] == ""
    assert rows[-1]["source"] == "TOTAL" and rows[-1]["basis"] == "incomplete"
    text = _pdf_text(paths[1])
    assert "subpart-w-2025" in text and "98.233(p)" in text
    assert "MISSING: blowdown_vent_stacks BD-9" in text
    assert "measured 3, estimated 0, missing 1" in text
    document = json.loads(paths[2].read_text())
    assert document["ReportingYear"] == 2025 and document["InputsBasis"]["missing"] == 1
    types = [s["EmissionSourceType"] for s in document["EmissionSources"]]
    assert types == [
        "Blowdown Vent Stacks [98.233(i)]",
        "Reciprocating Compressor Venting [98.233(p)]",
    ]
    root = ET.parse(paths[3]).getroot()
    assert root.findtext("ReportingYear") == "2025"
    assert root.findtext("EmissionSources/EmissionSource/Lines/Line/InputBasis") == "missing"


def test_incident_record_pdf_and_phmsa_annual_csv(tmp_path: Path) -> None:
    event = IncidentEvent.model_validate({
        "id": "EV-7", "station_id": "EF-KARNES", "occurred_at": "2023-08-01T10:00:00Z",
        "confirmed_discovery_at": "2023-08-01T10:30:00Z", "gas_released": "4 MMscf", "release_intentional": False,
    })  # fmt: skip
    screening = screen_incident(event)
    text = _pdf_text(incident_pdf(screening, tmp_path))
    assert "Incident under 49 CFR 191.3: YES" in text
    assert "property_damage_usd: MISSING" in text
    assert "written_report: due 2023-08-31T10:30:00+00:00" in text
    fields = annual_report_fields(operator="", year=2023, stations=["EF-KARNES"], compressor_count=3,
                                  screenings=[screening], conditions=[])  # fmt: skip
    rows = list(csv.DictReader(phmsa_annual_csv(fields, tmp_path, org_id="demo", year=2023).open()))
    assert {
        "part": "Part A",
        "field": "Operator name",
        "value": "to be supplied",
        "source": "to be supplied",
    } in rows
