"""docs/compliance.md's example: config/compliance-example.yaml and the figures the doc quotes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from hub.cli import main
from hub.compliance.report import as_json, calculate
from hub.compliance.schemas import load_inputs
from tests.hub.compliance.conftest import REPO

EXAMPLE = REPO / "config" / "compliance-example.yaml"


def test_the_documented_example() -> None:
    result = as_json(calculate(load_inputs(EXAMPLE), year=2025))
    totals = result["totals"]
    assert (totals["ch4_t"], totals["co2_t"], totals["co2e_t"]) == (14.122, 0.595, 396.002)
    assert result["threshold"]["status"] == "incomplete"
    assert result["missing_inputs"] == [
        "reciprocating_compressor_venting COMP-003 (not_operating_depressurized mode): hours in not_operating_depressurized mode not given"
    ]
    lines = {(x["unit"], x["detail"]): x for x in result["lines"]}
    assert (
        lines["COMP-001", "operating mode"]["gas_scf"],
        lines["COMP-001", "operating mode"]["ch4_t"],
    ) == (97_200.0, 1.456)
    blowdown = next(x for x in result["lines"] if x["unit"] == "BD-2025-03")
    assert blowdown["gas_scf"] == 14_403.4 and blowdown["inputs"]["pressure_psia"] == pytest.approx(
        364.5
    )
    doc = (REPO / "docs" / "compliance.md").read_text()
    assert "**396.002 t CO2e**" in doc and "14,403.4 scf" in doc and "1.456 t CH4" in doc


def test_screen_incident_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    event = {"id": "EV-9", "station_id": "EF-KARNES", "occurred_at": "2023-09-01T08:00:00Z",
             "confirmed_discovery_at": "2023-09-01T09:00:00Z", "property_damage_usd": 150000,
             "fatalities": 0, "inpatient_injuries": 0, "gas_released": "0.2 MMscf", "release_intentional": False}  # fmt: skip
    path = tmp_path / "event.yaml"
    path.write_text(yaml.safe_dump(event))
    assert (
        main(["compliance", "screen-incident", "--event", str(path), "--out", str(tmp_path)]) == 0
    )
    printed = json.loads(capsys.readouterr().out)
    # $150,000 >= $139,700 (in force from 1 Jul 2023): an incident.
    assert printed["incident"] == "yes"
    assert [c["name"] for c in printed["clocks"]] == [
        "telephonic_notice",
        "telephonic_update",
        "written_report",
    ]
    assert (tmp_path / "incident-screening-EV-9.pdf").stat().st_size > 1000
