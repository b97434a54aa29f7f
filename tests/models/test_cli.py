"""`altaviz-models score-csv` on small synthetic CSVs, including the error paths."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from models.cli import main
from tests.models.conftest import make_sensor_series


def _write_sensor_csv(path: Path, *, separator: str = ";", rows: int = 500) -> pd.DataFrame:
    readings = make_sensor_series(rows, anomaly=slice(400, 450))
    frame = pd.DataFrame(readings, columns=["suction_psi", "discharge_psi", "vibration_ips"])
    frame.insert(0, "timestamp", pd.date_range("2026-01-01", periods=rows, freq="s").astype(str))
    frame.insert(1, "row_number", np.arange(rows))
    frame["site"] = "permian-07"
    frame.to_csv(path, sep=separator, index=False)
    return frame


@pytest.mark.parametrize("separator", [";", ","])
def test_score_csv_fits_on_first_rows_and_flags_the_shift(tmp_path: Path, separator: str) -> None:
    source = tmp_path / "readings.csv"
    _write_sensor_csv(source, separator=separator)
    out = tmp_path / "scored.csv"
    args = ["score-csv", "--input", str(source), "--fit-rows", "300", "--out", str(out)]
    assert main(args) == 0
    scored = pd.read_csv(out)
    assert list(scored.columns) == ["timestamp", "row_number", "site", "score", "flag", "fit_row"]
    assert len(scored) == 500
    assert scored["fit_row"].sum() == 300
    assert scored["flag"].iloc[410:450].mean() > 0.9
    assert scored["flag"].iloc[300:400].mean() < 0.05


def test_score_csv_with_a_separate_normal_file_and_named_columns(tmp_path: Path) -> None:
    normal, source, out = tmp_path / "normal.csv", tmp_path / "in.csv", tmp_path / "out.csv"
    _write_sensor_csv(normal, separator=",", rows=300)
    _write_sensor_csv(source)
    args = ["score-csv", "--input", str(source), "--normal", str(normal), "--out", str(out)]
    assert main([*args, "--columns", "suction_psi", "discharge_psi"]) == 0
    scored = pd.read_csv(out)
    assert "vibration_ips" in scored.columns  # not scored, passed through
    assert scored["fit_row"].sum() == 0


def test_non_finite_values_are_imputed_with_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source, out = tmp_path / "gappy.csv", tmp_path / "out.csv"
    frame = _write_sensor_csv(source)
    frame.loc[10, "suction_psi"] = np.nan
    frame.loc[420, "discharge_psi"] = np.inf
    frame.to_csv(source, sep=";", index=False)
    assert main(["score-csv", "--input", str(source), "--fit-rows", "300", "--out", str(out)]) == 0
    assert "2 missing, non-numeric or infinite values imputed" in capsys.readouterr().err
    assert np.isfinite(pd.read_csv(out)["score"]).all()


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "models.cli", *args]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def test_errors_are_one_line_with_an_exit_code(tmp_path: Path) -> None:
    out = str(tmp_path / "out.csv")
    missing = _run(
        "score-csv", "--input", str(tmp_path / "nope.csv"), "--fit-rows", "50", "--out", out
    )
    assert missing.returncode == 3
    assert missing.stderr.strip().startswith("altaviz-models: error: file not found")

    words = tmp_path / "words.csv"
    words.write_text("site;state\npermian;running\nhaynesville;idle\n")
    no_numbers = _run("score-csv", "--input", str(words), "--fit-rows", "1", "--out", out)
    assert no_numbers.returncode == 4
    assert "no numeric columns" in no_numbers.stderr

    small = tmp_path / "small.csv"
    _write_sensor_csv(small, rows=40)
    too_few = _run("score-csv", "--input", str(small), "--fit-rows", "20", "--out", out)
    assert too_few.returncode == 4
    assert "too few" in too_few.stderr
    beyond = _run("score-csv", "--input", str(small), "--fit-rows", "400", "--out", out)
    assert beyond.returncode == 4
    assert "exceeds" in beyond.stderr


def test_auto_columns_missing_from_the_normal_file_are_not_scored(tmp_path: Path) -> None:
    normal, source, out = tmp_path / "normal.csv", tmp_path / "in.csv", tmp_path / "out.csv"
    _write_sensor_csv(normal, rows=300)
    labelled = _write_sensor_csv(source).assign(anomaly=0)
    labelled.to_csv(source, sep=";", index=False)
    assert (
        main(["score-csv", "--input", str(source), "--normal", str(normal), "--out", str(out)]) == 0
    )
    scored = pd.read_csv(out)
    assert "anomaly" in scored.columns  # passed through, not used as a sensor
    assert scored["flag"].iloc[410:450].mean() > 0.9
