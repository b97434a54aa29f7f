"""`altaviz-hub compliance calculate`: an inputs file in, JSON out; no lake, no database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from hub.cli import main
from tests.hub.compliance.factories import facility_document, recip


def _write(tmp_path: Path, document: dict[str, object], name: str = "inputs.yaml") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document) if name.endswith(".json") else yaml.safe_dump(document))
    return path


def test_calculate_prints_cited_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    unit = recip("C-1", {"operating": 100.0, "standby_pressurized": 0.0, "not_operating_depressurized": 0.0},
                 ("operating", "10 scfh"))  # fmt: skip
    path = _write(tmp_path, facility_document(compressors=[unit]), "inputs.json")
    assert main(["compliance", "calculate", "--inputs", str(path), "--year", "2025"]) == 0
    printed = json.loads(capsys.readouterr().out)
    # 10 scfh x 100 h = 1,000 scf -> CH4 14.976 kg, CO2 0.526 kg, CO2e 0.526 + 28 x 14.976 = 419.854 kg.
    assert printed["totals"] == {
        "ch4_t": 0.015, "co2_t": 0.001, "co2e_t": 0.42, "complete": True,
        "by_source": {"reciprocating_compressor_venting": {"ch4_t": 0.015, "co2_t": 0.001, "co2e_t": 0.42, "missing_inputs": 0}},
    }  # fmt: skip
    assert printed["rule_version"]["id"] == "subpart-w-2025"
    assert all(x["citation"] and x["equation"] for x in printed["lines"])


def test_a_year_without_rules_exits_2_with_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, facility_document())
    assert main(["compliance", "calculate", "--inputs", str(path), "--year", "2031"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "no Subpart W rules are loaded for reporting year 2031" in captured.err


def test_an_unreadable_or_invalid_file_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["compliance", "calculate", "--inputs", str(tmp_path / "nope.yaml"), "--year", "2025"])
        == 2
    )
    assert "cannot read" in capsys.readouterr().err
    broken = facility_document()
    del broken["gas_composition"]
    path = _write(tmp_path, broken)
    assert main(["compliance", "calculate", "--inputs", str(path), "--year", "2025"]) == 2
    assert "gas_composition: Field required" in capsys.readouterr().err


def test_the_calculator_loads_no_lake_and_no_database(tmp_path: Path) -> None:
    import subprocess
    import sys

    path = _write(tmp_path, facility_document())
    probe = (
        "import sys; from hub.cli import main; "
        f"code = main(['compliance', 'calculate', '--inputs', {str(path)!r}, '--year', '2025']); "
        "loaded = [m for m in ('pyspark', 'delta', 'sqlalchemy', 'hub.lakehouse', 'hub.db') if m in sys.modules]; "
        "print('LOADED', loaded, file=sys.stderr); sys.exit(code)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "LOADED []" in done.stderr
