"""Score readings with an exported detector using ONNX Runtime and numpy only (edge-safe)."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import onnxruntime as ort
from numpy.typing import NDArray

from models.errors import InputDataError, ModelExportError

INPUT_NAME = "readings_window"
SCORE_OUTPUT = "score"
DEVIATION_OUTPUT = "feature_deviation"


def sliding_windows(readings: NDArray[np.float64], window_rows: int) -> NDArray[np.float64]:
    """[T, F] -> [T, W, F]: row t gets rows t-W+1 .. t, the first reading standing in before t=0."""
    padded = np.vstack([np.repeat(readings[:1], window_rows - 1, axis=0), readings])
    windows = np.lib.stride_tricks.sliding_window_view(padded, window_rows, axis=0)
    return np.ascontiguousarray(windows.transpose(0, 2, 1))


@dataclass(frozen=True)
class Scores:
    """Per-row anomaly score and per-column deviation (robust z units) of the latest mean."""

    score: NDArray[np.float64]
    deviation: NDArray[np.float64]


class OnnxDetector:
    """An exported detector loaded into ONNX Runtime."""

    def __init__(self, model_bytes: bytes, *, batch_rows: int = 4096) -> None:
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1  # predictable on a 2-core gateway
        try:
            self._session = ort.InferenceSession(
                model_bytes, sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # ORT raises its own untyped exceptions
            raise ModelExportError(f"ONNX Runtime refused the model: {exc}") from exc
        shape = self._session.get_inputs()[0].shape
        self.window_rows = int(shape[1])
        self.n_columns = int(shape[2])
        meta = self._session.get_modelmeta().custom_metadata_map
        self.columns: list[str] = json.loads(meta.get("altaviz.columns", "[]"))
        self.threshold = float(meta.get("altaviz.threshold", "inf"))
        self.min_run = int(meta.get("altaviz.min_run", "1"))
        self._batch_rows = batch_rows

    def score_windows(self, windows: NDArray[np.float64]) -> Scores:
        """Score already-built windows [N, W, F] (the edge keeps a ring buffer of W readings)."""
        score, deviation = self._session.run(
            [SCORE_OUTPUT, DEVIATION_OUTPUT], {INPUT_NAME: np.asarray(windows, dtype=np.float64)}
        )
        return Scores(score=score, deviation=deviation)

    def score_series(self, readings: NDArray[np.float64]) -> Scores:
        """Score every row of a contiguous series [T, F] (history before row 0 = row 0)."""
        readings = np.asarray(readings, dtype=np.float64)
        if readings.ndim != 2 or readings.shape[1] != self.n_columns or len(readings) == 0:
            raise InputDataError(
                f"expected a non-empty [rows, {self.n_columns}] array, got shape {readings.shape}"
            )
        windows = sliding_windows(readings, self.window_rows)
        parts = [
            self.score_windows(windows[start : start + self._batch_rows])
            for start in range(0, len(windows), self._batch_rows)
        ]
        return Scores(
            score=np.concatenate([part.score for part in parts]),
            deviation=np.concatenate([part.deviation for part in parts]),
        )
