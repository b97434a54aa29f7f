"""C-MAPSS files: reading, the capped RUL target, and which sensors carry information."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from models.errors import InputDataError, InputFileError

SETTING_COLUMNS = [f"setting_{i}" for i in range(1, 4)]
SENSOR_COLUMNS = [f"s{i}" for i in range(1, 22)]
COLUMNS = ["unit", "cycle", *SETTING_COLUMNS, *SENSOR_COLUMNS]
RUL_CAP = 130


def read_cmapss(path: Path) -> pd.DataFrame:
    """One space-separated C-MAPSS file (26 columns, trailing blanks), sorted by unit and cycle."""
    if not path.is_file():
        raise InputFileError(f"C-MAPSS file not found: {path}")
    try:
        frame = pd.read_csv(path, sep=r"\s+", header=None)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputDataError(f"cannot parse {path}: {exc}") from exc
    if frame.shape[1] != len(COLUMNS):
        raise InputDataError(f"{path} has {frame.shape[1]} columns, C-MAPSS has {len(COLUMNS)}")
    frame.columns = COLUMNS
    if frame.isna().any().any():
        raise InputDataError(f"{path} has missing values")
    frame = frame.astype({"unit": int, "cycle": int})
    return frame.sort_values(["unit", "cycle"], kind="stable").reset_index(drop=True)


def remaining_life(frame: pd.DataFrame) -> np.ndarray:
    """True RUL of each row of a run-to-failure file: last cycle of its unit minus its cycle."""
    last_cycle = frame.groupby("unit")["cycle"].transform("max")
    return (last_cycle - frame["cycle"]).to_numpy()


def informative_sensors(train: pd.DataFrame, *, min_distinct: int = 4) -> list[str]:
    """Sensors that vary in the training file (FD001's flat ones carry no degradation signal)."""
    return [
        name
        for name in SENSOR_COLUMNS
        if train[name].nunique() >= min_distinct and float(train[name].std()) > 0
    ]
