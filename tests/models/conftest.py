"""Fixtures for the models tests: public datasets under ../shared/datasets, and small factories."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DATASETS_ENV = "ALTAVIZ_DATASETS"


def datasets_root() -> Path:
    """`$ALTAVIZ_DATASETS`, else `../shared/datasets` beside the project root."""
    if os.environ.get(DATASETS_ENV):
        return Path(os.environ[DATASETS_ENV])
    return PROJECT_ROOT.parent / "shared" / "datasets"


def require_dataset(name: str, *marker_files: str) -> Path:
    """The dataset directory; skip the test when absent, but fail under CI=true."""
    directory = datasets_root() / name
    missing = [f for f in marker_files if not (directory / f).exists()]
    if directory.is_dir() and not missing:
        return directory
    message = f"public dataset {name!r} not found at {directory} (missing: {missing or 'dir'})"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message + "; CI=true requires it")
    pytest.skip(message)


@pytest.fixture(scope="session")
def skab_dir() -> Path:
    return require_dataset("skab", "valve1/0.csv", "other/2.csv")


@pytest.fixture(scope="session")
def cmapss_dir() -> Path:
    return require_dataset("cmapss", "train_FD001.txt", "test_FD001.txt")


def make_sensor_series(
    rows: int = 600, *, columns: int = 3, anomaly: slice | None = None, seed: int = 0
) -> np.ndarray:
    """Correlated Gaussian sensor readings with an optional level shift in `anomaly` rows."""
    rng = np.random.default_rng(seed)
    mixing = rng.normal(size=(columns, columns))
    readings = rng.normal(size=(rows, columns)) @ mixing + np.arange(1, columns + 1) * 10.0
    if anomaly is not None:
        readings[anomaly] += 4.0 * np.abs(mixing).sum(axis=0)
    return readings
