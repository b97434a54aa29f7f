"""Read any CSV of numeric sensor series: separator sniffing, numeric columns, NaN/inf cleanup."""

from __future__ import annotations

import csv
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from models.errors import InputDataError, InputFileError

logger = logging.getLogger(__name__)


def detect_separator(path: Path) -> str:
    """`;` or `,` (or tab), judged from the first lines of the file."""
    try:
        with path.open(encoding="utf-8", errors="replace") as handle:
            sample = "".join(handle.readline() for _ in range(5))
    except OSError as exc:
        raise InputFileError(f"cannot read {path}: {exc}") from exc
    if not sample.strip():
        raise InputDataError(f"{path} is empty")
    try:
        return csv.Sniffer().sniff(sample, delimiters=";,\t").delimiter
    except csv.Error:
        return max(";,\t", key=sample.count)


def read_table(path: Path) -> pd.DataFrame:
    """The whole CSV as read by pandas, with the detected separator."""
    if not path.is_file():
        raise InputFileError(f"file not found: {path}")
    separator = detect_separator(path)
    try:
        return pd.read_csv(path, sep=separator)
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise InputDataError(f"cannot parse {path} as CSV: {exc}") from exc


def sensor_columns(frame: pd.DataFrame, requested: list[str] | None) -> list[str]:
    """Requested columns (coerced to numbers), or every numeric column that is not a counter."""
    if requested:
        missing = [name for name in requested if name not in frame.columns]
        if missing:
            raise InputDataError(f"columns not in the file: {missing}")
        return list(requested)
    numeric = [name for name in frame.columns if pd.api.types.is_numeric_dtype(frame[name])]
    numeric = [name for name in numeric if frame[name].notna().any()]
    counters = [name for name in numeric if _is_counter(frame[name])]
    if counters:
        logger.warning("ignoring strictly increasing columns (time or row counters): %s", counters)
        numeric = [name for name in numeric if name not in counters]
    if not numeric:
        raise InputDataError("the file has no numeric columns (name them with --columns)")
    return numeric


def _is_counter(values: pd.Series) -> bool:
    """A strictly increasing column is a clock or row number, not a sensor."""
    present = values.dropna()
    return len(present) > 2 and bool((present.diff().iloc[1:] > 0).all())


def clean_readings(frame: pd.DataFrame, columns: list[str], *, label: str) -> np.ndarray:
    """Numeric matrix with NaN/inf imputed (carry forward, then back); warns how many."""
    values = frame[columns].apply(pd.to_numeric, errors="coerce").replace([np.inf, -np.inf], np.nan)
    empty = [name for name in columns if values[name].isna().all()]
    if empty:
        raise InputDataError(f"{label}: columns with no usable numbers: {empty}")
    bad = int(values.isna().sum().sum())
    if bad:
        logger.warning(
            "%s: %d missing, non-numeric or infinite values imputed from neighbouring rows",
            label, bad,
        )  # fmt: skip
        values = values.ffill().bfill()
    return values.to_numpy(dtype=np.float64)
