"""`altaviz-sim` commands: output, exit codes and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from shared.fleet import parse_fleet
from simulator.cli import main


def test_generate_writes_a_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    assert (
        main(
            [
                "generate",
                "--scenario",
                "healthy",
                "--duration",
                "2h",
                "--resolution",
                "5m",
                "--seed",
                "4",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "wrote 240 readings of 10 compressors (healthy, seed 4)" in printed
    assert json.loads((out / "run.json").read_text())["seed"] == 4
    # a second run needs --force
    assert main(["generate", "--duration", "1h", "--out", str(out)]) == 1
    assert "not empty" in capsys.readouterr().err
    assert (
        main(
            [
                "generate",
                "--duration",
                "1h",
                "--out",
                str(out),
                "--force",
                "--station",
                "BN-FTWORTH",
            ]
        )
        == 0
    )
    assert "of 2 compressors" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "problem"),
    [
        (["generate", "--scenario", "nope", "--out", "x"], "scenario 'nope': neither a built-in"),
        (["generate", "--duration", "forever", "--out", "x"], "not a duration"),
        (["generate", "--start", "tomorrow", "--out", "x"], "--start"),
        (["generate", "--fleet", "/nonexistent.yaml", "--out", "x"], "cannot read fleet file"),
        (["generate", "--station", "NOWHERE", "--out", "x"], "not in the fleet"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(
    argv: list[str],
    problem: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    code = main(argv)
    err = capsys.readouterr().err.strip().splitlines()
    assert (
        code in (1, 2)
        and len(err) == 1
        and err[0].startswith("altaviz-sim: error:")
        and problem in err[0]
    )
    assert code == 2 or "not in the fleet" in problem


def test_stream_prints_json_lines(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(
            [
                "stream",
                "--station",
                "EF-KARNES",
                "--speed",
                "600",
                "--interval",
                "60",
                "--limit",
                "7",
                "--start",
                "2026-07-06T00:00:00Z",
            ]
        )
        == 0
    )
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 7
    first = json.loads(lines[0])
    assert first["station_id"] == "EF-KARNES" and first["timestamp"] == "2026-07-06T00:00:00Z"
    assert first["operating_state"] == "running" and first["gas_flow_mcf_quality"] == 0
    assert [json.loads(line)["compressor_id"] for line in lines[:4]] == [
        "COMP-001",
        "COMP-002",
        "COMP-003",
        "COMP-001",
    ]


def test_fleet_prints_the_expanded_fleet(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["fleet", "--fleet", str(Path(__file__).parents[2] / "config" / "fleet-1000.yaml")])
        == 0
    )
    document = yaml.safe_load(capsys.readouterr().out)
    assert parse_fleet(document, source="printed").compressor_count == 1000


def test_scenario_lists_and_prints(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenario"]) == 0
    assert "prototype-7day:" in capsys.readouterr().out
    assert main(["scenario", "prototype-7day"]) == 0
    assert (
        yaml.safe_load(capsys.readouterr().out)["equipment_faults"][0]["compressor"] == "COMP-003"
    )


def test_serve_modbus_refuses_bad_fault_options(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve-modbus", "--timeout-unit", "EF-KARNES", "--duration", "0"]) == 1
    assert "use STATION:UNIT" in capsys.readouterr().err
