"""C-MAPSS FD001: reading, causal features, and a small unit-wise CV run on real engines."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from models.cli import main
from models.cmapss import run_benchmark
from models.cmapss_data import informative_sensors, read_cmapss, remaining_life
from models.cmapss_features import build_features, engine_bounds, index_features, per_engine, slope
from models.cmapss_model import HealthIndex
from models.errors import InputDataError, InputFileError


def test_reader_and_target(cmapss_dir: Path) -> None:
    train = read_cmapss(cmapss_dir / "train_FD001.txt")
    assert train["unit"].nunique() == 100
    rul = remaining_life(train)
    last_rows = train.groupby("unit")["cycle"].idxmax()
    assert (rul[last_rows] == 0).all()
    sensors = informative_sensors(train)
    assert "s1" not in sensors and "s2" in sensors and len(sensors) == 14


def test_features_are_causal(cmapss_dir: Path) -> None:
    train = read_cmapss(cmapss_dir / "train_FD001.txt")
    engines = train[train["unit"].isin([1, 2])].reset_index(drop=True)
    sensors = informative_sensors(train)
    full = build_features(engines, sensors)
    truncated = engines[(engines["unit"] == 2) | (engines["cycle"] <= 60)].reset_index(drop=True)
    cut = build_features(truncated, sensors)
    row_full = full[(engines["unit"] == 1) & (engines["cycle"] == 60)]
    row_cut = cut[(truncated["unit"] == 1) & (truncated["cycle"] == 60)]
    np.testing.assert_allclose(row_full.to_numpy(), row_cut.to_numpy())


def test_slope_matches_least_squares_fit() -> None:
    rng = np.random.default_rng(0)
    y = rng.normal(size=(40, 2)).cumsum(axis=0)
    for window in (5, 50, None):
        got = slope(window)(y)
        for t in (1, 4, 20, 39):
            lo = 0 if window is None else max(0, t + 1 - window)
            x = np.arange(lo, t + 1)
            expected = np.polyfit(x, y[lo : t + 1, 1], 1)[0]
            np.testing.assert_allclose(got[t, 1], expected, rtol=1e-8, atol=1e-10)
    assert (slope(10)(y)[0] == 0).all()
    with pytest.raises(ValueError, match="contiguous"):
        engine_bounds(np.array([1, 2, 1]))
    bounds = engine_bounds(np.array([1, 1, 2, 2, 2]))
    assert bounds == [(0, 2), (2, 5)]
    np.testing.assert_allclose(
        per_engine(np.ones((5, 1)), bounds, lambda y: np.cumsum(y, axis=0))[:, 0], [1, 2, 1, 2, 3]
    )


def test_health_index_falls_towards_failure_and_its_features_are_causal(cmapss_dir: Path) -> None:
    train = read_cmapss(cmapss_dir / "train_FD001.txt")
    health = HealthIndex(informative_sensors(train), cap=130).fit(train, remaining_life(train))
    index = health.index(train)
    rul = remaining_life(train)
    assert index[rul > 200].mean() > 0.9 and index[rul == 0].mean() < 0.2
    engines = train[train["unit"].isin([1, 2])].reset_index(drop=True)
    truncated = engines[(engines["unit"] == 2) | (engines["cycle"] <= 60)].reset_index(drop=True)
    full = index_features(engines["unit"].to_numpy(), health.index(engines))
    cut = index_features(truncated["unit"].to_numpy(), health.index(truncated))
    row_full = full[((engines["unit"] == 1) & (engines["cycle"] == 60)).to_numpy()]
    row_cut = cut[((truncated["unit"] == 1) & (truncated["cycle"] == 60)).to_numpy()]
    np.testing.assert_allclose(row_full.to_numpy(), row_cut.to_numpy())


def test_reader_errors(tmp_path: Path) -> None:
    with pytest.raises(InputFileError):
        read_cmapss(tmp_path / "missing.txt")
    short = tmp_path / "short.txt"
    short.write_text("1 1 0.0 0.0 100.0\n")
    with pytest.raises(InputDataError, match="columns"):
        read_cmapss(short)


@pytest.mark.slow
def test_cv_on_20_engines_and_100_test_predictions(cmapss_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "rul.csv"
    report = run_benchmark(
        cmapss_dir / "train_FD001.txt", cmapss_dir / "test_FD001.txt", out, folds=4, units=20
    )
    assert report.engines == 20
    assert 5.0 < report.truncated_rmse < 30.0
    assert 3.0 < report.every_cycle_rmse < 30.0
    predictions = pd.read_csv(out)
    assert list(predictions.columns) == ["unit", "rul_pred"]
    assert len(predictions) == 100
    assert predictions["unit"].tolist() == list(range(1, 101))
    assert predictions["rul_pred"].between(0, 200).all()


def test_cli_reports_missing_train_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["benchmark", "cmapss", "--train", str(tmp_path / "no.txt")]
    code = main([*args, "--test", str(tmp_path / "no.txt"), "--out", str(tmp_path / "o.csv")])
    assert code == 3
    assert "not found" in capsys.readouterr().err
