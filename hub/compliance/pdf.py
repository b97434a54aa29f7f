"""PDF exports (fpdf2): the facility's Subpart W annual summary and an incident screening record.

Each states the rule version it follows, the citation and equation of every line, and
which inputs were measured, estimated or missing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from fpdf import FPDF

from hub.compliance.phmsa import Screening
from hub.compliance.report import NOT_INCLUDED, FacilityResult, as_json


def _text(value: object) -> str:
    """The core PDF fonts are Latin-1: anything else is replaced, not dropped silently."""
    return str(value).encode("latin-1", "replace").decode("latin-1")


class _Document(FPDF):
    def __init__(self, title: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.set_title(_text(title))
        self.set_creator("Altaviz hub (hub.compliance)")
        self.set_auto_page_break(auto=True, margin=15)
        self.add_page()
        self.set_font("Helvetica", "B", 14)
        self.multi_cell(0, 7, _text(title), new_x="LMARGIN", new_y="NEXT")
        self.set_font("Helvetica", size=8)
        self.multi_cell(
            0,
            4,
            _text(f"Generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"),
            new_x="LMARGIN",
            new_y="NEXT",
        )
        self.ln(2)

    def heading(self, text: str) -> None:
        self.ln(2)
        self.set_font("Helvetica", "B", 11)
        self.multi_cell(0, 6, _text(text), new_x="LMARGIN", new_y="NEXT")
        self.set_font("Helvetica", size=9)

    def para(self, text: str, *, bold: bool = False) -> None:
        self.set_font("Helvetica", "B" if bold else "", 9)
        self.multi_cell(0, 4.5, _text(text), new_x="LMARGIN", new_y="NEXT")


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:,.3f}"


def facility_pdf(result: FacilityResult, out_dir: Path) -> Path:
    data = as_json(result)
    facility = result.inputs.facility
    year = data["reporting_year"]
    doc = _Document(
        f"EPA 40 CFR 98 Subpart W - {facility.name or facility.id} - reporting year {year}"
    )
    doc.para(
        f"Facility {facility.id}; industry segment {facility.segment}; operator {facility.operator or '(not given)'}"
    )
    doc.para(f"Rule version: {data['rule_version']['title']} [{data['rule_version']['id']}]")
    if data["rule_version"]["pending"]:
        doc.para(f"Pending: {data['rule_version']['pending']}")
    gwp = data["gwp"]
    doc.para(
        f"GWP: CO2 {gwp['co2']:g}, CH4 {gwp['ch4']:g}, N2O {gwp['n2o']:g} - {gwp['citation']} ({gwp['status']})"
    )
    gas = data["gas_composition"]
    doc.para(
        f"Gas: CH4 mole fraction {gas['ch4_mole_fraction']:g}, CO2 mole fraction {gas['co2_mole_fraction']:g} {gas['source']}"
    )
    totals = data["totals"]
    doc.heading("Totals (metric tons)")
    doc.para(f"CH4 {_fmt(totals['ch4_t'])}   CO2 {_fmt(totals['co2_t'])}   CO2e {_fmt(totals['co2e_t'])}"
             f"   ({'complete' if totals['complete'] else 'INCOMPLETE: inputs missing'})", bold=True)  # fmt: skip
    for source, row in totals["by_source"].items():
        doc.para(f"  {source}: CH4 {_fmt(row['ch4_t'])}, CO2 {_fmt(row['co2_t'])}, CO2e {_fmt(row['co2e_t'])}"
                 f"; missing inputs {row['missing_inputs']}")  # fmt: skip
    threshold = data["threshold"]
    doc.para(
        f"Threshold {threshold['co2e_t']:,.0f} t CO2e ({threshold['citation']}): {threshold['status']} - {threshold['note']}"
    )
    basis = data["inputs_basis"]
    doc.heading("Inputs: measured, estimated, missing")
    doc.para(
        f"measured {basis['measured']}, estimated {basis['estimated']}, missing {basis['missing']}, not applicable {basis['not_applicable']}"
    )
    for missing in data["missing_inputs"]:
        doc.para(f"MISSING: {missing}")
    doc.heading("Lines: method and citation")
    for line in data["lines"]:
        doc.para(f"{line['source']} / {line['unit']} / {line['detail']} [{line['basis']}]: "
                 f"CH4 {_fmt(line['ch4_t'])} t, CO2 {_fmt(line['co2_t'])} t, CO2e {_fmt(line['co2e_t'])} t", bold=True)  # fmt: skip
        doc.para(f"Method: {line['equation']}")
        doc.para(f"Citation: {line['citation']}")
        if line["note"]:
            doc.para(f"Note: {line['note']}")
    doc.heading("Not included in this calculation")
    for item in NOT_INCLUDED:
        doc.para(f"- {item}")
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"subpart-w-{facility.id}-{year}.pdf"
    doc.output(str(path))
    return path


def incident_pdf(screening: Screening, out_dir: Path, *, now: datetime | None = None) -> Path:
    data = screening.as_json(now)
    event = data["event"]
    doc = _Document(f"PHMSA incident screening record - event {event['id']}")
    doc.para(
        f"Station {event['station_id'] or '(not given)'}; facility kind {event['facility_kind']}; occurred {event['occurred_at']}"
    )
    doc.para(
        f"Confirmed discovery {event['confirmed_discovery_at']}; detected {event['detected_at'] or '(as confirmed discovery)'}"
    )
    if event["description"]:
        doc.para(f"Description: {event['description']}")
    doc.heading(f"Incident under 49 CFR 191.3: {data['incident'].upper()}")
    doc.para(f"Criteria in force on the event date: {data['rule']}")
    for criterion in data["criteria"]:
        doc.para(
            f"{criterion['name']}: {criterion['verdict']} - {criterion['detail']}",
            bold=criterion["verdict"] != "not_met",
        )
        doc.para(f"  {criterion['citation']}")
    doc.heading("Inputs: given or missing")
    for key in (
        "gas_released",
        "release_intentional",
        "property_damage_usd",
        "fatalities",
        "inpatient_injuries",
        "emergency_shutdown",
    ):
        value = event[key]
        doc.para(f"{key}: {'MISSING' if value is None else value}")
    doc.heading("Report clocks")
    if not data["clocks"]:
        doc.para("None: the event does not screen as an incident.")
    for clock in data["clocks"]:
        doc.para(
            f"{clock['name']}: due {clock['due_at']} ({clock['state']}) - {clock['citation']} [{clock['rule_status']}]"
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"incident-screening-{event['id']}.pdf"
    doc.output(str(path))
    return path
