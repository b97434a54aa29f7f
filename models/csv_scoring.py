"""`score-csv`: fit the detector on normal rows of any sensor CSV and score every row."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from models.detector import DetectorConfig, fit_detector
from models.errors import InputDataError
from models.onnx_graph import export_bytes
from models.postprocess import flags_from_scores
from models.runtime import OnnxDetector
from models.sensor_csv import clean_readings, read_table, sensor_columns

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CsvScoreSummary:
    """What `score_csv` did, for the CLI to print."""

    rows: int
    flagged: int
    columns: list[str]
    fit_rows: int
    threshold: float


def _shared_columns(columns: list[str], normal_table: pd.DataFrame, normal: Path) -> list[str]:
    """Auto-detected columns the normal file also has (labels like `anomaly` often are not)."""
    shared = [name for name in columns if name in normal_table.columns]
    if not shared:
        raise InputDataError(f"{normal} has none of the input's numeric columns {columns}")
    if len(shared) < len(columns):
        dropped = [name for name in columns if name not in shared]
        logger.warning("not scoring %s: absent from %s", dropped, normal)
    return shared


def _fit_readings(
    table: pd.DataFrame, columns: list[str], normal: Path | None, fit_rows: int | None
) -> tuple[np.ndarray, int]:
    if normal is not None:
        normal_table = read_table(normal)
        missing = [name for name in columns if name not in normal_table.columns]
        if missing:
            raise InputDataError(f"{normal} lacks the scored columns {missing}")
        readings = clean_readings(normal_table, columns, label=str(normal))
        return readings, 0
    if fit_rows is None:
        raise InputDataError("give either a normal-operation file or a number of fit rows")
    if fit_rows > len(table):
        raise InputDataError(f"--fit-rows {fit_rows} exceeds the {len(table)} rows of the input")
    return clean_readings(table.iloc[:fit_rows], columns, label="fit rows"), fit_rows


def score_csv(
    input_path: Path,
    out_path: Path,
    *,
    normal_path: Path | None = None,
    fit_rows: int | None = None,
    columns: list[str] | None = None,
    config: DetectorConfig | None = None,
) -> CsvScoreSummary:
    """Write the input's non-sensor columns plus `score`, `flag` and `fit_row` to `out_path`."""
    config = config or DetectorConfig()
    table = read_table(input_path)
    if table.empty:
        raise InputDataError(f"{input_path} has no data rows")
    chosen = sensor_columns(table, columns)
    if normal_path is not None and not columns:
        chosen = _shared_columns(chosen, read_table(normal_path), normal_path)
    fit_readings, in_file_fit_rows = _fit_readings(table, chosen, normal_path, fit_rows)
    detector = fit_detector(fit_readings, chosen, config)
    scorer = OnnxDetector(export_bytes(detector))
    readings = clean_readings(table, chosen, label=str(input_path))
    scores = scorer.score_series(readings).score
    flags = flags_from_scores(scores, scorer.threshold, min_run=scorer.min_run)
    passthrough = table[[name for name in table.columns if name not in chosen]]
    result = passthrough.assign(
        score=scores, flag=flags, fit_row=(np.arange(len(table)) < in_file_fit_rows).astype(int)
    )
    out_path.parent.mkdir(parents=True, exist_ok=True)
    result.to_csv(out_path, index=False)
    return CsvScoreSummary(
        rows=len(table), flagged=int(flags.sum()), columns=chosen,
        fit_rows=len(fit_readings), threshold=scorer.threshold,
    )  # fmt: skip
