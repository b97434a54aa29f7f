"""The SKAB outlier-detection protocol end to end on the real benchmark files."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from models.cli import main
from models.detector import DetectorConfig
from models.skab import TRAIN_ROWS, labelled_files, read_experiment, run_benchmark, run_file


def test_protocol_sees_all_34_labelled_files(skab_dir: Path) -> None:
    names = [f"{path.parent.name}/{path.stem}" for path in labelled_files(skab_dir)]
    assert len(names) == 34
    assert "other/2" in names and "valve2/3" in names
    assert not any(name.startswith("anomaly-free") for name in names)


def test_one_file_flags_exactly_its_test_rows(skab_dir: Path) -> None:
    frame = read_experiment(skab_dir / "valve1" / "5.csv")
    result = run_file(frame, "valve1/5", DetectorConfig())
    assert len(result.test_rows) == len(frame) - TRAIN_ROWS
    assert list(result.test_rows.columns) == ["datetime", "score", "flag"]
    assert set(result.test_rows["flag"].unique()) <= {0, 1}
    assert result.test_rows["datetime"].iloc[0] == frame["datetime"].iloc[TRAIN_ROWS]
    counts = result.confusion
    assert counts.tp + counts.fp + counts.fn + counts.tn == len(frame) - TRAIN_ROWS


def test_fit_ignores_labels(skab_dir: Path) -> None:
    frame = read_experiment(skab_dir / "other" / "2.csv")
    shuffled_labels = frame.assign(anomaly=frame["anomaly"].sample(frac=1, random_state=1).values)
    first = run_file(frame, "other/2", DetectorConfig())
    second = run_file(shuffled_labels, "other/2", DetectorConfig())
    pd.testing.assert_series_equal(first.test_rows["score"], second.test_rows["score"])


@pytest.mark.slow
def test_benchmark_meets_the_acceptance_target(skab_dir: Path) -> None:
    pooled = run_benchmark(skab_dir).pooled
    assert pooled.f1 >= 0.80
    assert pooled.far_pct <= 15.0
    assert pooled.tp + pooled.fp + pooled.fn + pooled.tn > 20_000


@pytest.mark.slow
def test_cli_prints_metrics_and_writes_one_csv_per_file(
    skab_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["benchmark", "skab", "--data", str(skab_dir), "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "F1 0.8" in printed and "FAR" in printed and "MAR" in printed
    written = sorted(tmp_path.rglob("*.csv"))
    assert len(written) == 34
    flags = pd.read_csv(tmp_path / "valve1" / "0.csv")
    assert list(flags.columns) == ["datetime", "score", "flag"]
